#!lua flags=allow-oom
--[[
  tagEpoch-1: the tag's current epoch, read by a reader before it loads (and recorded in the
  value it fills). Creates the tag's state when it is missing (never created, expired or
  evicted): a value must record an epoch that exists, because at read time a missing state
  counts as "invalidated". A recreated state gets a new epoch (the clock in microseconds,
  computed by the caller), so values recorded under the lost one read as misses.

  KEYS[1] tag state (hash: e = epoch, c = epochs scanned through)
  ARGV[1] epoch to create the state with when it is missing
  ARGV[2] scanned-through to store with it (ARGV[1] - 1: no member set of an older epoch exists)
  ARGV[3] TTL of a created state in ms

  Returns the epoch (a decimal string).
]]
local epoch = redis.call('HGET', KEYS[1], 'e')
if epoch then return epoch end
redis.call('HSET', KEYS[1], 'e', ARGV[1], 'c', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return ARGV[1]
