--- @include "outcomes"
--- @include "storedVersion"
-- Version-guarded invalidation of one key (value, tombstone and lease keys of one slot).
-- version: exact decimal string; 0 = unversioned (always deletes, writes no tombstone).
-- A stored value at least as new is left alone (and so is its lease: a fill of older data
-- loses against that value anyway). Otherwise any lease is voided even when the event is
-- older than the tombstone: for aggregate keys versions do not compare, and the lease is
-- their only guard. Returns DELETED, TOMBSTONED or SKIPPED_OLDER.
local function invalidateKey(valueKey, tombstoneKey, leaseKey, version, tombstoneTtl, writeTombstone)
  local v = tonumber(version)
  local stored = storedVersion(valueKey)
  if v > 0 and stored ~= nil and stored > 0 and stored >= v then return SKIPPED_OLDER end
  if stored ~= nil then
    redis.call('DEL', valueKey, leaseKey)
  else
    redis.call('DEL', leaseKey)
  end
  if not writeTombstone or v <= 0 then return DELETED end
  -- A versioned value older than v proves the tombstone is older still (fill and warm never
  -- land below the tombstone, and every raise of the tombstone deletes the value): skip the read.
  local tomb = 0
  if stored == nil or stored <= 0 then tomb = tonumber(redis.call('GET', tombstoneKey) or '0') or 0 end
  if v > tomb then
    redis.call('SET', tombstoneKey, version, 'PX', tombstoneTtl)
    if stored == nil then return TOMBSTONED end
    return DELETED
  end
  if stored ~= nil then return DELETED end
  return SKIPPED_OLDER
end
