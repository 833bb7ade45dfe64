#!/usr/bin/env bash
# Checks the bash completion: flags, profile names read from the config files, values.
set -u
shopt -s extglob
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/completion/with-gpu.bash"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/xdg/with-gpu"
printf '[defaults]\nmin_memory = 8000\n[profiles.llm]\nmax_util = 50\n[profiles.inference]\nmax_util = 90\n' \
  >"$work/xdg/with-gpu/config.toml"
printf '[profiles.lab-wide]\nmin_gpus = 2\n' >"$work/system.toml"
export XDG_CONFIG_HOME=$work/xdg WITH_GPU_SYSTEM_CONFIG=$work/system.toml
passed=0 failed=0
complete_words() {  # complete_words EXPECTED WORD...
  local expected=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  _with_gpu
  local got
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
  if [[ $got == "$expected" ]]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: ${*}: expected '$expected', got '$got'"; fi
}
complete_words "--profile" with-gpu --prof
complete_words "inference lab-wide llm" with-gpu --profile ""
complete_words "lab-wide llm" with-gpu --min-gpus 2 --profile l
complete_words "auto index uuid" with-gpu --id-format ""
complete_words "ignore prefer require" with-gpu --numa ""
complete_words "ignore prefer" with-gpu --topology ""
complete_words "--bind" with-gpu --bi
complete_words "--sample-window --share --show-config --status --strict" with-gpu --s
complete_words "" with-gpu --profile llm python --prof
# GPU indices after --gpu, read from the machine by the with-gpu being completed.
if [[ $# -ge 3 ]]; then
  export WITH_GPU_NVML_LIBRARY=$2 NVML_DOUBLE_MACHINE=$3/server-8gpu-mixed.json WITH_GPU_LOCK_DIR=$work/locks
  complete_words "0 1 2 3 4 5 6 7" "$1" --gpu ""
  complete_words "0,0 0,1 0,2 0,3 0,4 0,5 0,6 0,7" "$1" --gpu "0,"
  complete_words "--gpu --gpu-type" "$1" --gp
else
  echo "SKIP: GPU indices after --gpu (give the binary, the NVML double and the machines directory)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
