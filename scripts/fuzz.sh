#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for FUZZ_SECONDS (default
# 60). New inputs go to build-fuzz/corpus/<target>/ (the seeds in tests/fuzz/corpus/ are read,
# never written). Exits non-zero when a target crashes; the crashing input is kept in
# build-fuzz/crashes/ (turn it into a unit test before fixing it). Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
jobs=${JOBS:-$(nproc)}
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DSOCKUDO_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzzers
mkdir -p build-fuzz/crashes
status=0
for target in $(ls tests/fuzz/*_fuzz.cc | xargs -n1 basename | sed 's/\.cc$//'); do
  mkdir -p "build-fuzz/corpus/$target"
  log="build-fuzz/$target.log"
  if ./build-fuzz/tests/fuzz/"$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -dict="tests/fuzz/dict/$target.dict" -artifact_prefix="build-fuzz/crashes/$target-" \
      -print_final_stats=1 "build-fuzz/corpus/$target" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    printf 'fuzz %-22s ok   %10s executions in %ss (%s)\n' "$target" "$execs" "$seconds" "$cov"
  else
    printf 'fuzz %-22s FAILED, see %s:\n' "$target" "$log"
    grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5
    status=1
  fi
done
exit $status
