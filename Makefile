# The two commands of the README: `make run` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
HOST ?= 127.0.0.1
PORT ?= 6001
METRICS_PORT ?= 9601
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
SOAK_SECONDS ?= 600

.PHONY: deps configure build run test test-asan test-tsan fuzz fuzz-smoke e2e-deps bench chaos soak clean

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@echo "Starting sockudo-node on ws://$(HOST):$(PORT)/app/app-key (HTTP API http://$(HOST):$(PORT)/apps/app-id, metrics http://$(HOST):$(METRICS_PORT)/metrics)"
	@echo "Default app: id=app-id key=app-key secret=app-secret. Apps API: http://127.0.0.1:8080/v1/apps (gRPC 127.0.0.1:50051). Stop with Ctrl-C."
	@HOST=$(HOST) PORT=$(PORT) METRICS_HOST=$(HOST) METRICS_PORT=$(METRICS_PORT) ./$(BUILD_DIR)/dataplane/sockudo-node

e2e-deps:
	@./scripts/install-test-deps.sh

# Every test (unit, integration, end-to-end), then each fuzz target for a short smoke.
test: build e2e-deps
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, in its own build tree.
test-asan: deps e2e-deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKUDO_SANITIZE=address -DSOCKUDO_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS)

# The whole suite under ThreadSanitizer, in its own build tree.
test-tsan: deps e2e-deps
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKUDO_SANITIZE=thread -DSOCKUDO_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (tests/fuzz), built with clang in build-fuzz/, FUZZ_SECONDS each.
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) ./scripts/fuzz.sh

fuzz-smoke: deps
	@FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) JOBS=$(JOBS) ./scripts/fuzz.sh

# Chaos cases, long form: more rounds and load, minutes per file (docs/chaos-and-soak.md).
chaos: build e2e-deps
	@cd tests && for f in chaos/*.test.js; do CHAOS_LONG=1 SOCKUDO_NODE_BIN=$(CURDIR)/$(BUILD_DIR)/dataplane/sockudo-node node --test --test-force-exit --test-reporter=spec $$f || exit 1; done

# Soak: SOAK_SECONDS of mixed load on two nodes over redis, sampled into build/soak/soak.csv and
# soak.png; fails if memory or descriptors do not come back near their baseline.
soak: build e2e-deps
	@SOAK_SECONDS=$(SOAK_SECONDS) SOCKUDO_NODE_BIN=$(CURDIR)/$(BUILD_DIR)/dataplane/sockudo-node SOAK_OUT_DIR=$(CURDIR)/$(BUILD_DIR)/soak node tests/soak/soak.js

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz

# Benchmarks sockudo-node and soketi 1.6.1 side by side (bench/compare.js; BENCH_ROUNDS=3).
bench: build
	@./bench/install-soketi.sh
	@BUILD_DIR=$(BUILD_DIR) node bench/compare.js
