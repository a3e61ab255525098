#!/usr/bin/env bash
# Installs the npm packages of the integration and end-to-end tests (the real pusher-js and
# pusher clients, and ws for raw frames) from tests/package-lock.json, once.
set -euo pipefail
cd "$(dirname "$0")/../tests"
stamp=node_modules/.installed-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then exit 0; fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
