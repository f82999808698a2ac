-- The value envelope (decoded by src/envelope.ts). freshForMs 0 = never stale before its hard TTL.
-- Format 1 (no tags):   "1|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<payload>"
-- Format 2 (tagged):    "2|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<tag epochs>\n<payload>"
--   tag epochs: "<tag state key> <epoch>" pairs joined by spaces (keys and epochs hold no
--   whitespace), the epoch each tag had when the value was loaded (fill) or joined (warm).
local function makeEnvelope(version, writtenAt, freshFor, namespaceGen, tagEpochs, payload)
  if tagEpochs == nil or tagEpochs == '' then
    return '1|' .. version .. '|' .. writtenAt .. '|' .. freshFor .. '|' .. namespaceGen .. '|' .. payload
  end
  return '2|' .. version .. '|' .. writtenAt .. '|' .. freshFor .. '|' .. namespaceGen .. '|' .. tagEpochs .. '\n' .. payload
end
