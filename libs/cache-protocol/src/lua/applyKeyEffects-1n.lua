#!lua
--[[
  applyKeyEffects-1n: applies the effects of N keys in one call (the invalidator's hot path:
  one EVALSHA per N keys instead of per key). Under Redis Cluster all N keys must share one
  slot; the caller groups by slot.

  KEYS[i] key of effect i (its whole state lives in it: includes/keyState.lua)
  ARGV, per effect in order, its packed head (includes/packedItem.lua), then for a warm two more:
    'd<version>'          delete (deletes and voids the lease, no floor)
    't<version>:<ttlMs>'  tombstone
    'p:<ttlMs>'           purge (a tag member: unconditional)
    'w<version>:<floorTtlMs>:<hardTtlMs>:<freshForMs>:<namespaceGen>', tagEpochs, payload
                          warm (replaces a cached value, never creates one: as warm-1)

  Per key: one GETRANGE and at most one write (see includes/invalidateKey.lua); one TIME per call.
  No allow-oom flag: under maxmemory with noeviction Redis refuses the whole call before it
  runs (an "OOM ..." error), and the caller applies the same items through invalidateKeys-1n
  with every warm turned into a tombstone of its version ("warm-degraded-oom").

  Returns an array of N outcome codes: 1 deleted, 2 tombstoned, 3 warmed, 4 skipped-older
  (for 'w' with no cached value: 2 the floor was raised, 4 it already stood there; for 'p':
  1 a value was removed, 4 nothing was cached).
]]
--- @include "packedItem"
--- @include "warmKey"
local now = tonumber(nowMillis())
local results = {}
local a = 1
for i = 1, #KEYS do
  local head = ARGV[a]
  if string.byte(head, 1) == 119 then -- 'w'
    local version, floorTtl, hardTtl, freshFor, namespaceGen = string.match(head, '^w(%d+):([1-9]%d*):([1-9]%d*):(%d+):(%d+)$')
    if version == nil then error('malformed warm item "' .. head .. '"') end
    results[i] = warmKey(KEYS[i], version, hardTtl, freshFor, namespaceGen, floorTtl, ARGV[a + 1], ARGV[a + 2], now)
    a = a + 3
  else
    results[i] = applyInvalidationItem(KEYS[i], head, now)
    a = a + 1
  end
end
return results
