--- @include "outcomes"
--- @include "keyState"
-- Unconditional invalidation of one tag member: its version belongs to another entity than
-- the tag event's, so versions do not compare. Drops the value, voids the lease and raises
-- the floor to the dropped value's own version so no older warm or fill can land after.
-- Returns DELETED (a value was dropped) or SKIPPED_OLDER (nothing was cached).
local function purgeKey(key, tombstoneTtl, now)
  local s = readState(key, now)
  local stored = hasStored(s)
  local changed = voidLease(s)
  if stored and s.version > 0 then raiseFloor(s, s.version16, s.version, now + tonumber(tombstoneTtl)) end
  if stored or changed or s.payload then writeBare(key, s, now) end
  if stored then return DELETED end
  return SKIPPED_OLDER
end
