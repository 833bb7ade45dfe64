#!/usr/bin/env bash
# Checks the fish completion that `with-gpu --completions fish` writes, through fish's own
# `complete -C`: flags, values, profiles, GPU indices and models, then the command's words.
# Usage: fish_test.sh WITH_GPU NVML_DOUBLE MACHINES_DIR
set -u
[[ $# -eq 3 ]] || { echo "usage: $0 WITH_GPU NVML_DOUBLE MACHINES_DIR"; exit 2; }
command -v fish >/dev/null || { echo "SKIP: fish is not installed (scripts/install-deps.sh installs it)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/xdg/with-gpu" "$work/bin"
printf '[profiles.llm]\nmax_util = 50\n[profiles.inference]\nmax_util = 90\n' >"$work/xdg/with-gpu/config.toml"
printf '[profiles.lab-wide]\nmin_gpus = 2\n' >"$work/system.toml"
printf '#!/bin/sh\n' >"$work/bin/mytool" && chmod +x "$work/bin/mytool"
ln -s "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" "$work/bin/with-gpu"
"$1" --completions fish >"$work/with-gpu.fish" || { echo "FAIL: no script"; exit 1; }
export XDG_CONFIG_HOME=$work/xdg WITH_GPU_SYSTEM_CONFIG=$work/system.toml PATH=$work/bin:$PATH
export WITH_GPU_NVML_LIBRARY=$2 NVML_DOUBLE_MACHINE=$3/server-8gpu-mixed.json WITH_GPU_LOCK_DIR=$work/locks
passed=0 failed=0
complete_line() {  # complete_line EXPECTED LINE: the candidates fish offers, descriptions cut
  local got
  got=$(fish --no-config -c "source $work/with-gpu.fish; complete -c mytool -f -a 'alpha beta'; complete -C '$2'" \
    2>&1 | cut -f1 | sort | xargs -d '\n')
  if [[ $got == "$1" ]]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: '$2': expected '$1', got '$got'"; fi
}
complete_line "--min-gpus --min-memory" "with-gpu --min-"
complete_line "ignore prefer require" "with-gpu --numa "
complete_line "inference lab-wide llm" "with-gpu --profile "
complete_line "0 1 2 3 4 5 6 7" "with-gpu --gpu "
complete_line "3,0 3,1 3,2 3,3 3,4 3,5 3,6 3,7" "with-gpu --gpu 3,"
complete_line "NVIDIA H100 80GB HBM3 NVIDIA L40S" "with-gpu --gpu-type "
complete_line "--dry-run" "with-gpu --dry"
complete_line "alpha" "with-gpu --min-gpus 2 mytool al"
complete_line "beta" "with-gpu -- mytool b"
complete_line "mytool" "with-gpu --wait mytoo"
complete_line "--numa" "with-gpu --topology prefer --nu"
complete_line "--json" "with-gpu --status --watch 2s --js"
complete_line "mytool" "with-gpu --topology prefer mytoo"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
