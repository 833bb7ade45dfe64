#!/usr/bin/env bash
# The systemd unit that makes the hardened claims directory at boot: systemd itself
# checks it (systemd-analyze verify), with ExecStart pointing at the built binary.
set -euo pipefail
unit=$1 binary=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze is not installed; the unit was not checked"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$binary|" "$unit" > "$work/with-gpu-lock-dir.service"
grep -q "^ExecStart=$binary --init-lock-dir$" "$work/with-gpu-lock-dir.service"
out=$(systemd-analyze verify "$work/with-gpu-lock-dir.service" 2>&1 || true)
if [ -n "$out" ]; then
  echo "systemd-analyze verify complained:"
  echo "$out"
  exit 1
fi
echo "1 passed, 0 failed"
