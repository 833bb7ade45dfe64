#!/usr/bin/env bash
# Installs what building and testing with-gpu needs, from Debian 12 main, and only
# what is missing (no apt-get at all when everything is there). Extra package names
# given as arguments are installed the same way (scripts/fuzz.sh passes clang's).
# `--slurm` adds a single-machine Slurm and munge (scripts/slurm-test.sh passes it); it is
# a flag, not a package name, because Debian's package `slurm` is a network monitor.
set -euo pipefail
extra=()
for arg in "$@"; do
  case $arg in
    --slurm) extra+=(slurm-wlm slurmd slurmctld slurm-client munge) ;;
    *) extra+=("$arg") ;;
  esac
done
packages=(g++ cmake ninja-build libcli11-dev libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev python3
  python3-jsonschema libtomlplusplus-dev libnuma-dev libnuma1 python3-ipykernel python3-jupyter-client
  zsh fish bash-completion man-db "${extra[@]}")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
