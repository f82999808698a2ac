#!lua flags=allow-oom
--[[
  invalidate-1: version-guarded invalidation of one key (includes/invalidateKey.lua).

  KEYS[1] the key (K); its value, floor and lease all live in it (includes/keyState.lua)
  ARGV[1] version (decimal; 0 = unversioned: always drops the value, raises no floor)
  ARGV[2] floor (tombstone) TTL in ms
  ARGV[3] '1' raise the floor to the version, '0' delete only

  Returns 1 deleted, 2 tombstoned (no value was cached: the floor was raised), 4 skipped-older
  (the stored value or the floor was at least as new; the lease is voided either way).
]]
--- @include "invalidateKey"
return invalidateKey(KEYS[1], ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(nowMillis()))
