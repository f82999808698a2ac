#!lua flags=allow-oom
--[[
  leaseGet-3: the read side's GET. A hit returns the envelope; a miss hands out the one live
  lease of K (Facebook memcache leases) or tells the caller to wait for its holder.

  KEYS[1] value key (K)
  KEYS[2] tombstone of K
  KEYS[3] lease of K
  ARGV[1] lease token the caller would hold (random, unique per request)
  ARGV[2] lease TTL in ms (a crashed holder blocks others at most this long)
  ARGV[3] minimum namespace generation: an envelope of an older generation is deleted and
          read as a miss
  ARGV[4] '1': check a tagged envelope's (format 2) tag epochs here: each tag state's current
          epoch must equal the recorded one, and a missing (expired, evicted) state counts as
          invalidated; else the value is deleted and read as a miss. Standalone Redis only:
          the tag states live in other slots, so on a cluster the caller passes '0' and checks
          them itself.
  ARGV[5] header to drop ('' = none): the caller found this envelope's tags invalidated (cluster
          check); when the stored envelope still starts with it, it is deleted and read as a miss

  Returns one of
    {1, envelope}          hit, fresh
    {2, envelope}          stale but servable, and the caller now holds the lease to refresh it
    {3, envelope}          stale but servable, someone else is refreshing it
    {4, tombstoneVersion}  miss, the caller holds the lease (tombstoneVersion '0' if none)
    {5, tombstoneVersion}  miss, someone else holds the lease: wait, then ask again
    {6, envelope}          hit, fresh, and the caller now holds the lease to refresh it early
  A caller asking again with the token it holds gets its lease back (2 or 4), not 3 or 5.
  A value that is not an envelope reads as a miss (a fill may overwrite it).
  Flagged allow-oom: reads keep working at maxmemory (a lease is a few bytes and expires; the
  fill it allows is refused there, and the lease released).
]]
--- @include "serverTime"
local function takeLease()
  local holder = redis.call('GET', KEYS[3])
  if not holder then
    redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
    return true
  end
  return holder == ARGV[1]
end

local function tagsCurrent(tagEpochs)
  for stateKey, epoch in string.gmatch(tagEpochs, '(%S+) (%S+)') do
    if redis.call('HGET', stateKey, 'e') ~= epoch then return false end
  end
  return true
end

local envelope = redis.pcall('GET', KEYS[1])
if type(envelope) == 'string' then
  local writtenAt, freshFor, namespaceGen, tagEpochs, loadMs
  local format = string.byte(envelope, 1)
  if format == 50 then -- '2': tagged
    writtenAt, freshFor, namespaceGen, tagEpochs = string.match(envelope, '^2|%d+|(%d+)|(%d+)|(%d+)|([^\n]*)\n')
  elseif format == 51 then -- '3': with its load time (tags may be empty)
    writtenAt, freshFor, namespaceGen, loadMs, tagEpochs = string.match(envelope, '^3|%d+|(%d+)|(%d+)|(%d+)|(%d+)|([^\n]*)\n')
  else
    writtenAt, freshFor, namespaceGen = string.match(envelope, '^1|%d+|(%d+)|(%d+)|(%d+)|')
  end
  if writtenAt ~= nil then
    if tonumber(namespaceGen) < tonumber(ARGV[3])
      or (ARGV[5] ~= '' and string.sub(envelope, 1, #ARGV[5]) == ARGV[5])
      or (tagEpochs ~= nil and ARGV[4] == '1' and not tagsCurrent(tagEpochs)) then
      redis.call('DEL', KEYS[1])
    else
      local fresh = tonumber(freshFor)
      local early = tonumber(ARGV[6] or '')
      if early == nil or early <= 0 or loadMs == nil then early = nil end
      if fresh == 0 then
        -- never stale: it ends with its hard TTL, which early refresh looks at instead
        if early ~= nil then
          local left = redis.call('PTTL', KEYS[1])
          if left > 0 and left <= tonumber(loadMs) * early and takeLease() then return {6, envelope} end
        end
        return {1, envelope}
      end
      local left = tonumber(writtenAt) + fresh - tonumber(nowMillis())
      if left > 0 then
        if early ~= nil and left <= tonumber(loadMs) * early and takeLease() then
          return {6, envelope}
        end
        return {1, envelope}
      end
      if takeLease() then return {2, envelope} end
      return {3, envelope}
    end
  end
end
local tombstone = redis.call('GET', KEYS[2]) or '0'
if takeLease() then return {4, tombstone} end
return {5, tombstone}
