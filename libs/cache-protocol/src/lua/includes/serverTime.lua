-- Server time in milliseconds as an exact decimal string. Built from TIME's parts because
-- Lua 5.1 prints numbers with 14 significant digits, which would round larger values.
local function nowMillis()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end
