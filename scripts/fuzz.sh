#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) into build-fuzz and
# runs each for SECONDS (default 60) from its committed seed corpus in fuzz/corpus.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/install-deps.sh clang-14 libclang-rt-14-dev
# The fuzz targets are CMake targets (fuzz/CMakeLists.txt) over the same libraries as
# with-gpu. NDEBUG as in the release build: toml++ 3.3.0 asserts on a control character
# after '[' in debug builds, where a release build reports the syntax error (fuzz/regressions).
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWITH_GPU_FUZZERS=ON -DWITH_GPU_TESTS=OFF -DWITH_GPU_STATIC_RUNTIME=OFF >/dev/null
cmake --build build-fuzz --target fuzzers -j "$(nproc)" >build-fuzz/build.log 2>&1 ||
  { cat build-fuzz/build.log; echo "the fuzz targets did not build"; exit 1; }
# Inputs that once found a problem run first, each once.
build-fuzz/fuzz_config fuzz/regressions/config-*.toml >build-fuzz/regressions.log 2>&1 ||
  { cat build-fuzz/regressions.log; echo "a fuzz regression came back"; exit 1; }
echo "regressions: $(ls fuzz/regressions | wc -l) inputs pass"
for target in units gpu_list config command_line show_config; do
  mkdir -p "build-fuzz/corpus-$target"
  echo "fuzz_$target: ${seconds}s"
  log=build-fuzz/fuzz_$target.log
  if ! "build-fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -artifact_prefix=build-fuzz/ \
      "build-fuzz/corpus-$target" "fuzz/corpus/$target" >"$log" 2>&1; then
    grep -E "ERROR|SUMMARY|Assertion|runtime error|Test unit written" "$log" | head -20
    echo "fuzz_$target found a problem: the input is in build-fuzz/ (log: $log)"
    exit 1
  fi
  grep -E "^#[0-9]+.*DONE" "$log" | tail -1
done
echo "fuzzing: no crash, no sanitizer report"
