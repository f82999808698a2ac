#!lua flags=allow-oom
--[[
  tagBumps-1n: starts the invalidation of N tags in one call. For each tag it closes the current
  epoch atomically (no compare-and-set round trip: the script reads the epoch itself) and moves
  the live member set aside as the pending set of the closing epoch, which the caller then
  scans in bounded SSCAN steps (tagRetire-2 after each). Joins that read the old epoch now fail.
  Under Redis Cluster all N tags must share one slot; the caller groups by slot.

  KEYS[i] tag state of tag i (hash: e = epoch, c = epochs scanned through), "~e{T}" or "~e:T";
          its live member set "~m{T}" and pending sets "~m<epoch>{T}" are derived here (the
          same companion form, same slot: src/key-layout.ts)
  ARGV[1] the epoch to create a missing state with (the clock in microseconds, from the caller:
          a recreated state never repeats an epoch); its scanned-through is that epoch - 1
  ARGV[1+i] minimum TTL of tag i's state in ms

  Epochs are below 2^53 (exact as Lua numbers) and are written back with %.0f (Lua would
  print 14 significant digits).

  Returns 2 integers per tag: the closing epoch and the epoch scanned through. When they are
  equal there is nothing to scan: no member joined since the last invalidation and every
  earlier epoch is scanned (the common case of a hot tag: the epoch moves on, no SSCAN, no
  retire); else the caller scans the pending sets scannedThrough+1 .. closing.
]]
local results = {}
for i = 1, #KEYS do
  local state = KEYS[i]
  local rest = string.sub(state, 3)
  local members = '~m' .. rest
  local ttl = tonumber(ARGV[i + 1])
  local current = redis.call('HGET', state, 'e')
  local closing, scanned
  local known = false
  if current then
    closing = tonumber(current)
    local c = tonumber(redis.call('HGET', state, 'c') or '')
    known = c ~= nil
    scanned = c or (closing - 1)
  else
    closing = tonumber(ARGV[1])
    scanned = closing - 1
  end
  local closingText = string.format('%.0f', closing)
  local nextText = string.format('%.0f', closing + 1)
  local pending = '~m' .. closingText .. rest
  local hasMembers = redis.call('EXISTS', members) == 1
  if known and not hasMembers and scanned == closing - 1 and redis.call('EXISTS', pending) == 0 then
    -- nothing joined and every earlier epoch is scanned: the closing epoch counts as scanned
    redis.call('HSET', state, 'e', nextText, 'c', closingText)
    scanned = closing
  else
    if hasMembers then
      if redis.call('EXISTS', pending) == 1 then
        redis.call('SUNIONSTORE', pending, pending, members)
        redis.call('DEL', members)
      else
        redis.call('RENAME', members, pending)
      end
    end
    if current then
      redis.call('HSET', state, 'e', nextText)
    else
      redis.call('HSET', state, 'e', nextText, 'c', string.format('%.0f', scanned))
    end
    -- a state without a readable scanned-through mark (or one ahead of the epoch): scan at least the closing epoch
    if scanned >= closing then scanned = closing - 1 end
  end
  if redis.call('PTTL', state) < ttl then redis.call('PEXPIRE', state, ttl) end
  results[2 * i - 1] = closing
  results[2 * i] = scanned
end
return results
