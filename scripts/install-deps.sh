#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing.
# Idempotent and fast when everything is present. Runs as root or through sudo.
set -euo pipefail

packages=(
  cmake g++ make pkg-config ninja-build ccache
  libboost-dev libboost-system-dev
  nlohmann-json3-dev libspdlog-dev libabsl-dev libssl-dev openssl liburing-dev
  libgtest-dev libgmock-dev
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  libhiredis-dev libnats-dev prometheus-cpp-dev
  redis-server redis-tools nats-server tmux
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcli11-dev libyaml-cpp-dev
)
# Node and npm run the end-to-end tests with the real pusher-js and pusher packages.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The tests start redis-server and nats-server themselves on free loopback ports: keep the
# packages from starting system services while they install (policy-rc.d 101 = "do not start").
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
