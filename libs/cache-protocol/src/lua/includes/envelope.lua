-- The value envelope (format 1): "1|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<payload>".
-- freshForMs 0 = never goes stale before its hard TTL. Decoded by src/envelope.ts.
local function makeEnvelope(version, writtenAt, freshFor, namespaceGen, payload)
  return '1|' .. version .. '|' .. writtenAt .. '|' .. freshFor .. '|' .. namespaceGen .. '|' .. payload
end
