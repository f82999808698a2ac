#!lua flags=allow-oom
--[[
  invalidate-3: version-guarded invalidation of one cache key.

  KEYS[1] value key (K)
  KEYS[2] tombstone of K
  KEYS[3] lease of K
  ARGV[1] version (decimal; 0 = unversioned: always deletes, no tombstone)
  ARGV[2] tombstone TTL in ms
  ARGV[3] '1' to leave a tombstone carrying the version, '0' to only delete

  Always voids the lease. A skipped invalidation (value at least as new) still raises the
  tombstone to the version, so nothing older lands once that value expires or is evicted.
  Returns 1 deleted (a value was removed), 2 tombstoned (nothing cached, a tombstone now
  guards K), 4 skipped-older (the value or tombstone was at least as new; the value is kept,
  see includes/invalidateKey.lua).
]]
--- @include "invalidateKey"
return invalidateKey(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3] == '1')
