#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, builds with-gpu, and runs the main
# job against the real NVIDIA driver, or, where there is none, against the bundled
# simulated workstation (the NVML test double), saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=build/src/with-gpu
if ! ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1' && [[ -z ${WITH_GPU_NVML_LIBRARY:-} ]]; then
  echo
  echo "No NVIDIA driver here: this demo runs against a SIMULATED 4x RTX 3090 workstation"
  echo "(examples/machines/workstation-4x3090.json, served by the NVML test double)."
  export WITH_GPU_NVML_LIBRARY=$PWD/build/nvml-double/libnvidia-ml-double.so
  export NVML_DOUBLE_MACHINE=$PWD/examples/machines/workstation-4x3090.json
  export WITH_GPU_LOCK_DIR=${WITH_GPU_LOCK_DIR:-/tmp/with-gpu-demo}
fi
echo
echo "\$ with-gpu --status"
"$bin" --status
echo
echo "\$ with-gpu -- sh -c 'echo \$CUDA_VISIBLE_DEVICES'"
"$bin" -- sh -c 'echo $CUDA_VISIBLE_DEVICES'
echo
echo "Built $bin; install it with: cmake --install build (or copy the one file anywhere)."
