-- The version of the envelope stored at `key`, read from its first bytes only (GETRANGE), so
-- a large value is never copied into Lua just to compare versions.
-- Returns nil when the key is absent; -1 when it holds something that is not an envelope
-- (another type, or a string in another format); else the version (0 = unversioned), plus
-- the version as the exact string it was written with.
local function storedVersion(key)
  local head = redis.pcall('GETRANGE', key, 0, 40)
  if type(head) == 'table' then return -1, nil end
  if head == '' then return nil, nil end
  local v = string.match(head, '^[123]|(%d+)|')
  if v == nil then return -1, nil end
  return tonumber(v), v
end
