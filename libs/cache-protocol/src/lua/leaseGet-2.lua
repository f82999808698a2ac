#!lua flags=allow-oom
--[[
  leaseGet-2: the read side's GET. A hit returns the stored key; a miss hands out the one live
  lease of K (Facebook memcache leases) or tells the caller to wait for its holder.

  KEYS[1] the key (K); its value, floor and lease all live in it (includes/keyState.lua)
  KEYS[2] K's tombstone in the earlier three-key layout: read on a miss only when ARGV[7] is '1'
  ARGV[1] lease token the caller would hold (random, unique per request; at most 24 bytes of
          [A-Za-z0-9_-])
  ARGV[2] lease TTL in ms (a crashed holder blocks others at most this long)
  ARGV[3] minimum namespace generation: a value of an older generation is dropped and read as
          a miss
  ARGV[4] '1': check a tagged value's tag epochs here: each tag state's current epoch must equal
          the recorded one, and a missing (expired, evicted) state counts as invalidated; else
          the value is dropped and read as a miss. Standalone Redis only: the tag states live in
          other slots, so on a cluster the caller passes '0' and checks them itself.
  ARGV[5] value head to drop ('' = none): the caller found this value's tags invalidated
          (cluster check); when the stored value still starts with it (its version, hard TTL and
          write time), it is dropped and read as a miss
  ARGV[6] early refresh factor ('0' = off): a fresh value that measured its load time answers
          with the refresh lease once its remaining life is at most loadMs * factor
  ARGV[7] '1': on a miss also report the earlier layout's tombstone (KEYS[2])

  Returns one of
    {1, stored}            hit, fresh
    {2, stored}            stale but servable, and the caller now holds the lease to refresh it
    {3, stored}            stale but servable, someone else is refreshing it
    {4, floorVersion}      miss, the caller holds the lease (floorVersion '0' if none)
    {5, floorVersion}      miss, someone else holds the lease: wait, then ask again
    {6, stored}            hit, fresh, and the caller now holds the lease to refresh it early
  `stored` is the key's whole content (format 4, or an earlier format 1-3 value), decoded by
  src/envelope.ts. A caller asking again with the token it holds gets its lease back (2 or 4),
  not 3 or 5. A value that is not an envelope reads as a miss (taking the lease replaces it).
  Flagged allow-oom: reads keep working at maxmemory (a lease is 78 bytes and expires; the fill
  it allows is refused there, and the lease released).
]]
--- @include "keyState"
local now = tonumber(nowMillis())
local raw = redis.pcall('GET', KEYS[1])
local s = parseState(raw, now)
local oldUntil = keyUntil(s)
local token = ARGV[1]
-- the token lives in a fixed 24-byte field: anything else would corrupt the key's state
if #token < 1 or #token > 24 or string.find(token, '[^%w_%-]') then error('lease token must be 1-24 characters of [A-Za-z0-9_-]') end

local function tagsCurrent(tagEpochs)
  for stateKey, epoch in string.gmatch(tagEpochs, '(%S+) (%S+)') do
    if redis.call('HGET', stateKey, 'e') ~= epoch then return false end
  end
  return true
end

-- Takes the lease on a live format-4 value (stale refresh, early refresh), in place.
local function takeLeaseOnValue()
  if s.token == '' then
    s.token = token
    s.leaseUntil = now + tonumber(ARGV[2])
    writeInPlace(KEYS[1], s, oldUntil, now)
    return true
  end
  return s.token == token
end

if s.value and s.kind == 'state' then
  local writtenAt, freshFor, namespaceGen, loadMs, tagEpochs = string.match(raw, '^(%d+)|(%d+)|(%d+)|(%d*)|([^\n]*)\n', HEAD_LEN + 1)
  if writtenAt == nil
    or tonumber(namespaceGen) < tonumber(ARGV[3])
    or (ARGV[5] ~= '' and string.sub(raw, STATE_LEN + 1, STATE_LEN + #ARGV[5]) == ARGV[5])
    or (tagEpochs ~= '' and ARGV[4] == '1' and not tagsCurrent(tagEpochs)) then
    s.value = false -- dropped below, when the miss takes (or reports) the lease
  else
    local early = tonumber(ARGV[6] or '')
    if early == nil or early <= 0 or loadMs == '' then early = nil end
    local fresh = tonumber(freshFor)
    -- never stale (fresh 0): it ends with its hard TTL, which early refresh looks at instead
    local left = s.hardUntil - now
    if fresh > 0 then left = tonumber(writtenAt) + fresh - now end
    if fresh == 0 or left > 0 then
      if early ~= nil and left <= tonumber(loadMs) * early and takeLeaseOnValue() then return {6, raw} end
      return {1, raw}
    end
    if takeLeaseOnValue() then return {2, raw} end
    return {3, raw}
  end
elseif s.kind == 'legacy' then
  -- a value written by an earlier version (format 1-3): served while fresh and valid; anything
  -- else reads as a miss, and taking the lease replaces it with a format-4 state
  local format = string.byte(raw, 1)
  local writtenAt, freshFor, namespaceGen, tagEpochs
  if format == 50 then
    writtenAt, freshFor, namespaceGen, tagEpochs = string.match(raw, '^2|%d+|(%d+)|(%d+)|(%d+)|([^\n]*)\n')
  elseif format == 51 then
    writtenAt, freshFor, namespaceGen, tagEpochs = string.match(raw, '^3|%d+|(%d+)|(%d+)|(%d+)|%d+|([^\n]*)\n')
  else
    writtenAt, freshFor, namespaceGen = string.match(raw, '^1|%d+|(%d+)|(%d+)|(%d+)|')
  end
  if writtenAt ~= nil
    and tonumber(namespaceGen) >= tonumber(ARGV[3])
    and (ARGV[5] == '' or string.sub(raw, 1, #ARGV[5]) ~= ARGV[5])
    and not (tagEpochs ~= nil and tagEpochs ~= '' and ARGV[4] == '1' and not tagsCurrent(tagEpochs))
    and (tonumber(freshFor) == 0 or tonumber(writtenAt) + tonumber(freshFor) > now) then
    return {1, raw}
  end
  s.value = false
end
-- a miss: report the floor, hand out the lease (dropping whatever value is stored)
local floor = s.floor16
if ARGV[7] == '1' then
  local legacy = redis.call('GET', KEYS[2])
  if legacy and (tonumber(legacy) or 0) > s.floor then floor = legacy end
end
if s.token ~= '' and s.token ~= token then
  if s.payload or s.kind == 'foreign' then writeBare(KEYS[1], s, now) end
  return {5, floor}
end
if s.token == token then
  -- asked again by the holder: its lease comes back (a dropped value goes)
  if s.payload then writeBare(KEYS[1], s, now) end
  return {4, floor}
end
s.token = token
s.leaseUntil = now + tonumber(ARGV[2])
writeBare(KEYS[1], s, now)
return {4, floor}
