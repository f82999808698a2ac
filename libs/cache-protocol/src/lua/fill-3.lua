#!lua
--[[
  fill-3: stores what a lease holder loaded. Lands only with the caller's live lease (an
  invalidation since leaseGet voided it) and a version not older than the tombstone or the
  stored value. The lease is released either way.

  KEYS[1] value key (K)
  KEYS[2] tombstone of K
  KEYS[3] lease of K
  ARGV[1] lease token from leaseGet
  ARGV[2] version (decimal; 0 = unversioned aggregate: guarded by the lease alone)
  ARGV[3] hard TTL in ms
  ARGV[4] fresh-for in ms (0 = never stale)
  ARGV[5] namespace generation read before loading
  ARGV[6] tag epochs read before loading ("<tag state key> <epoch> ...", '' = untagged);
          stored in the envelope (format 2) so readers can check them (see leaseGet-3)
  ARGV[7] payload
  ARGV[8] optional: how long the loader took (ms); given, the value is stored as format 3 (the
          load time is what early refresh in leaseGet-3 scales with)

  No allow-oom flag: under maxmemory with noeviction it is refused before it runs (the caller
  releases the lease and the reader keeps its loaded value uncached).

  Returns 1 filled, 2 lease-lost (voided by an invalidation, expired, or taken by another
  reader), 3 older-than-tombstone, 4 older-than-value (a newer value landed meanwhile).
]]
--- @include "storedVersion"
--- @include "envelope"
--- @include "serverTime"
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 2 end
local v = tonumber(ARGV[2])
if v > 0 then
  local tomb = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  if tomb > v then
    redis.call('DEL', KEYS[3])
    return 3
  end
end
local stored = storedVersion(KEYS[1])
if stored ~= nil and stored > v then
  redis.call('DEL', KEYS[3])
  return 4
end
redis.call('SET', KEYS[1], makeEnvelope(ARGV[2], nowMillis(), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]), 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
return 1
