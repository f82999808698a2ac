-- The packed items of the batch scripts (src/key-effects.ts builds them): one ARGV head per item,
--   'd<version>'            delete (version 0: unversioned; voids the lease, no floor)
--   't<version>:<ttlMs>'    tombstone (raise the floor to version for ttlMs)
--   'p:<ttlMs>'             purge a tag member (unconditional; floor at its own version)
--   'w<version>:<floorTtlMs>:<hardTtlMs>:<freshForMs>:<namespaceGen>' warm (applyKeyEffects only),
--                           followed by two more ARGV: its tag epochs and its payload
--- @include "invalidateKey"
--- @include "purgeKey"
-- Applies a 'd', 't' or 'p' item to `key` at server time `now`; returns its outcome code.
local function applyInvalidationItem(key, head, now)
  local action = string.sub(head, 1, 1)
  if action == 't' then
    local version, ttl = string.match(head, '^t(%d+):([1-9]%d*)$')
    if version then
      if tonumber(version) > 0 then return tombstoneKey(key, version, ttl, now) end
      return invalidateKey(key, version, ttl, true, now)
    end
  elseif action == 'd' then
    local version = string.match(head, '^d(%d+)$')
    if version then return invalidateKey(key, version, '1', false, now) end
  elseif action == 'p' then
    local ttl = string.match(head, '^p:([1-9]%d*)$')
    if ttl then return purgeKey(key, ttl, now) end
  end
  -- never built by the library; items before it in the call are applied (each is idempotent)
  error('malformed batch item "' .. head .. '"')
end
