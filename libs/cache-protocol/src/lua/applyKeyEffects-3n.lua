#!lua
--[[
  applyKeyEffects-3n: applies the effects of N keys in one call (the invalidator's hot path:
  one EVALSHA per N keys instead of per key). Under Redis Cluster all 3N keys must share one
  slot; the caller groups by slot.

  KEYS[3i-2] value key of effect i, KEYS[3i-1] its tombstone, KEYS[3i] its lease
  ARGV, per effect in order, first the action:
    'd' delete     then version, tombstoneTtlMs (deletes and voids the lease, no tombstone)
    't' tombstone  then version, tombstoneTtlMs
    'p' purge      then version (ignored), tombstoneTtlMs (a tag member: unconditional)
    'w' warm       then version, hardTtlMs, freshForMs, namespaceGen, floorTtlMs, tagEpochs, payload
                   (replaces a cached value, never creates one: as warm-3)

  No allow-oom flag: under maxmemory with noeviction Redis refuses the whole call before it
  runs (an "OOM ..." error), and the caller applies the same items through invalidateKeys-3n
  with every warm turned into a tombstone of its version ("warm-degraded-oom").

  Returns an array of N outcome codes: 1 deleted, 2 tombstoned, 3 warmed, 4 skipped-older
  (for 'w' with no cached value: 2 the floor was raised, 4 it already stood there; for 'p':
  1 a value was removed, 4 nothing was cached).
]]
--- @include "invalidateKey"
--- @include "purgeKey"
--- @include "warmKey"
local results = {}
local a = 1
for i = 1, #KEYS, 3 do
  local action = ARGV[a]
  local code
  if action == 'w' then
    code = warmKey(KEYS[i], KEYS[i + 1], KEYS[i + 2], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7])
    a = a + 8
  elseif action == 'p' then
    code = purgeKey(KEYS[i], KEYS[i + 1], KEYS[i + 2], ARGV[a + 2])
    a = a + 3
  else
    code = invalidateKey(KEYS[i], KEYS[i + 1], KEYS[i + 2], ARGV[a + 1], ARGV[a + 2], action == 't')
    a = a + 3
  end
  results[#results + 1] = code
end
return results
