--- @include "outcomes"
--- @include "storedVersion"
--- @include "envelope"
--- @include "serverTime"
--- @include "raiseTombstone"
--- @include "invalidateKey"
-- Version-guarded rewrite of one key: lands only when newer than the stored value and not
-- older than the tombstone (a tombstone of version v says "data before v is stale"; the
-- value of version v is exactly what it allows). An unversioned warm (version 0) cannot
-- prove it is newer than anything, so it invalidates instead of writing.
-- A warm of a key with no value writes only its floor (outcome tombstoned, or skipped-older when
-- the floor already stood at that version): see below.
-- Every warm voids the lease (a reader's load may predate it) and raises the tombstone to its
-- version with floorTtl (the caller passes hard TTL + tombstone TTL), also when it is skipped
-- because the stored value is at least as new: once the value expires or is evicted, the
-- floor still refuses every older fill and warm (a replay) for the tombstone TTL.
local function warmKey(valueKey, tombstoneKey, leaseKey, version, hardTtl, freshFor, namespaceGen, floorTtl, tagEpochs, payload)
  local v = tonumber(version)
  if v <= 0 then return invalidateKey(valueKey, tombstoneKey, leaseKey, '0', 1, false) end
  redis.call('DEL', leaseKey)
  local stored = storedVersion(valueKey)
  local before = raiseTombstone(tombstoneKey, version, floorTtl)
  if stored ~= nil and stored >= v then return SKIPPED_OLDER end
  if before > v then return SKIPPED_OLDER end
  -- A warm replaces a cached value; it never creates one. With no value in Redis nothing proves
  -- this warm is not a replay of an event older than one whose value and floor have since
  -- expired or been evicted, so it leaves only its floor (raised above) and a reader fills the
  -- key from the source of truth. As for an invalidation, `tombstoned` means the floor was
  -- raised; a repeat (a redelivery: the floor is already at this version) is skipped-older.
  if stored == nil then
    if before < v then return TOMBSTONED end
    return SKIPPED_OLDER
  end
  redis.call('SET', valueKey, makeEnvelope(version, nowMillis(), freshFor, namespaceGen, tagEpochs, payload), 'PX', hardTtl)
  return WARMED
end
