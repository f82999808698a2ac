#!lua
--[[
  fill-2: stores what a lease holder loaded. Lands only with the caller's live lease (an
  invalidation since leaseGet voided it; so did an expiry or eviction of the key, which takes
  the lease with it) and a version not older than the floor or the stored value. The lease is
  released either way.

  KEYS[1] the key (K); its value, floor and lease all live in it (includes/keyState.lua)
  KEYS[2] K's tombstone in the earlier three-key layout ("~t{K}" or "~t:K"): read only when
          ARGV[9] is '1', while floors written by an earlier invalidator may still live
  ARGV[1] lease token from leaseGet
  ARGV[2] version (decimal; 0 = unversioned aggregate: guarded by the lease alone)
  ARGV[3] hard TTL in ms
  ARGV[4] fresh-for in ms (0 = never stale)
  ARGV[5] namespace generation read before loading
  ARGV[6] tag epochs read before loading ("<tag state key> <epoch> ...", '' = untagged);
          stored with the value so readers can check them (see leaseGet-2)
  ARGV[7] payload
  ARGV[8] how long the loader took (ms), '' = not measured (early refresh in leaseGet-2 scales
          with it)
  ARGV[9] '1': also honour the earlier layout's tombstone (KEYS[2])

  No allow-oom flag: under maxmemory with noeviction it is refused before it runs (the caller
  releases the lease and the reader keeps its loaded value uncached).

  Returns 1 filled, 2 lease-lost (voided by an invalidation, expired, or taken by another
  reader), 3 older-than-tombstone, 4 older-than-value (a newer value landed meanwhile).
]]
--- @include "keyState"
local now = tonumber(nowMillis())
local s = readState(KEYS[1], now)
-- (a key without a lease stores an empty token: an empty token holds nothing)
if ARGV[1] == '' or s.kind ~= 'state' or s.token ~= ARGV[1] then return 2 end
local oldUntil = keyUntil(s)
voidLease(s)
local v = tonumber(ARGV[2])
if v > 0 then
  local legacy = 0
  if ARGV[9] == '1' then legacy = tonumber(redis.call('GET', KEYS[2]) or '0') or 0 end
  if s.floor > v or legacy > v then
    writeState(KEYS[1], s, oldUntil, now)
    return 3
  end
end
if s.value and s.version > v then
  writeState(KEYS[1], s, oldUntil, now)
  return 4
end
writeValue(KEYS[1], s, now, ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[8], ARGV[6], ARGV[7])
return 1
