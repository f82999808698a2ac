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
  local head = redis.pcall('GETRANGE', key, 0, HEAD_LEN - 1)
  if head == '' then
    -- nothing stored: a delete has nothing to do, a tombstone writes the floor alone
    if not writeFloor or v <= 0 then return DELETED end
    redis.call('SET', key, floorState(pad16(version), now + tonumber(tombstoneTtl)), 'PX', tombstoneTtl)
    return TOMBSTONED
  end
  local s = parseState(head, now)
  local oldUntil = keyUntil(s)
  local stored = hasStored(s)
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

-- The tombstone of a versioned event (version > 0), the invalidator's most common item, in one
-- command when events come in order: SET ... GET writes the floor alone (value dropped, lease
-- voided, floor `version` until now + tombstoneTtl) and answers what was stored; only when
-- that was not the right state (a value at least as new to keep, a higher or longer-lived
-- floor) is a second write needed, computed from the previous content exactly as
-- invalidateKey would. Same outcomes as invalidateKey(key, version, tombstoneTtl, true, now).
local function tombstoneKey(key, version, tombstoneTtl, now)
  local v = tonumber(version)
  local floorUntil = now + tonumber(tombstoneTtl)
  local floor16 = pad16(version)
  local state = floorState(floor16, floorUntil)
  local previous = redis.pcall('SET', key, state, 'PX', tombstoneTtl, 'GET')
  if not previous then return TOMBSTONED end
  if type(previous) ~= 'string' then
    -- another type than a string (WRONGTYPE: nothing was written): not an envelope, replaced
    -- by the floor like one (deleted, as invalidateKey answers); any other error is raised
    if type(previous) ~= 'table' or not previous.err or string.sub(previous.err, 1, 9) ~= 'WRONGTYPE' then
      error(type(previous) == 'table' and previous.err or 'unexpected SET reply')
    end
    redis.call('DEL', key)
    redis.call('SET', key, state, 'PX', tombstoneTtl)
    return DELETED
  end
  local s = parseState(previous, now)
  local stored = hasStored(s)
  local keep = s.kind == 'state' and s.value and s.version > 0 and s.version >= v
  local before = s.floor
  voidLease(s)
  raiseFloor(s, version, v, floorUntil)
  if keep then
    -- a newer (or equal) value was stored: put it back under the raised floor
    redis.call('SET', key, stateHeader(s) .. string.sub(previous, STATE_LEN + 1), 'PX', fmt(keyUntil(s) - now))
    return SKIPPED_OLDER
  end
  if s.floor16 ~= floor16 or s.floorUntil ~= floorUntil then writeBare(key, s, now) end
  if stored then return DELETED end
  if before < v then return TOMBSTONED end
  return SKIPPED_OLDER
end
