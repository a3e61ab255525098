#!/usr/bin/env bash
# apt-install.sh WHO PACKAGE...: installs the Debian packages of the list that are missing, and
# nothing when all are there. Runs as root or through sudo. Packages are kept from starting
# system services while they install (policy-rc.d 101 = "do not start"): the tests start
# redis-server and nats-server themselves on free loopback ports. Shared by install-deps.sh and
# install-test-deps.sh; WHO prefixes the log line.
set -euo pipefail
who=$1
shift

missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "$who: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
policy=/usr/sbin/policy-rc.d
placed_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  placed_policy=1
fi
status=0
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
[ "$placed_policy" = 1 ] && $SUDO rm -f "$policy"
exit $status
