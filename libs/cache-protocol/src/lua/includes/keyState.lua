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
local MAX_UNTIL = 9000000000000000
local ZERO16 = '0000000000000000'
-- ZEROS[n]: n zeros; DOTS[n]: n dots (padding without string.rep or string.format per key: the
-- batch scripts run this for every key, and Lua-side work costs Redis more than the commands)
local ZEROS = {}
local DOTS = {}
for n = 0, 24 do
  ZEROS[n] = string.rep('0', n)
  DOTS[n] = string.rep('.', n)
end
local NO_LEASE = ZERO16 .. '|' .. DOTS[24] .. '|'

-- A non-negative integer as exact decimal text (Lua's own conversion prints 14 significant
-- digits, exact below 10^14).
local function fmt(n)
  if n < 1e14 then return '' .. n end
  return string.format('%.0f', n)
end

local function pad16(text)
  return ZEROS[16 - #text] .. text
end

local function until16(n)
  if n > MAX_UNTIL then n = MAX_UNTIL end
  return pad16(fmt(n))
end

-- The state of a key holding a floor alone (no lease, no value).
local function floorState(floor16, floorUntil)
  return '4|' .. floor16 .. '|' .. until16(floorUntil) .. '|' .. NO_LEASE
end

-- The one state a script works on at a time (its keys are handled one after the other), reused
-- so a batch of 64 keys does not allocate 64 tables.
local S = {}

-- Parses the first bytes of K (at least the 112 of the state and value heads when present)
-- into S. kind: 'none' (absent), 'state' (format 4), 'legacy' (formats 1-3), 'foreign'
-- (anything else). floor, token and value are only what is still live at `now`; payload says a
-- value (live or dead) is stored. floor16 / version16 keep the stored 16-digit text.
local function parseState(head, now)
  local s = S
  s.kind = 'none'
  s.floor = 0
  s.floor16 = ZERO16
  s.floorUntil = 0
  s.leaseUntil = 0
  s.token = ''
  s.value = false
  s.payload = false
  s.version = 0
  s.version16 = ZERO16
  s.hardUntil = 0
  if type(head) ~= 'string' then
    s.kind = 'foreign'
    return s
  end
  local size = #head
  if size == 0 then return s end
  if size >= STATE_LEN and string.byte(head, 1) == 52 and string.byte(head, STATE_LEN) == 124 then
    local floor = tonumber(string.sub(head, 3, 18))
    local floorUntil = tonumber(string.sub(head, 20, 35))
    local leaseUntil = tonumber(string.sub(head, 37, 52))
    if floor and floorUntil and leaseUntil then
      s.kind = 'state'
      if floorUntil > now and floor > 0 then
        s.floor = floor
        s.floor16 = string.sub(head, 3, 18)
        s.floorUntil = floorUntil
      end
      if leaseUntil > now then
        local token = string.match(string.sub(head, 54, 77), '^[^%.]*')
        if token ~= '' then
          s.token = token
          s.leaseUntil = leaseUntil
        end
      end
      if size > STATE_LEN then
        s.payload = true
        local version = tonumber(string.sub(head, 79, 94))
        local hardUntil = tonumber(string.sub(head, 96, 111))
        if version and hardUntil and hardUntil > now then
          s.value = true
          s.version = version
          s.version16 = string.sub(head, 79, 94)
          s.hardUntil = hardUntil
        end
      end
      return s
    end
  end
  local v = string.match(head, '^[123]|(%d+)|')
  -- (a version longer than 16 digits cannot be one the protocol wrote: foreign, replaced like one)
  if v and #v <= 16 then
    s.kind = 'legacy'
    s.value = true
    s.payload = true
    s.version = tonumber(v)
    s.version16 = pad16(v)
    return s
  end
  s.kind = 'foreign'
  return s
end

local function readState(key, now)
  return parseState(redis.pcall('GETRANGE', key, 0, HEAD_LEN - 1), now)
end

-- Something is stored that counts as a value: a live format-4 value, one of an earlier format,
-- or anything foreign (replaced like a value).
local function hasStored(s)
  return s.value or s.kind == 'foreign' or s.kind == 'legacy'
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
  local floor16, floorUntil = ZERO16, 0
  if s.floor > 0 then floor16, floorUntil = s.floor16, s.floorUntil end
  if token == '' then return floorState(floor16, floorUntil) end
  return '4|' .. floor16 .. '|' .. until16(floorUntil) .. '|' .. until16(s.leaseUntil) .. '|' .. token .. DOTS[24 - #token] .. '|'
end

-- Raises the floor to `v` (text: its exact decimal, at most 16 digits) for at least until `untilMs`. Never lowers
-- it and never shortens it: a higher floor also stands for every lower one, so it keeps the
-- longer life. Returns true when the state changed.
local function raiseFloor(s, text, v, untilMs)
  if s.floor > v then return false end
  if s.floor < v then
    s.floor = v
    s.floor16 = pad16(text)
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
