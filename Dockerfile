# Container image of sockudo: sockudo-node (the entrypoint), sockudo-controlplane and the
# control plane's command line sockudoctl.
#
#   docker build -t sockudo:0.1.0 .
#   docker run --rm -p 6001:6001 -p 9601:9601 sockudo:0.1.0                   # a node
#   docker run --rm --entrypoint sockudo-controlplane -e ADAPTER_DRIVER=redis ... sockudo:0.1.0
#   docker run --rm --network host --entrypoint sockudoctl sockudo:0.1.0 --token ... apps list
#
# The build stage runs the Makefile's steps (make deps, make configure, make build) on Debian
# bookworm; the runtime stage holds the three binaries and only the shared libraries they load,
# and runs them as an unprivileged user. The Helm chart in helm/sockudo uses this image.

# ---- build ------------------------------------------------------------------------------------
FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . .
# make deps: the Debian packages the project builds with (the script runs apt-get update itself).
RUN ./scripts/install-deps.sh
# make configure: Release with Ninja, without the tests and benchmarks (not part of the image).
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSOCKUDO_BUILD_TESTS=OFF -DSOCKUDO_BUILD_BENCH=OFF
# make build: only the three binaries the image ships.
RUN cmake --build build -j "$(nproc)" --target sockudo-node sockudo-controlplane sockudoctl \
 && strip build/dataplane/sockudo-node build/controlplane/sockudo-controlplane build/cli/sockudoctl

# ---- runtime ----------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# The runtime halves of the -dev packages the binaries link (gRPC, Protobuf, Abseil, hiredis,
# nats.c, spdlog, prometheus-cpp, OpenSSL, liburing; yaml-cpp for sockudoctl, whose CLI11 and
# nlohmann-json are header-only), and CA roots for TLS to Redis / NATS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libabsl20220623 \
      libc-ares2 \
      libfmt9 \
      libgrpc++1.51 \
      libgrpc29 \
      libhiredis0.14 \
      libnats3.4 \
      libprometheus-cpp-core1.0 \
      libprotobuf-c1 \
      libprotobuf32 \
      libre2-9 \
      libspdlog1.10 \
      libssl3 \
      liburing2 \
      libyaml-cpp0.7 \
      zlib1g \
 && rm -rf /var/lib/apt/lists/*
# Unprivileged user; the Helm chart runs the pods as this uid/gid (podSecurityContext).
RUN groupadd --system --gid 10001 sockudo \
 && useradd --system --uid 10001 --gid sockudo --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin sockudo
COPY --from=build /src/build/dataplane/sockudo-node /src/build/controlplane/sockudo-controlplane \
     /src/build/cli/sockudoctl /usr/local/bin/
# Fail the image build if a shared library is missing.
RUN ! ldd /usr/local/bin/sockudo-node /usr/local/bin/sockudo-controlplane /usr/local/bin/sockudoctl \
      | grep 'not found' \
 && sockudo-node --version && sockudo-controlplane --version && sockudoctl --version
# An empty working directory: a config/config.json mounted below it is read at start
# (or point SOCKUDO_CONFIG_FILE at a file). Nothing is written to disk.
WORKDIR /srv/sockudo
USER 10001:10001
# 6001 WebSocket + Pusher HTTP API, 9601 metrics and health; 50051 gRPC and 8080 REST of the
# control plane (sockudo-controlplane, or embedded in a node with the local adapter).
EXPOSE 6001 9601 50051 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["sockudo-node"]
