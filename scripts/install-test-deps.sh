#!/usr/bin/env bash
# Installs what the integration and end-to-end tests need beyond scripts/install-deps.sh:
# Debian's chromium (the live cluster page test drives it headless with puppeteer-core, at
# /usr/bin/chromium) and jq (the CLI format tests pipe JSON output through it), through
# scripts/apt-install.sh; and the npm packages (the
# real pusher-js and pusher clients, ws for raw frames, puppeteer-core) from
# tests/package-lock.json, once. npm never downloads a browser here.
set -euo pipefail

"$(dirname "$0")/apt-install.sh" install-test-deps chromium jq

cd "$(dirname "$0")/../tests"
stamp=node_modules/.installed-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then exit 0; fi
export PUPPETEER_SKIP_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
