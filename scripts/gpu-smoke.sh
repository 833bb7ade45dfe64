#!/usr/bin/env bash
# Real-hardware smoke test: scripts/gpu-smoke.sh PATH-TO-WITH-GPU
# Compares `with-gpu --status` with nvidia-smi, checks what a launched command is
# given, compares NUMA nodes and local CPUs with sysfs and runs --bind, checks that
# with-gpu never shows up as a GPU process (no CUDA context), and
# times start-up to exec, and reports the card's MIG mode. Changes nothing on the machine
# (never the MIG mode). Exits non-zero on a mismatch.
set -uo pipefail
bin=$(readlink -f "${1:?usage: scripts/gpu-smoke.sh PATH-TO-WITH-GPU}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WITH_GPU_LOCK_DIR=$work/locks
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

echo "== machine"
nvidia-smi -L
nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1 | sed 's/^/driver /'
"$bin" --version

echo; echo "== with-gpu --status"
"$bin" --status || fail "with-gpu --status exited $?"

echo; echo "== readings against nvidia-smi"
nvidia-smi --query-gpu=index,uuid,name,pci.bus_id,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw \
  --format=csv,noheader,nounits >"$work/smi.csv"
"$bin" --status --json >"$work/wg.json" || fail "with-gpu --status --json exited $?"
python3 - "$work/smi.csv" "$work/wg.json" <<'PY' || failures=$((failures + 1))
import csv, json, sys
smi = list(csv.reader(open(sys.argv[1]), skipinitialspace=True))
# nvidia-smi's rows are whole GPUs; MIG instances (MIG- UUIDs) are compared in the MIG section.
wg = [g for g in json.load(open(sys.argv[2]))["gpus"] if not g["uuid"].startswith("MIG-")]
bad = 0
def check(what, ok, detail):
    global bad
    print(("ok:   " if ok else "FAIL: ") + what + " " + detail)
    bad += 0 if ok else 1
check("GPU count", len(smi) == len(wg), f"nvidia-smi {len(smi)} with-gpu {len(wg)}")
def num(text):
    try: return float(text)
    except ValueError: return None
for row, gpu in zip(smi, wg):
    i = row[0]
    check(f"GPU {i} uuid", row[1] == gpu["uuid"], row[1])
    check(f"GPU {i} name", row[2] == gpu["name"], row[2])
    check(f"GPU {i} pci", row[3].lower() == (gpu["pci_bus_id"] or "").lower(), row[3])
    check(f"GPU {i} memory.total", num(row[4]) == gpu["memory_total_mib"], f"{row[4]} vs {gpu['memory_total_mib']}")
    # nvidia-smi's used may include driver-reserved memory, which NVML v2 reports apart.
    used, reserved = num(row[5]), gpu["memory_reserved_mib"] or 0
    check(f"GPU {i} memory.used", used is not None and abs(used - gpu["memory_used_mib"]) <= reserved + 64,
          f"{row[5]} vs {gpu['memory_used_mib']} (+{reserved} reserved)")
    util = num(row[6])
    check(f"GPU {i} utilization", util is None and gpu["utilization_percent"] is None or
          util is not None and gpu["utilization_percent"] is not None and abs(util - gpu["utilization_percent"]) <= 15,
          f"{row[6]} vs {gpu['utilization_percent']}")
    temp = num(row[7])
    check(f"GPU {i} temperature", temp is None and gpu["temperature_c"] is None or
          temp is not None and gpu["temperature_c"] is not None and abs(temp - gpu["temperature_c"]) <= 3,
          f"{row[7]} vs {gpu['temperature_c']}")
    power = num(row[8])
    check(f"GPU {i} power", power is None and gpu["power_w"] is None or
          power is not None and gpu["power_w"] is not None and abs(power - gpu["power_w"]) <= max(15, 0.2 * power),
          f"{row[8]} vs {gpu['power_w']}")
sys.exit(1 if bad else 0)
PY

echo; echo "== MIG (issue 16): the card's mode, read and never changed"
nvidia-smi --query-gpu=index,mig.mode.current,mig.mode.pending --format=csv >"$work/mig.csv" 2>&1 || true
cat "$work/mig.csv"
python3 - "$work/wg.json" <<'PY' || true
import json, sys
def mig_fields(entry):
    return {k: v for k, v in entry.items() if "mig" in k.lower()}
for gpu in json.load(open(sys.argv[1]))["gpus"]:
    fields = mig_fields(gpu)
    print(f"with-gpu {gpu['index']} {gpu['uuid']}: " + (json.dumps(fields) if fields else "no MIG fields"))
PY
# "Enabled" in the current-mode column; "[N/A]" (no MIG) and a driver without the field are off.
if tail -n +2 "$work/mig.csv" | cut -d, -f2 | grep -qi 'enabled'; then
  nvidia-smi -L | grep -o 'MIG-[^ )]*' >"$work/mig-uuids.txt" || true
  echo "MIG is on: $(wc -l <"$work/mig-uuids.txt") instance(s) in nvidia-smi -L"
  while read -r uuid; do
    grep -qF "\"$uuid\"" "$work/wg.json" && pass "instance $uuid in --status --json" \
      || fail "instance $uuid of nvidia-smi -L missing from --status --json"
  done <"$work/mig-uuids.txt"
else
  echo "MIG is off on this card: the MIG checks ran on the NVML double only"
fi

echo; echo "== what the command is given"
expected=$("$bin" --dry-run --min-memory 0 true | sed -n 's/^  CUDA_VISIBLE_DEVICES=//p')
seen=$("$bin" --quiet --min-memory 0 -- sh -c 'echo "$CUDA_VISIBLE_DEVICES|${CUDA_DEVICE_ORDER-unset}"')
[[ $seen == "$expected|PCI_BUS_ID" ]] && pass "probe saw $seen" || fail "probe saw '$seen', expected '$expected|PCI_BUS_ID'"
uuid_seen=$("$bin" --quiet --min-memory 0 --id-format uuid -- sh -c 'echo "$CUDA_VISIBLE_DEVICES"')
[[ $uuid_seen == GPU-* || $uuid_seen == MIG-* ]] && pass "uuid form $uuid_seen" || fail "uuid form gave '$uuid_seen'"
if command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
  "$bin" --quiet --min-memory 0 -- python3 -c 'import torch; print("torch sees", torch.cuda.device_count(), torch.cuda.get_device_name(0))'
fi

echo; echo "== topology against nvidia-smi topo -m"
"$bin" --status --topology | sed -n '/^ *GPU0/,$p' || fail "with-gpu --status --topology exited $?"
nvidia-smi topo -m 2>/dev/null | head -20
python3 - "$work/wg.json" <<'PY' || failures=$((failures + 1))
import json, subprocess, sys
gpus = json.load(open(sys.argv[1]))["gpus"]
bad = 0
for gpu in gpus:
    bus = (gpu["pci_bus_id"] or "").lower()
    sysfs = "/sys/bus/pci/devices/" + bus[4:] if bus.startswith("0000") else ""
    try:
        node = int(open(sysfs + "/numa_node").read())
        cpus = open(sysfs + "/local_cpulist").read().strip()
    except OSError:
        print(f"skip: GPU {gpu['index']} has no sysfs entry at {sysfs}"); continue
    expected_node = node if node >= 0 else None
    ok = gpu["numa_node"] in (expected_node, None) and gpu["local_cpus"] is not None
    print(("ok:   " if ok else "FAIL: ") + f"GPU {gpu['index']} numa_node {gpu['numa_node']} (sysfs {node}), "
          f"local_cpus {gpu['local_cpus']} (sysfs {cpus})")
    bad += 0 if ok else 1
sys.exit(1 if bad else 0)
PY
bound=$("$bin" --bind --min-memory 0 -- grep Cpus_allowed_list /proc/self/status 2>"$work/bind.err")
echo "--bind: $(cat "$work/bind.err" | tr '\n' ' ')"
[[ $bound == Cpus_allowed_list:* ]] && pass "--bind ran the command: $bound" || fail "--bind gave '$bound'"

echo; echo "== device access (issue 17): minors and /dev/nvidiaN as this process sees them"
nvidia-smi --query-gpu=index,uuid --format=csv,noheader >"$work/smi-uuid.csv"
for node in /dev/nvidia[0-9]*; do
  [[ -e $node ]] || continue
  if [[ -r $node && -w $node ]]; then echo "$node: readable and writable"; else echo "$node: refused"; fi
done
python3 - "$work/wg.json" <<'PY' || failures=$((failures + 1))
import json, sys
gpus = json.load(open(sys.argv[1]))["gpus"]
bad = sum(1 for g in gpus if not g["accessible"])
for g in gpus:
    print(("ok:   " if g["accessible"] else "FAIL: ") + "GPU %d accessible (no cgroup here)" % g["index"])
sys.exit(1 if bad else 0)
PY
# Counting as CUDA counts: the first position of CUDA_VISIBLE_DEVICES is the first GPU.
got=$(CUDA_VISIBLE_DEVICES=0 "$bin" --quiet --min-memory 0 -- sh -c 'echo "$CUDA_VISIBLE_DEVICES"')
[[ -n $got ]] && pass "CUDA_VISIBLE_DEVICES=0 gives the command '$got'" || fail "CUDA_VISIBLE_DEVICES=0 ran nothing"

echo; echo "== claims directory (issue 12): a hardened directory made in a scratch path"
if [[ $(id -u) -eq 0 ]]; then
  "$bin" --init-lock-dir "$work/hardened" && pass "--init-lock-dir made $work/hardened" || fail "--init-lock-dir exited $?"
  ls -la "$work/hardened"
  WITH_GPU_LOCK_DIR=$work/hardened "$bin" --status | sed -n '2p'
  WITH_GPU_LOCK_DIR=$work/hardened "$bin" --quiet --min-memory 0 -- true && pass "a launch claims through it" \
    || fail "a launch through the hardened directory exited $?"
else
  echo "skipped: not root (--init-lock-dir needs root)"
fi

echo; echo "== with-gpu never appears as a GPU process (no CUDA context)"
"$bin" --wait --quiet --timeout 3s --poll-interval 100ms --min-memory 100000G true 2>/dev/null &
waiter=$!
seen_pids=""
for _ in $(seq 1 10); do
  seen_pids+=" $(nvidia-smi --query-compute-apps=pid --format=csv,noheader 2>/dev/null | tr '\n' ' ')"
  sleep 0.2
done
wait "$waiter"; status=$?
[[ $status -eq 124 ]] && pass "impossible --wait timed out with 124" || fail "impossible --wait exited $status"
if grep -qw "$waiter" <<<"$seen_pids"; then fail "with-gpu (pid $waiter) was listed as a compute process"; else
  others=$(tr ' ' '\n' <<<"$seen_pids" | grep -c '[0-9]' || true)
  pass "pid $waiter never listed among compute processes over 2 s ($others other listings)"; fi

echo; echo "== start-up to exec (20 runs each, median ms)"
median_ms() {
  local samples=()
  for _ in $(seq 1 20); do
    local start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    samples+=($(( ($(date +%s%N) - start) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n '10p' | awk '{printf "%.2f", $1 / 1000}'
}
floor=$(median_ms env CUDA_VISIBLE_DEVICES=0 true)
withgpu=$(median_ms "$bin" --quiet --min-memory 0 true)
smi=$(median_ms nvidia-smi -L)
echo "env CUDA_VISIBLE_DEVICES=0 true   ${floor} ms"
echo "with-gpu --min-memory 0 true      ${withgpu} ms"
echo "nvidia-smi -L                     ${smi} ms"
awk -v a="$withgpu" -v b="$smi" 'BEGIN { printf "with-gpu / nvidia-smi -L = %.2f\n", a / b }'

echo
if [[ $failures -eq 0 ]]; then echo "gpu-smoke: all checks passed"; else echo "gpu-smoke: $failures check(s) failed"; fi
exit $((failures > 0))
