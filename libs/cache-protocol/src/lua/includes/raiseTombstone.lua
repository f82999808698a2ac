-- Raises the tombstone (the key's version floor: "data before this version is stale") to
-- `version`, an exact decimal string. Never lowers it and never shortens its life: the TTL
-- becomes the longer of `ttl` and what the tombstone has left (a higher floor also stands for
-- every lower one, so it must guard at least as long). Returns the floor before the call (0 none).
local function raiseTombstone(tombstoneKey, version, ttl)
  local current = tonumber(redis.call('GET', tombstoneKey) or '0') or 0
  local v = tonumber(version)
  if current > v then return current end
  local left = redis.call('PTTL', tombstoneKey)
  local life = tonumber(ttl)
  if current == v and left >= life then return current end
  if left > life then life = left end
  redis.call('SET', tombstoneKey, version, 'PX', life)
  return current
end
