#!/usr/bin/env bash
# Installs what the integration and end-to-end tests need beyond scripts/install-deps.sh:
# Debian's chromium (the live cluster page test drives it headless with puppeteer-core, at
# /usr/bin/chromium), only when it is missing, as root or through sudo; and the npm packages (the
# real pusher-js and pusher clients, ws for raw frames, puppeteer-core) from
# tests/package-lock.json, once. npm never downloads a browser here.
set -euo pipefail

if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then
  echo "install-test-deps: installing chromium"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Keep the packages from starting system services (dbus, ...) while they install
  # (policy-rc.d 101 = "do not start"), as scripts/install-deps.sh does.
  policy=/usr/sbin/policy-rc.d
  placed_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    placed_policy=1
  fi
  status=0
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null || status=$?
  [ "$placed_policy" = 1 ] && $SUDO rm -f "$policy"
  [ "$status" -eq 0 ] || exit "$status"
fi

cd "$(dirname "$0")/../tests"
stamp=node_modules/.installed-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then exit 0; fi
export PUPPETEER_SKIP_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
