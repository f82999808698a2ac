-- The packed items of the batch scripts (src/key-effects.ts builds them): one ARGV head per item,
--   'd<version>'            delete (version 0: unversioned; voids the lease, no tombstone)
--   't<version>:<ttlMs>'    tombstone (raise the floor to version for ttlMs)
--   'p:<ttlMs>'             purge a tag member (unconditional; floor at its own version)
--   'w<version>:<floorTtlMs>:<hardTtlMs>:<freshForMs>:<namespaceGen>' warm (applyKeyEffects only),
--                           followed by two more ARGV: its tag epochs and its payload
--- @include "companions"
--- @include "invalidateKey"
--- @include "purgeKey"
-- Applies a 'd', 't' or 'p' item to `key`; returns its outcome code.
local function applyInvalidationItem(key, head)
  local action, version, ttl = string.match(head, '^([dtp])(%d*):?(%d*)$')
  if action == nil then error('malformed batch item "' .. head .. '"') end
  local tombstone, lease = companionsOf(key)
  if action == 'p' then return purgeKey(key, tombstone, lease, ttl) end
  if action == 't' then return invalidateKey(key, tombstone, lease, version, ttl, true) end
  return invalidateKey(key, tombstone, lease, version, '1', false)
end
