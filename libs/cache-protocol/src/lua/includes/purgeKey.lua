--- @include "outcomes"
--- @include "storedVersion"
-- Unconditional invalidation of one tag member: its version belongs to another entity than
-- the tag event's, so versions do not compare. Deletes the value, voids the lease and keeps
-- a tombstone at the deleted value's own version so no older warm or fill can land after.
local function purgeKey(valueKey, tombstoneKey, leaseKey, tombstoneTtl)
  local stored, storedText = storedVersion(valueKey)
  redis.call('DEL', leaseKey)
  if stored == nil then return SKIPPED_OLDER end
  redis.call('DEL', valueKey)
  if stored > 0 then
    local tomb = tonumber(redis.call('GET', tombstoneKey) or '0') or 0
    if stored > tomb then redis.call('SET', tombstoneKey, storedText, 'PX', tombstoneTtl) end
  end
  return DELETED
end
