-- The single-key state (envelope format 4): everything the protocol keeps for a cache key K
-- lives in K itself, so one GETRANGE reads it and one SET (or SETRANGE) writes it, and nothing
-- of it can expire or be evicted apart from the rest (decoded by src/envelope.ts; keep in step).
--
--   "4|<floor>|<floorUntil>|<leaseUntil>|<token>|"                               78 bytes, fixed
--   then, when a value is cached:
--   "<version>|<hardUntil>|<writtenAt>|<freshForMs>|<namespaceGen>|<loadMs>|<tag epochs>\n<payload>"
--
-- floor, floorUntil, leaseUntil, version and hardUntil are 16 zero-padded decimal digits (times
-- are Redis server milliseconds), token is the lease token right-padded with '.' to 24 bytes.
-- floor: the version floor ("data before this version is stale") until floorUntil; leaseUntil 0
-- or token all dots: no lease. The value is served until hardUntil; the key's own TTL is the
-- latest of hardUntil, floorUntil and leaseUntil, so a dead value may sit behind a live floor
-- until the next write drops it. Fixed widths let a write that keeps the value rewrite the 78
-- state bytes in place (SETRANGE) without copying the payload through Lua.
-- Formats 1-3 (a value alone, written by earlier versions) are read as a live value with no
-- floor or lease in K; any write here turns the key into format 4.
--- @include "serverTime"
local STATE_LEN = 78
local HEAD_LEN = 112 -- state + "<version>|<hardUntil>|"
local NO_TOKEN = '........................'
local MAX_UNTIL = 9000000000000000

local function pad16(text)
  return string.rep('0', 16 - #text) .. text
end

local function fmt(n)
  return string.format('%.0f', n)
end

local function until16(n)
  if n > MAX_UNTIL then n = MAX_UNTIL end
  return string.format('%016.0f', n)
end

-- Parses the first bytes of K (at least the 112 of the state and value heads when present).
-- kind: 'none' (absent), 'state' (format 4), 'legacy' (formats 1-3), 'foreign' (anything else).
-- floor, token and value are only what is still live at `now`; payload says a value (live or
-- dead) is stored; until is when the key expires as last written (the latest live time).
local function parseState(head, now)
  local s = { kind = 'none', floor = 0, floorText = '0', floorUntil = 0, leaseUntil = 0, token = '', value = false, payload = false, version = 0, versionText = '0', hardUntil = 0 }
  if type(head) ~= 'string' then
    s.kind = 'foreign'
    return s
  end
  if head == '' then return s end
  if string.byte(head, 1) == 52 and #head >= STATE_LEN and string.byte(head, STATE_LEN) == 124 then
    local floor, floorUntil, leaseUntil, token = string.match(head, '^4|(%d+)|(%d+)|(%d+)|([%w_%-%.]+)|')
    if floor and #token == 24 then
      s.kind = 'state'
      floorUntil = tonumber(floorUntil)
      if floorUntil > now and tonumber(floor) > 0 then
        s.floorText = string.match(floor, '^0*(%d-%d)$')
        s.floor = tonumber(floor)
        s.floorUntil = floorUntil
      end
      leaseUntil = tonumber(leaseUntil)
      if leaseUntil > now then
        s.token = string.match(token, '^[^%.]*')
        if s.token ~= '' then s.leaseUntil = leaseUntil end
      end
      if #head > STATE_LEN then
        s.payload = true
        local version, hardUntil = string.match(head, '^(%d+)|(%d+)|', STATE_LEN + 1)
        if version and tonumber(hardUntil) > now then
          s.value = true
          s.versionText = string.match(version, '^0*(%d-%d)$')
          s.version = tonumber(version)
          s.hardUntil = tonumber(hardUntil)
        end
      end
      return s
    end
  end
  local v = string.match(head, '^[123]|(%d+)|')
  if v then
    s.kind = 'legacy'
    s.value = true
    s.payload = true
    s.version = tonumber(v)
    s.versionText = v
    return s
  end
  s.kind = 'foreign'
  return s
end

local function readState(key, now)
  return parseState(redis.pcall('GETRANGE', key, 0, HEAD_LEN - 1), now)
end

-- When the key must live until: the latest of its live value, floor and lease (0: nothing).
local function keyUntil(s)
  local u = 0
  if s.value and s.kind == 'state' then u = s.hardUntil end
  if s.floor > 0 and s.floorUntil > u then u = s.floorUntil end
  if s.token ~= '' and s.leaseUntil > u then u = s.leaseUntil end
  return u
end

local function stateHeader(s)
  local token = s.token
  local leaseUntil = s.leaseUntil
  if token == '' then leaseUntil = 0 end
  local floorUntil = s.floorUntil
  if s.floor <= 0 then floorUntil = 0 end
  return '4|' .. pad16(s.floorText) .. '|' .. until16(floorUntil) .. '|' .. until16(leaseUntil) .. '|' .. token .. string.sub(NO_TOKEN, #token + 1) .. '|'
end

-- Raises the floor to `v` (text: its exact decimal) for at least until `untilMs`. Never lowers
-- it and never shortens it: a higher floor also stands for every lower one, so it keeps the
-- longer life. Returns true when the state changed.
local function raiseFloor(s, text, v, untilMs)
  if s.floor > v then return false end
  if s.floor < v then
    s.floor = v
    s.floorText = text
    if untilMs > s.floorUntil then s.floorUntil = untilMs end
    return true
  end
  if untilMs > s.floorUntil then
    s.floorUntil = untilMs
    return true
  end
  return false
end

local function voidLease(s)
  if s.token == '' then return false end
  s.token = ''
  s.leaseUntil = 0
  return true
end

-- Writes the state without a value (drops a stored payload, live or dead, or a foreign value).
-- Deletes the key when nothing in it needs to live on.
local function writeBare(key, s, now)
  s.value = false
  local u = keyUntil(s)
  if u <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, stateHeader(s), 'PX', fmt(u - now))
  end
end

-- Rewrites the 78 state bytes of a format-4 key that keeps its live value, in place; extends the
-- key's TTL only when the new state must outlive `oldUntil` (what it was written with).
local function writeInPlace(key, s, oldUntil, now)
  redis.call('SETRANGE', key, 0, stateHeader(s))
  local u = keyUntil(s)
  if u > oldUntil then redis.call('PEXPIRE', key, fmt(u - now)) end
end

-- Writes a state change: in place when a live format-4 value stays, else without the value.
local function writeState(key, s, oldUntil, now)
  if s.value and s.kind == 'state' then
    writeInPlace(key, s, oldUntil, now)
  else
    writeBare(key, s, now)
  end
end

-- Stores a value (fill, warm) with the state `s` (the floor kept, the lease already voided).
-- writtenAt is `now`; hardUntil = now + hardTtl.
local function writeValue(key, s, now, versionText, hardTtl, freshFor, namespaceGen, loadMs, tagEpochs, payload)
  local hardUntil = now + tonumber(hardTtl)
  s.kind = 'state'
  s.value = true
  s.hardUntil = hardUntil
  local u = keyUntil(s)
  redis.call(
    'SET',
    key,
    stateHeader(s) .. pad16(versionText) .. '|' .. until16(hardUntil) .. '|' .. fmt(now) .. '|' .. freshFor .. '|' .. namespaceGen .. '|' .. (loadMs or '') .. '|' .. (tagEpochs or '') .. '\n' .. payload,
    'PX',
    fmt(u - now)
  )
end
