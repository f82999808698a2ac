#!lua flags=allow-oom
--[[
  releaseLease-1: gives a lease back early (the loader failed), so waiters need not wait for
  its TTL. Only the holder's own token releases it.

  KEYS[1] the key (K); its lease lives in it (includes/keyState.lua)
  ARGV[1] lease token

  Returns 1 released, 0 not held by this token.
]]
--- @include "keyState"
local now = tonumber(nowMillis())
local s = readState(KEYS[1], now)
if ARGV[1] == '' or s.kind ~= 'state' or s.token ~= ARGV[1] then return 0 end
local oldUntil = keyUntil(s)
voidLease(s)
writeState(KEYS[1], s, oldUntil, now)
return 1
