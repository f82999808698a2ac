#!lua
--[[
  warm-1: version-guarded rewrite of one cache key with a value the caller already has.

  KEYS[1] the key (K); its value, floor and lease all live in it (includes/keyState.lua)
  ARGV[1] version (decimal; 0 cannot be proven newer, so it invalidates instead)
  ARGV[2] hard TTL in ms (the value is gone after it)
  ARGV[3] fresh-for in ms (served as stale after it, until the hard TTL; 0 = never stale)
  ARGV[4] namespace generation the value belongs to
  ARGV[5] floor TTL in ms: the floor raised to the version lives this long (hard TTL +
          tombstone TTL, so it outlives the value), never shortened
  ARGV[6] tag epochs ("<tag state key> <epoch> ...", '' = untagged)
  ARGV[7] payload

  A warm REPLACES a cached value; it never creates one: on a key with no value it leaves only
  its floor (nothing proves it is not a replay of an event older than a value and floor that
  were since evicted), and a reader fills the key from the source of truth.
  Every warm voids the lease and raises the floor to its version, also when it is skipped
  because the stored value is at least as new.
  No allow-oom flag: refused before it runs under OOM; the caller then invalidates instead.
  Returns 3 warmed, 2 tombstoned (no value was cached: only the floor was raised),
  4 skipped-older (the value was at least as new, the floor newer, or, with no value, the
  floor already at this version), 1 deleted (version 0 only).
]]
--- @include "warmKey"
return warmKey(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(nowMillis()))
