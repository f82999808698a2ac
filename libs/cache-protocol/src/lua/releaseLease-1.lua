#!lua flags=allow-oom
--[[
  releaseLease-1: gives a lease back early (the loader failed), so waiters need not wait for
  its TTL. Only the holder's own token releases it.

  KEYS[1] lease of K
  ARGV[1] lease token

  Returns 1 released, 0 not held by this token.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
