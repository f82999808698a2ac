#!/usr/bin/env bash
# README command 1: installs what is missing, then runs scripts/dev.ts (stack + services +
# sample traffic + dashboard). Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v java >/dev/null 2>&1 || { echo "java not found: install Java 17+ (e.g. sudo apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }
command -v mvn >/dev/null 2>&1 || { echo "mvn not found: install Apache Maven (e.g. sudo apt-get install -y maven)" >&2; exit 1; }
PATH="$(bash scripts/node-bin.sh):$PATH"
export PATH
[ -d node_modules ] || npm ci --no-audit --no-fund
exec node -r ts-node/register/transpile-only -r tsconfig-paths/register scripts/dev.ts
