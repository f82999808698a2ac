--- @include "outcomes"
--- @include "keyState"
-- Version-guarded invalidation of one key (its single-key state, includes/keyState.lua).
-- version: exact decimal string; 0 = unversioned (always deletes, raises no floor).
-- Every invalidation voids the lease, refresh leases included, even when it is skipped as
-- older: for aggregate keys versions do not compare and the lease is their only guard, and a
-- redelivered event must not leave a reader's older load free to land once the value is gone.
-- A stored value at least as new is kept, but the floor is still raised to `version`: the
-- event was applied, so nothing older may land after that value expires.
-- One GETRANGE and at most one SET (SETRANGE, plus PEXPIRE when a kept value's floor must
-- outlive it); nothing is written when nothing changes (a redelivery on a quiet key).
-- A value in an earlier format (1-3) is dropped: this script cannot rewrite its state in
-- place, and deleting a cached value is always safe.
-- Returns DELETED, TOMBSTONED or SKIPPED_OLDER.
local function invalidateKey(key, version, tombstoneTtl, writeFloor, now)
  local v = tonumber(version)
  local s = readState(key, now)
  local oldUntil = keyUntil(s)
  local stored = s.value or s.kind == 'foreign' or s.kind == 'legacy'
  local keep = s.kind == 'state' and s.value and s.version > 0 and v > 0 and s.version >= v
  local before = s.floor
  local changed = voidLease(s)
  if writeFloor and v > 0 and raiseFloor(s, version, v, now + tonumber(tombstoneTtl)) then changed = true end
  if keep then
    if changed then writeInPlace(key, s, oldUntil, now) end
    return SKIPPED_OLDER
  end
  if stored or changed or s.payload then writeBare(key, s, now) end
  if not writeFloor or v <= 0 or stored then return DELETED end
  if before < v then return TOMBSTONED end
  return SKIPPED_OLDER
end
