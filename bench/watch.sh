#!/usr/bin/env bash
# CPU cost of `with-gpu --status --watch 1s` on a simulated 8-GPU machine (NVML test
# double), against the usual alternative measured in the same run: a shell loop that runs
# `with-gpu --status` every second (what `watch -n1` does). Prints a Markdown table.
# Usage: bench/watch.sh [BUILD_DIR] [SECONDS]   (defaults: build, 20)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
seconds=${2:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
export WITH_GPU_NVML_LIBRARY=$build/nvml-double/libnvidia-ml-double.so
export NVML_DOUBLE_MACHINE=$here/examples/machines/server-8gpu-mixed.json
export WITH_GPU_LOCK_DIR=$work/locks WITH_GPU_SYSTEM_CONFIG=$work/none
binary=$build/src/with-gpu
# CPU time in ns: the process's own (schedstat, precise) plus its waited-for children's
# (stat's cutime+cstime, in clock ticks).
hz=$(getconf CLK_TCK)
ticks() {
  local own children
  own=$(awk '{print $1}' "/proc/$1/schedstat")
  children=$(awk -v hz="$hz" '{printf "%d", ($16 + $17) * 1e9 / hz}' "/proc/$1/stat")
  echo $((own + children))
}

"$binary" --status --watch 1s </dev/null >/dev/null &
watcher=$!
sleep 1
before=$(ticks $watcher)
sleep "$seconds"
after=$(ticks $watcher)
kill -INT $watcher
wait $watcher || true
watch_percent=$(awk -v t=$((after - before)) -v s=$seconds 'BEGIN {printf "%.3f", 100 * t / 1e9 / s}')

bash -c 'while :; do "$0" --status >/dev/null; sleep 1; done' "$binary" &
loop=$!
sleep 1
before=$(ticks $loop)
sleep "$seconds"
after=$(ticks $loop)
kill $loop
wait $loop 2>/dev/null || true
loop_percent=$(awk -v t=$((after - before)) -v s=$seconds 'BEGIN {printf "%.3f", 100 * t / 1e9 / s}')

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, Linux $(uname -r); $seconds s each, 8 simulated GPUs"
echo
echo "| command | CPU, % of one core |"
echo "| --- | --- |"
echo "| \`with-gpu --status --watch 1s\` | $watch_percent |"
echo "| \`while :; do with-gpu --status; sleep 1; done\` | $loop_percent |"
echo
awk -v a="$watch_percent" -v b="$loop_percent" 'BEGIN { if (b > 0) printf "watch / loop: %.2f\n", a / b }'
