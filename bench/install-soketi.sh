#!/usr/bin/env bash
# Installs soketi 1.6.1 (with the uWebSockets.js build from npm, see package.json) for make bench.
set -euo pipefail
cd "$(dirname "$0")/soketi"
[ -f node_modules/@soketi/soketi/bin/server.js ] && exit 0
npm ci --no-audit --no-fund --loglevel=error
