#!lua flags=allow-oom
--[[
  tagBump-3: starts a tag invalidation. Compare-and-set on the tag's epoch: moves the live
  member set aside as the pending set of the closing epoch, which the caller then scans in
  bounded SSCAN steps. Joins that read the old epoch now fail.

  KEYS[1] tag state (hash: e = epoch, c = epochs scanned through)
  KEYS[2] live member set of the tag
  KEYS[3] pending member set of the closing epoch (ARGV[1], or ARGV[3]+1 when the state is new)
  ARGV[1] epoch the caller read ('' = state absent)
  ARGV[2] next epoch (closing epoch + 1, computed by the caller: Lua would round big numbers)
  ARGV[3] scanned-through value to store when the state is created (closing epoch - 1)
  ARGV[4] minimum TTL of the state in ms
  ARGV[5] the closing epoch as a decimal string

  Returns {1, scannedThrough}: scan pending sets scannedThrough+1 .. closing epoch;
          {2} nothing to scan: no member joined since the last invalidation and every earlier
              epoch is scanned, so the epoch moved on and the closing epoch is marked scanned
              (the common case of a hot tag: one round trip, no SSCAN, no retire);
          {0} the epoch moved meanwhile (read it again and retry).
]]
local epoch = redis.call('HGET', KEYS[1], 'e') or ''
if epoch ~= ARGV[1] then return {0} end
local ttl = tonumber(ARGV[4])
if epoch ~= '' and redis.call('EXISTS', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[3]) == 0 then
  local scanned = tonumber(redis.call('HGET', KEYS[1], 'c') or '0') or 0
  -- next epoch - 2 = closing - 1: everything before the closing epoch has been scanned
  if scanned == tonumber(ARGV[2]) - 2 then
    redis.call('HSET', KEYS[1], 'e', ARGV[2], 'c', ARGV[5])
    if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
    return {2}
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('SUNIONSTORE', KEYS[3], KEYS[3], KEYS[2])
    redis.call('DEL', KEYS[2])
  else
    redis.call('RENAME', KEYS[2], KEYS[3])
  end
end
if epoch == '' then
  redis.call('HSET', KEYS[1], 'e', ARGV[2], 'c', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'e', ARGV[2])
end
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, redis.call('HGET', KEYS[1], 'c')}
