#!lua flags=allow-oom
--[[
  invalidateKeys-3n: the invalidation-only twin of applyKeyEffects-3n (no warm items), flagged
  allow-oom: under maxmemory with noeviction Redis refuses scripts that may grow memory, but
  invalidations must always land (they delete values and write small tombstones), or an
  invalidator at OOM would retry one batch forever. Calls without warm items and warms
  degraded to tombstones (applyKeyEffects-3n refused with OOM) go through this script.

  KEYS[3i-2] value key of item i, KEYS[3i-1] its tombstone, KEYS[3i] its lease
  ARGV, per item in order, the action then its arguments:
    'd' delete     then version, tombstoneTtlMs (deletes and voids the lease, no tombstone)
    't' tombstone  then version, tombstoneTtlMs
    'p' purge      then version (ignored), tombstoneTtlMs (a tag member: unconditional)

  Returns an array of N outcome codes: 1 deleted, 2 tombstoned, 4 skipped-older
  (for 'p': 1 a value was removed, 4 nothing was cached).
]]
--- @include "invalidateKey"
--- @include "purgeKey"
local results = {}
local a = 1
for i = 1, #KEYS, 3 do
  local action = ARGV[a]
  local code
  if action == 'p' then
    code = purgeKey(KEYS[i], KEYS[i + 1], KEYS[i + 2], ARGV[a + 2])
  else
    code = invalidateKey(KEYS[i], KEYS[i + 1], KEYS[i + 2], ARGV[a + 1], ARGV[a + 2], action == 't')
  end
  a = a + 3
  results[#results + 1] = code
end
return results
