#!lua flags=allow-oom
--[[
  namespaceBump-2: bumps namespace N's generation once per (entity, version).
  KEYS[1] ~n{N}  generation counter (INCR)
  KEYS[2] ~nv{N} hash: entity identity -> highest version that bumped N
  ARGV[1] entity identity (the invalidator sends "tenant|entityType|entityId")
  ARGV[2] version (decimal; 0 = unversioned: always bumps)
  ARGV[3] TTL of the version record in ms (never shortened)
  Returns {1, generation} bumped, {0, generation} skipped (duplicate or older).
  allow-oom: an invalidation must land at maxmemory (a few bytes).
]]
local v = tonumber(ARGV[2])
if v > 0 then
  local seen = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
  if seen >= v then return {0, tonumber(redis.call('GET', KEYS[1]) or '0')} end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  local left = redis.call('PTTL', KEYS[2])
  if left < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
end
return {1, redis.call('INCR', KEYS[1])}
