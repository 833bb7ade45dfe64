# bash completion for with-gpu: flags, profile names from the config files, and the
# command that follows. Installed by `cmake --install` into share/bash-completion.

_with_gpu_profiles() {
  local user=${WITH_GPU_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/with-gpu/config.toml}
  local system=${WITH_GPU_SYSTEM_CONFIG:-/etc/with-gpu/config.toml}
  sed -n 's/^[[:space:]]*\[profiles\.\([A-Za-z0-9_-]*\)\][[:space:]]*$/\1/p' "$system" "$user" 2>/dev/null | sort -u
}

# The GPUs' NVML indices, as `with-gpu --status --json` lists them (the with-gpu being completed).
_with_gpu_indices() {
  "${COMP_WORDS[0]}" --status --json 2>/dev/null | sed -n 's/^ *"index": \([0-9][0-9]*\),*$/\1/p'
}

_with_gpu() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local flags="--gpu --min-gpus --max-gpus --gpu-type --strict --min-memory --max-util --max-temp --max-power
    --sample-window --require-idle --wait --timeout --poll-interval --status --json --dry-run --print-env --quiet
    --id-format --share --lock-dir --init-lock-dir --ignore-slurm --profile --config --show-config --version --help
    --topology --numa --bind --install-kernel --color --watch"
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    # After "--" or the first word that is not an option or its value, complete the command.
    if [[ ${COMP_WORDS[i]} == -- || ( ${COMP_WORDS[i]} != -* && ${COMP_WORDS[i-1]} != --@(gpu|min-gpus|max-gpus|gpu-type|min-memory|max-util|max-temp|max-power|sample-window|timeout|poll-interval|id-format|lock-dir|profile|config|topology|numa|color|install-kernel|watch) ) ]]; then
      COMPREPLY=($(compgen -c -- "$cur"))
      return
    fi
  done
  case $prev in
    --profile) COMPREPLY=($(compgen -W "$(_with_gpu_profiles)" -- "$cur")); return ;;
    --config | --lock-dir | --init-lock-dir) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --min-gpus) COMPREPLY=($(compgen -W "1 2 4 8 all" -- "$cur")); return ;;
    --gpu)  # a list: complete the index after the last comma
      local listed=""
      [[ $cur == *,* ]] && listed=${cur%,*},
      COMPREPLY=($(compgen -P "$listed" -W "$(_with_gpu_indices)" -- "${cur##*,}"))
      return ;;
    --id-format) COMPREPLY=($(compgen -W "auto index uuid" -- "$cur")); return ;;
    --topology) COMPREPLY=($(compgen -W "prefer ignore" -- "$cur")); return ;;
    --numa) COMPREPLY=($(compgen -W "prefer require ignore" -- "$cur")); return ;;
    --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
  esac
  COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  [[ ${#COMPREPLY[@]} -eq 0 && $cur != -* ]] && COMPREPLY=($(compgen -c -- "$cur"))
}

complete -F _with_gpu with-gpu
