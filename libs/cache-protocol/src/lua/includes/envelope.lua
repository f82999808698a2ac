-- The value envelope (decoded by src/envelope.ts). freshForMs 0 = never stale before its hard TTL.
-- Format 1 (no tags):   "1|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<payload>"
-- Format 2 (tagged):    "2|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<tag epochs>\n<payload>"
--   tag epochs: "<tag state key> <epoch>" pairs joined by spaces (keys and epochs hold no
--   whitespace), the epoch each tag had when the value was loaded (fill) or joined (warm).
-- Format 3 (a fill that measured its load time, for early refresh; tag epochs may be empty):
--                       "3|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<loadMs>|<tag epochs>\n<payload>"
local function makeEnvelope(version, writtenAt, freshFor, namespaceGen, tagEpochs, payload, loadMs)
  if loadMs ~= nil and loadMs ~= '' then
    return '3|' .. version .. '|' .. writtenAt .. '|' .. freshFor .. '|' .. namespaceGen .. '|' .. loadMs .. '|' .. (tagEpochs or '') .. '\n' .. payload
  end
  if tagEpochs == nil or tagEpochs == '' then
    return '1|' .. version .. '|' .. writtenAt .. '|' .. freshFor .. '|' .. namespaceGen .. '|' .. payload
  end
  return '2|' .. version .. '|' .. writtenAt .. '|' .. freshFor .. '|' .. namespaceGen .. '|' .. tagEpochs .. '\n' .. payload
end
