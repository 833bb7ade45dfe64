#!/usr/bin/env bash
# Builds the .deb (cpack), installs it with dpkg on this machine, checks what it installed
# (the binary, the man page, the completions in bash, zsh and fish from their system
# directories, the systemd unit, the example config), removes it and checks that nothing
# is left. Needs root (dpkg -i); says so and fails otherwise. .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "package-test: needs root to install the package with dpkg"; exit 1; }
scripts/install-deps.sh
build=${BUILD_DIR:-build}
# The package's prefix: the systemd unit names /usr/bin/with-gpu.
cmake -S . -B "$build" -G Ninja -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$build"
rm -f "$build"/with-gpu_*_amd64.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/with-gpu_*_amd64.deb)
version=$(sed -n 's/^project(with-gpu VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[[ $deb == "$build/with-gpu_${version}_amd64.deb" ]] || { echo "FAIL: package named $deb"; exit 1; }
echo "package: $deb ($(du -k "$deb" | cut -f1) KiB); depends: $(dpkg-deb -f "$deb" Depends)"
[[ $(dpkg-deb -f "$deb" Depends) == "libc6 (>= 2.36)" ]] || { echo "FAIL: depends on more than libc6"; exit 1; }
dpkg -s with-gpu >/dev/null 2>&1 && { echo "FAIL: with-gpu is already installed here; dpkg -P with-gpu first"; exit 1; }

passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
dpkg -i "$deb" >/dev/null
trap 'dpkg -P with-gpu >/dev/null 2>&1 || true' EXIT
mapfile -t files < <(dpkg -L with-gpu | while read -r path; do [[ -f $path ]] && echo "$path"; done)
echo "installed: ${files[*]}"
check "with-gpu --version" test "$(/usr/bin/with-gpu --version)" = "with-gpu $version"
check "man -w with-gpu" test "$(man -w with-gpu)" = /usr/share/man/man1/with-gpu.1.gz
check "the man page lists --min-memory" sh -c 'MANPAGER=cat MANWIDTH=100 man with-gpu 2>/dev/null | grep -q -- "--min-memory SIZE"'
check "the unit starts /usr/bin/with-gpu" grep -qx "ExecStart=/usr/bin/with-gpu --init-lock-dir" \
  /lib/systemd/system/with-gpu-lock-dir.service
check "/etc/with-gpu/config.toml is a conffile" sh -c 'dpkg-query -W -f="\${Conffiles}" with-gpu | grep -q /etc/with-gpu/config.toml'
check "the example config is valid and changes nothing" sh -c \
  'WITH_GPU_SYSTEM_CONFIG=/etc/with-gpu/config.toml /usr/bin/with-gpu --show-config | grep -q "^min_memory *= 2048 *# built-in"'
# Each shell finds the completion in its own system directory, as for any user.
bash_words=$(bash -c 'source /usr/share/bash-completion/bash_completion; _completion_loader with-gpu
  COMP_WORDS=(with-gpu --numa ""); COMP_CWORD=2; COMP_LINE="with-gpu --numa "; COMP_POINT=${#COMP_LINE}
  $(complete -p with-gpu | sed "s/.*-F \([^ ]*\) .*/\1/") with-gpu "" --numa; echo "${COMPREPLY[*]}"')
check "bash completes --numa (got '$bash_words')" test "$bash_words" = "prefer require ignore"
fish_words=$(HOME=$(mktemp -d) XDG_CONFIG_HOME= fish -c 'complete -C "with-gpu --numa "' | cut -f1 | xargs)
check "fish completes --numa (got '$fish_words')" test "$fish_words" = "ignore prefer require"
zsh_out=$(mktemp)
timeout 30 zsh -f tests/completion/zsh_capture.zsh "with-gpu --numa " /usr/share/zsh/vendor-completions "$zsh_out" || true
zsh_words=$(sed -n 's/^<<\(.*\)>>$/\1/p' "$zsh_out" | sort | xargs)
rm -f "$zsh_out" "$zsh_out".*
check "zsh completes --numa (got '$zsh_words')" test "$zsh_words" = "ignore prefer require"

# dpkg -r keeps conffiles (Debian policy); dpkg -P removes them too.
dpkg -r with-gpu >/dev/null
left=()
for path in "${files[@]}"; do [[ -e $path ]] && left+=("$path"); done
check "dpkg -r leaves only the conffile (left: ${left[*]})" test "${left[*]}" = /etc/with-gpu/config.toml
dpkg -P with-gpu >/dev/null
left=()
for path in "${files[@]}" /etc/with-gpu; do [[ -e $path ]] && left+=("$path"); done
check "dpkg -P leaves nothing (left: ${left[*]})" test ${#left[@]} -eq 0
check "dpkg knows the package no more" sh -c '! dpkg -s with-gpu >/dev/null 2>&1'
echo "package-test: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
