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

exec "$(dirname "$0")/apt-install.sh" install-deps "${packages[@]}"
