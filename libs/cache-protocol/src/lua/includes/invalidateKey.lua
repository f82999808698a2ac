--- @include "outcomes"
--- @include "storedVersion"
--- @include "raiseTombstone"
-- Version-guarded invalidation of one key (value, tombstone and lease keys of one slot).
-- version: exact decimal string; 0 = unversioned (always deletes, writes no tombstone).
-- Every invalidation voids the lease, refresh leases included, even when it is skipped as
-- older: for aggregate keys versions do not compare and the lease is their only guard, and a
-- redelivered event must not leave a reader's older load free to land once the value is gone.
-- A stored value at least as new is kept, but the tombstone is still raised to `version`: the
-- event was applied, so nothing older may land after that value expires or is evicted.
-- Value and lease go in one DEL (same slot): an unversioned delete is a single command.
-- Returns DELETED, TOMBSTONED or SKIPPED_OLDER.
local function invalidateKey(valueKey, tombstoneKey, leaseKey, version, tombstoneTtl, writeTombstone)
  local v = tonumber(version)
  if v <= 0 then
    redis.call('DEL', valueKey, leaseKey)
    return DELETED
  end
  local stored = storedVersion(valueKey)
  local keep = stored ~= nil and stored > 0 and stored >= v
  if stored ~= nil and not keep then
    redis.call('DEL', valueKey, leaseKey)
  else
    redis.call('DEL', leaseKey)
  end
  if not writeTombstone then
    if keep then return SKIPPED_OLDER end
    return DELETED
  end
  local before = raiseTombstone(tombstoneKey, version, tombstoneTtl)
  if keep then return SKIPPED_OLDER end
  if stored ~= nil then return DELETED end
  if before < v then return TOMBSTONED end
  return SKIPPED_OLDER
end
