#!lua flags=allow-oom
--[[
  invalidateKeys-1n: the invalidation-only twin of applyKeyEffects-1n (no warm items), flagged
  allow-oom: under maxmemory with noeviction Redis refuses scripts that may grow memory, but
  invalidations must always land (they delete values and write small tombstones), or an
  invalidator at OOM would retry one batch forever. Calls without warm items and warms
  degraded to tombstones (applyKeyEffects-1n refused with OOM) go through this script.

  KEYS[i] value key of item i; its tombstone and lease are derived here (includes/companions.lua,
          same cluster slot), so the wire carries one key name per item instead of three
  ARGV[i] item i packed into one string (includes/packedItem.lua):
    'd<version>'          delete (deletes and voids the lease, no tombstone)
    't<version>:<ttlMs>'  tombstone
    'p:<ttlMs>'           purge (a tag member: unconditional)

  Returns an array of N outcome codes: 1 deleted, 2 tombstoned, 4 skipped-older
  (for 'p': 1 a value was removed, 4 nothing was cached).
]]
--- @include "packedItem"
local results = {}
for i = 1, #KEYS do
  results[i] = applyInvalidationItem(KEYS[i], ARGV[i])
end
return results
