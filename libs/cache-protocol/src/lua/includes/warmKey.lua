--- @include "outcomes"
--- @include "storedVersion"
--- @include "envelope"
--- @include "serverTime"
--- @include "invalidateKey"
-- Version-guarded rewrite of one key: lands only when newer than the stored value and not
-- older than the tombstone (a tombstone of version v says "data before v is stale"; the
-- value of version v is exactly what it allows). An unversioned warm (version 0) cannot
-- prove it is newer than anything, so it invalidates instead of writing.
local function warmKey(valueKey, tombstoneKey, leaseKey, version, hardTtl, freshFor, namespaceGen, payload)
  local v = tonumber(version)
  if v <= 0 then return invalidateKey(valueKey, tombstoneKey, leaseKey, '0', 1, false) end
  local stored = storedVersion(valueKey)
  if stored ~= nil and stored >= v then return SKIPPED_OLDER end
  local tomb = tonumber(redis.call('GET', tombstoneKey) or '0') or 0
  if tomb > v then return SKIPPED_OLDER end
  redis.call('SET', valueKey, makeEnvelope(version, nowMillis(), freshFor, namespaceGen, payload), 'PX', hardTtl)
  return WARMED
end
