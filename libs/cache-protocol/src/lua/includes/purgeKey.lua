--- @include "outcomes"
--- @include "storedVersion"
--- @include "raiseTombstone"
-- Unconditional invalidation of one tag member: its version belongs to another entity than
-- the tag event's, so versions do not compare. Deletes the value, voids the lease and keeps
-- a tombstone at the deleted value's own version so no older warm or fill can land after.
local function purgeKey(valueKey, tombstoneKey, leaseKey, tombstoneTtl)
  local stored, storedText = storedVersion(valueKey)
  redis.call('DEL', leaseKey)
  if stored == nil then return SKIPPED_OLDER end
  redis.call('DEL', valueKey)
  if stored > 0 then raiseTombstone(tombstoneKey, storedText, tombstoneTtl) end
  return DELETED
end
