#!/usr/bin/env bash
# Checks the zsh completion that `with-gpu --completions zsh` writes, in an interactive zsh
# (zsh_capture.zsh): flags, values, profiles, GPU indices and models, then the command.
# Usage: zsh_test.sh WITH_GPU NVML_DOUBLE MACHINES_DIR
set -u
[[ $# -eq 3 ]] || { echo "usage: $0 WITH_GPU NVML_DOUBLE MACHINES_DIR"; exit 2; }
command -v zsh >/dev/null || { echo "SKIP: zsh is not installed (scripts/install-deps.sh installs it)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/xdg/with-gpu" "$work/bin" "$work/functions"
printf '[profiles.llm]\nmax_util = 50\n[profiles.inference]\nmax_util = 90\n' >"$work/xdg/with-gpu/config.toml"
printf '[profiles.lab-wide]\nmin_gpus = 2\n' >"$work/system.toml"
printf '#!/bin/sh\n' >"$work/bin/mytool" && chmod +x "$work/bin/mytool"
ln -s "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" "$work/bin/with-gpu"
"$1" --completions zsh >"$work/functions/_with-gpu" || { echo "FAIL: no script"; exit 1; }
zsh -n "$work/functions/_with-gpu" || { echo "FAIL: the script is not valid zsh"; exit 1; }
export XDG_CONFIG_HOME=$work/xdg WITH_GPU_SYSTEM_CONFIG=$work/system.toml PATH=$work/bin:$PATH
export WITH_GPU_NVML_LIBRARY=$2 NVML_DOUBLE_MACHINE=$3/server-8gpu-mixed.json WITH_GPU_LOCK_DIR=$work/locks
passed=0 failed=0
complete_line() {  # complete_line EXPECTED LINE
  local got
  rm -f "$work/out" "$work/out.done" "$work/out.ready"
  timeout 30 zsh -f "$here/zsh_capture.zsh" "$2" "$work/functions" "$work/out" ||
    { failed=$((failed + 1)); echo "FAIL: '$2': zsh did not complete"; return; }
  got=$(sed -n 's/^<<\(.*\)>>$/\1/p' "$work/out" | sort -u | xargs -d '\n')
  if [[ $got == "$1" ]]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: '$2': expected '$1', got '$got'"; fi
}
complete_line "--min-gpus --min-memory" "with-gpu --min-"
complete_line "ignore prefer require" "with-gpu --numa "
complete_line "inference lab-wide llm" "with-gpu --profile "
complete_line "0 1 2 3 4 5 6 7" "with-gpu --gpu "
complete_line 'NVIDIA\ H100\ 80GB\ HBM3 NVIDIA\ L40S' "with-gpu --gpu-type "  # quoted as inserted
complete_line "mytool" "with-gpu --wait mytoo"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
