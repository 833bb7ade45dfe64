#!/usr/bin/env bash
# Checks the bash completion that `with-gpu --completions bash` writes: flags, values,
# profile names read from the config files, GPU indices and models read from the machine,
# and the command's own completion after the flags.
# Usage: bash_test.sh WITH_GPU NVML_DOUBLE MACHINES_DIR
set -u
shopt -s extglob
[[ $# -eq 3 ]] || { echo "usage: $0 WITH_GPU NVML_DOUBLE MACHINES_DIR"; exit 2; }
# bash-completion gives _command_offset, which hands the command's words to its own completion.
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
  set +u
  source /usr/share/bash-completion/bash_completion
  set -u
else
  echo "NOTE: bash-completion is not installed; the command's own completion is not checked"
fi
source <("$1" --completions bash) || { echo "FAIL: the script does not load"; exit 1; }
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
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
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
# Read from the machine by the with-gpu being completed.
export WITH_GPU_NVML_LIBRARY=$2 NVML_DOUBLE_MACHINE=$3/server-8gpu-mixed.json WITH_GPU_LOCK_DIR=$work/locks
complete_words "0 1 2 3 4 5 6 7" "$1" --gpu ""
complete_words "0,0 0,1 0,2 0,3 0,4 0,5 0,6 0,7" "$1" --gpu "0,"
complete_words "--gpu --gpu-type" "$1" --gp
models=$("$1" --status --json | sed -n 's/^ *"name": "\(.*\)",*$/\1/p' | sort -u | xargs -d '\n')
[[ -n $models ]] || { echo "FAIL: the machine lists no models"; failed=$((failed + 1)); }
complete_words "$models" "$1" --gpu-type ""
complete_words "bash fish zsh" "$1" --completions ""
# --flag=value: bash splits it at '=' into three words.
complete_words "prefer" "$1" --numa = pr
complete_words "ignore prefer require" "$1" --numa =
complete_words "--numa" "$1" --min-gpus = 2 --nu
complete_words "$(compgen -c -- with-gp | sort -u | xargs)" "$1" --min-gpus = 2 with-gp
# A model name is one word on the command line.
complete_words "NVIDIA H100 80GB HBM3" "$1" --gpu-type "NVIDIA H"
[[ ${COMPREPLY[0]:-} == 'NVIDIA\ H100\ 80GB\ HBM3' ]] || { echo "FAIL: model not quoted: ${COMPREPLY[0]:-}"; failed=$((failed + 1)); }
# The command: its name, then its own completion.
complete_words "$(compgen -c -- with-gp | sort -u | xargs)" "$1" --min-gpus 2 with-gp
if declare -F _command_offset >/dev/null; then
  complete -W "alpha beta" mytool
  complete_words "alpha" "$1" --min-gpus 2 --numa prefer mytool al
  complete_words "beta" "$1" -- mytool b
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
