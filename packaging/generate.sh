#!/bin/sh
# Writes the man page and the three completion scripts from WITH_GPU's flag registry.
# Usage: generate.sh WITH_GPU OUTPUT_DIR
set -eu
mkdir -p "$2"
"$1" --man-page >"$2/with-gpu.1"
gzip -9nf "$2/with-gpu.1"
"$1" --completions bash >"$2/with-gpu"
"$1" --completions zsh >"$2/_with-gpu"
"$1" --completions fish >"$2/with-gpu.fish"
