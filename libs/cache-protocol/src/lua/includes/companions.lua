-- The companions of a value key, derived here so a batch call sends one key name per item (see
-- src/key-layout.ts companionsOf: keep both in step; an e2e test compares them). K's own hash
-- tag when it has a non-empty one ("~t:" .. K), else "{K}" ("~t{" .. K .. "}"): same slot as K,
-- so a script that declared K may touch them under Redis Cluster.
local function companionsOf(key)
  local open = string.find(key, '{', 1, true)
  if open then
    local close = string.find(key, '}', open + 1, true)
    if close and close > open + 1 then return '~t:' .. key, '~l:' .. key end
  end
  return '~t{' .. key .. '}', '~l{' .. key .. '}'
end
