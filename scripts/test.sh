#!/usr/bin/env bash
# The one test command (README, .ci/run): type-check, lint, Lua drift check, unit tests, then e2e
# tests against a real Kafka + Redis stack that jest's globalSetup starts once and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
# A supported Node first on PATH (the machine's when it is one, else Node 24 from the npm registry).
PATH="$(bash scripts/node-bin.sh):$PATH"
export PATH
npx tsc -p tsconfig.json --noEmit
# ESLint (typescript-eslint type-checked rules) with Prettier as a rule: the style is checked, not hoped for.
npx eslint .
npx jest --selectProjects unit
# --forceExit: kafkajs and ioredis keep reconnect timers alive after the last test of a file that
# stopped a server on purpose; every test closes what it opened, this only bounds the exit.
# e2e-kafkajs: the invalidator's guarantee tests again with KAFKA_CLIENT=kafkajs (the second
# client; platformatic is the default), on the same stack (one jest run, one globalSetup).
npx jest --selectProjects e2e e2e-kafkajs --runInBand --forceExit "$@"
