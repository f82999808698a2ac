--- @include "outcomes"
--- @include "keyState"
--- @include "invalidateKey"
-- Version-guarded rewrite of one key: lands only when newer than the stored value and not
-- older than the floor (a floor of version v says "data before v is stale"; the value of
-- version v is exactly what it allows). An unversioned warm (version 0) cannot prove it is
-- newer than anything, so it invalidates instead of writing.
-- Every warm voids the lease (a reader's load may predate it) and raises the floor to its
-- version until now + floorTtl (the caller passes hard TTL + tombstone TTL), also when it is
-- skipped because the stored value is at least as new: once the value expires, the floor
-- still refuses every older fill and warm (a replay) for the tombstone TTL.
-- A warm REPLACES a cached value; it never creates one. With no value in Redis nothing proves
-- this warm is not a replay of an event older than one whose value and floor have since
-- expired or been evicted, so it leaves only its floor and a reader fills the key from the
-- source of truth: `tombstoned` when the floor was raised, skipped-older when it already stood
-- at this version (a redelivery).
local function warmKey(key, version, hardTtl, freshFor, namespaceGen, floorTtl, tagEpochs, payload, now)
  local v = tonumber(version)
  if v <= 0 then return invalidateKey(key, '0', 1, false, now) end
  local s = readState(key, now)
  local oldUntil = keyUntil(s)
  local before = s.floor
  local changed = voidLease(s)
  if raiseFloor(s, version, v, now + tonumber(floorTtl)) then changed = true end
  if (s.value and s.version >= v) or before > v then
    -- a newer (or equal) value or floor stands; an older-format value is dropped, not rewritten
    if changed or s.kind == 'legacy' then writeState(key, s, oldUntil, now) end
    return SKIPPED_OLDER
  end
  if not hasStored(s) then
    if changed or s.payload then writeBare(key, s, now) end
    if before < v then return TOMBSTONED end
    return SKIPPED_OLDER
  end
  writeValue(key, s, now, version, hardTtl, freshFor, namespaceGen, nil, tagEpochs, payload)
  return WARMED
end
