#!/usr/bin/env bash
# Start-up benchmarks: with-gpu against the floor `env CUDA_VISIBLE_DEVICES=0 true`, on
# simulated machines of 1, 8, 64 and 256 GPUs (the NVML test double), with hyperfine in
# one invocation; peak memory with /usr/bin/time; selection cost for 1 to 1024 GPUs; a
# per-phase breakdown from WITH_GPU_TRACE; a PNG plot with gnuplot. Prints Markdown.
# Usage: bench/startup.sh [BUILD_DIR]   (needs scripts/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(readlink -f "${1:-build}")
scripts/install-deps.sh hyperfine gnuplot-nox time
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WITH_GPU_NVML_LIBRARY=$build/nvml-double/libnvidia-ml-double.so WITH_GPU_LOCK_DIR=$work/locks
export WITH_GPU_SYSTEM_CONFIG=$work/none.toml XDG_CONFIG_HOME=$work
unset CUDA_VISIBLE_DEVICES
bin=$build/src/with-gpu
for n in 1 8 64 256; do
  python3 - "$n" >"$work/m$n.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"gpus": [{"name": "NVIDIA H100 80GB HBM3", "uuid": f"GPU-{i:08x}-0000-0000-0000-000000000000",
  "pci_bus_id": f"00000000:{i // 32:02X}:{i % 32:02X}.0", "memory_total_mib": 81559, "memory_used_mib": 0,
  "utilization_percent": 0, "temperature_c": 40, "power_w": 70.0, "power_limit_w": 700.0, "processes": []}
  for i in range(n)]}))
PY
done
# 64 GPUs with topology: NVLink islands of 8 (NV2 between each pair), two sockets.
python3 - "$work/m64.json" >"$work/m64t.json" <<'PY'
import json, sys
machine = json.load(open(sys.argv[1]))
def label(a, b):
    return "X" if a == b else "PXB" if a // 4 == b // 4 else "NODE" if (a // 8) % 2 == (b // 8) % 2 else "SYS"
machine["topology"] = {"pcie": [" ".join(label(a, b) for b in range(64)) for a in range(64)],
                       "nvlinks": [[a, b, 2] for a in range(64) for b in range(a + 1, 64) if a // 8 == b // 8]}
for i, gpu in enumerate(machine["gpus"]):
    gpu["numa_node"] = (i // 8) % 2
    gpu["local_cpus"] = "0-23" if (i // 8) % 2 == 0 else "24-47"
print(json.dumps(machine))
PY
commands=("env CUDA_VISIBLE_DEVICES=0 true")
names=("floor")
for n in 1 8 64 256; do
  commands+=("env NVML_DOUBLE_MACHINE=$work/m$n.json $bin --quiet --min-memory 0 -- true")
  names+=("run-$n")
done
for n in 1 8 64 256; do
  commands+=("env NVML_DOUBLE_MACHINE=$work/m$n.json $bin --status")
  names+=("status-$n")
done
commands+=("env NVML_DOUBLE_MACHINE=$work/m64t.json $bin --quiet --min-memory 0 --min-gpus 8 -- true")
names+=("set-64")
commands+=("env NVML_DOUBLE_MACHINE=$work/m64t.json $bin --quiet --min-memory 0 --min-gpus 8 --topology ignore -- true")
names+=("setignore-64")
hyperfine -N --warmup 5 --runs 40 --export-json "$work/h.json" "${commands[@]}" >/dev/null 2>&1
echo "# with-gpu start-up benchmarks"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), Linux $(uname -r); hyperfine $(hyperfine --version | cut -d' ' -f2), 40 runs each after 5 warm-ups; simulated H100 machines (NVML test double)."
echo
python3 - "$work/h.json" "${names[@]}" >"$work/table.md" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
floor = results[0]["median"]
print("| command | GPUs | median ms | ratio to floor |")
print("| --- | --- | --- | --- |")
for name, r in zip(names, results):
    kind, _, n = name.partition("-")
    label = {"floor": "`env CUDA_VISIBLE_DEVICES=0 true`", "run": "`with-gpu --min-memory 0 -- true`",
             "status": "`with-gpu --status`",
             "set": "`with-gpu --min-memory 0 --min-gpus 8 -- true` (topology: 2,016 pair queries)",
             "setignore": "`with-gpu --min-memory 0 --min-gpus 8 --topology ignore -- true`"}[kind]
    print(f"| {label} | {n or '-'} | {r['median'] * 1000:.2f} | {r['median'] / floor:.2f} |")
with open(sys.argv[1] + ".dat", "w") as out:
    for name, r in zip(names, results):
        if name.startswith("run-"):
            out.write(f"{name[4:]} {r['median'] * 1000:.3f} {floor * 1000:.3f}\n")
PY
cat "$work/table.md"
echo
echo "## Peak memory (maximum resident set size)"
echo
echo "| command | GPUs | KiB |"
echo "| --- | --- | --- |"
for n in 8 256; do
  kib=$(NVML_DOUBLE_MACHINE=$work/m$n.json /usr/bin/time -f '%M' "$bin" --quiet --min-memory 0 -- true 2>&1 >/dev/null | tail -1)
  echo "| \`with-gpu --min-memory 0 -- true\` | $n | $kib |"
done
floor_kib=$(/usr/bin/time -f '%M' env CUDA_VISIBLE_DEVICES=0 true 2>&1 | tail -1)
echo "| \`env CUDA_VISIBLE_DEVICES=0 true\` | - | $floor_kib |"
echo
echo "## Where the time goes (WITH_GPU_TRACE=1, one run each)"
echo
for n in 8 256; do
  echo "- $n GPUs: $(NVML_DOUBLE_MACHINE=$work/m$n.json WITH_GPU_TRACE=1 "$bin" --quiet --min-memory 0 -- true 2>&1 | sed 's/^with-gpu: trace: //')"
done
echo
echo "## Selection cost (select_gpus, 8 of N GPUs, in memory; median of 51)"
echo
echo "| GPUs | median µs |"
echo "| --- | --- |"
"$build/bench/selection_bench" >"$work/selection.txt"
sed -n '2,/^gpus set/p' "$work/selection.txt" | grep -v '^gpus' | while read -r n us; do echo "| $n | $us |"; done
echo
echo "## Topology-aware sets (k of N GPUs: NVLink islands of 8, two sockets; median of 21)"
echo
echo "Against the same choice with \`--topology ignore\` (memory only) in the same run."
echo
echo "| GPUs | set of | by topology µs | ignore µs | set score |"
echo "| --- | --- | --- | --- | --- |"
sed -n '/^gpus set/,$p' "$work/selection.txt" | tail -n +2 | while read -r n k t i score; do
  echo "| $n | $k | $t | $i | $score |"
done
mkdir -p docs
gnuplot <<PLOT
set terminal png size 720,420 noenhanced
set output "docs/startup.png"
set title "with-gpu start-up to exec (median, simulated GPUs)"
set xlabel "GPUs"
set ylabel "milliseconds"
set logscale x 2
set key left top
plot "$work/h.json.dat" using 1:2 with linespoints title "with-gpu --min-memory 0 -- true", \
     "$work/h.json.dat" using 1:3 with lines title "floor: env CUDA_VISIBLE_DEVICES=0 true"
PLOT
echo
echo "![start-up against GPU count](startup.png)"
