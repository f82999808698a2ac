#!lua flags=allow-oom
--[[
  tagRetire-2: a pending member set has been scanned to its end: drop it and record that
  every epoch up to it is done, so later invalidations do not scan it again.

  KEYS[1] tag state (hash: e = epoch, c = epochs scanned through)
  KEYS[2] pending member set of the scanned epoch
  ARGV[1] the scanned epoch

  Returns 1.
]]
redis.call('DEL', KEYS[2])
local scanned = redis.call('HGET', KEYS[1], 'c')
if scanned and tonumber(scanned) < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'c', ARGV[1]) end
return 1
