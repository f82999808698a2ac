#!/usr/bin/env bash
# Prints the folder of a Node the project supports (package.json engines: ^22.22.0 || >=24.6.0):
# the one on PATH when it is supported, else Node 24 from the npm registry (`npx -y node@24`,
# cached by npm after the first time). README commands 1 and 2 put it first on PATH, so a
# machine whose own Node is older (Debian's, or an end-of-life 20) still runs everything.
set -euo pipefail
if command -v node >/dev/null 2>&1 &&
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit((a === 22 && b >= 22) || (a === 24 && b >= 6) || a > 24 ? 0 : 1)'; then
  dirname "$(command -v node)"
else
  echo "node $(node -v 2>/dev/null || echo missing) is not a supported version (^22.22 or >= 24.6): using Node 24 from the npm registry" >&2
  dirname "$(npx -y node@24 -p process.execPath)"
fi
