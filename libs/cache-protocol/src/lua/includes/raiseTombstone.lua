-- Raises the tombstone (the key's version floor: "data before this version is stale") to
-- `version`, an exact decimal string. Never lowers it and never shortens its life: the TTL
-- becomes the longer of `ttl` and what the tombstone has left (a higher floor also stands for
-- every lower one, so it must guard at least as long). Returns the floor before the call (0 none).
-- GET, then SET PX for a new floor, or SET KEEPTTL (a higher version) and PEXPIRE GT (Redis 7):
-- PTTL is read only when PEXPIRE GT changed nothing (the floor already lives longer, or has no
-- TTL). `ttl` is a positive number of ms (the callers and packedItem check it).
local function raiseTombstone(tombstoneKey, version, ttl)
  local currentText = redis.call('GET', tombstoneKey)
  if not currentText then
    redis.call('SET', tombstoneKey, version, 'PX', ttl)
    return 0
  end
  local current = tonumber(currentText) or 0
  local v = tonumber(version)
  if current > v then return current end
  if current < v then redis.call('SET', tombstoneKey, version, 'KEEPTTL') end
  if redis.call('PEXPIRE', tombstoneKey, ttl, 'GT') == 0 and redis.call('PTTL', tombstoneKey) == -1 then
    -- a floor without a TTL (never written by the protocol): give it one
    redis.call('PEXPIRE', tombstoneKey, ttl)
  end
  return current
end
