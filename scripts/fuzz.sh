#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) into build-fuzz and
# runs each for SECONDS (default 60) from its committed seed corpus in fuzz/corpus.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/install-deps.sh clang-14 libclang-rt-14-dev
mkdir -p build-fuzz
# NDEBUG as in the release build: toml++ 3.3.0 asserts on a control character after '['
# in debug builds, where a release build reports the syntax error (fuzz/regressions).
flags=(-std=c++20 -O1 -g -DNDEBUG -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc
       -Ibuild/src/generated -DTOML_HEADER_ONLY=1)
core=(src/core/units.cpp src/core/cpu_set.cpp src/core/gpu.cpp src/core/gpu_list.cpp src/core/visible_devices.cpp
      src/core/identity.cpp src/core/selector.cpp src/core/gpu_set.cpp src/core/text.cpp src/core/nearest.cpp)
# Rebuilds a target when its fuzz source or any source it compiles is newer than it.
build() {
  local name=$1 source; shift
  for source in "fuzz/$name.cpp" "$@"; do
    [[ build-fuzz/$name -nt $source ]] || { clang++-14 "${flags[@]}" "fuzz/$name.cpp" "$@" -o "build-fuzz/$name"; return; }
  done
}
[[ -f build/src/generated/cli/version.hpp ]] || scripts/build.sh
build fuzz_units src/core/units.cpp src/core/cpu_set.cpp src/core/text.cpp
build fuzz_gpu_list "${core[@]}"
build fuzz_config src/config/config_file.cpp src/core/nearest.cpp
build fuzz_command_line src/cli/options.cpp src/config/config_file.cpp "${core[@]}"
build fuzz_show_config src/cli/options.cpp src/config/config_file.cpp "${core[@]}"
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
