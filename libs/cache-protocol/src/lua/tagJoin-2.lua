#!lua
--[[
  tagJoin-2: adds a key to a tag's live member set, but only if the tag has not been
  invalidated since the caller read its epoch (before loading). A fill that loaded before a
  tag invalidation therefore never joins the set that invalidation no longer scans.

  KEYS[1] tag state (hash: e = epoch, c = epochs scanned through)
  KEYS[2] live member set of the tag
  ARGV[1] epoch the caller read ('*' = any, used by warm; '' = the caller saw no state)
  ARGV[2] member key
  ARGV[3] member TTL in ms (the set and the state live at least as long)
  ARGV[4] with '*' and no state: the epoch to create it with (clock in microseconds)
  ARGV[5] with '*' and no state: its scanned-through (ARGV[4] - 1)

  No allow-oom flag: refused at maxmemory (the fill or warm is then refused or degraded).
  Returns {1, epoch} joined at that epoch (the value records it), {0} the epoch moved (the
  caller must not fill).
]]
local epoch = redis.call('HGET', KEYS[1], 'e') or ''
local ttl = tonumber(ARGV[3])
if ARGV[1] == '*' then
  if epoch == '' then
    epoch = ARGV[4]
    redis.call('HSET', KEYS[1], 'e', epoch, 'c', ARGV[5])
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
elseif epoch ~= ARGV[1] then
  return {0}
end
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
if epoch ~= '' and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, epoch}
