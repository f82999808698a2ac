#!lua flags=allow-oom
--[[
  invalidateKeys-1n: the invalidation-only twin of applyKeyEffects-1n (no warm items), flagged
  allow-oom: under maxmemory with noeviction Redis refuses scripts that may grow memory, but
  invalidations must always land (they drop values and write 78-byte floors), or an
  invalidator at OOM would retry one batch forever. Calls without warm items and warms
  degraded to tombstones (applyKeyEffects-1n refused with OOM) go through this script.

  KEYS[i] key of item i (its whole state lives in it: includes/keyState.lua)
  ARGV[i] item i packed into one string (includes/packedItem.lua):
    'd<version>'          delete (deletes and voids the lease, no floor)
    't<version>:<ttlMs>'  tombstone
    'p:<ttlMs>'           purge (a tag member: unconditional)

  Per key: one GETRANGE and at most one write; one TIME per call.
  Returns an array of N outcome codes: 1 deleted, 2 tombstoned, 4 skipped-older
  (for 'p': 1 a value was removed, 4 nothing was cached).
]]
--- @include "packedItem"
local now = tonumber(nowMillis())
local results = {}
for i = 1, #KEYS do
  results[i] = applyInvalidationItem(KEYS[i], ARGV[i], now)
end
return results
