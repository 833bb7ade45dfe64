#!/usr/bin/env python3
"""Opt-in soak test (not part of CI's default run): many `with-gpu --wait` launches on 8
simulated GPUs, some holders killed with SIGKILL mid-job, then checks after the fact that
no GPU ever had two exclusive holders and that no claim outlived its holder.

Usage: tests/soak/soak.py [LAUNCHES] [BUILD_DIR]   (default 10000, build)
"""
import json, os, random, signal, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor

launches = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
build = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "build")
binary = os.path.join(build, "src", "with-gpu")
work = tempfile.mkdtemp(prefix="with-gpu-soak-")
log = os.path.join(work, "log")
machine = os.path.join(work, "machine.json")
with open(machine, "w") as f:
    json.dump({"gpus": [{"name": "NVIDIA A100", "uuid": f"GPU-{0x50a0 + i:08x}-0000-0000-0000-000000000000",
                         "pci_bus_id": f"00000000:{0x10 + i:02X}:00.0", "memory_total_mib": 40960,
                         "memory_used_mib": 0, "utilization_percent": 0, "processes": []} for i in range(8)]}, f)
env = {"PATH": "/usr/bin:/bin", "WITH_GPU_NVML_LIBRARY": os.path.join(build, "nvml-double", "libnvidia-ml-double.so"),
       "NVML_DOUBLE_MACHINE": machine, "WITH_GPU_LOCK_DIR": os.path.join(work, "locks"),
       "WITH_GPU_SYSTEM_CONFIG": os.path.join(work, "none.toml")}
job = f'echo "$CUDA_VISIBLE_DEVICES start $(date +%s%N) $$" >> {log}; sleep 0.0$((RANDOM % 3)); ' \
      f'echo "$CUDA_VISIBLE_DEVICES end $(date +%s%N) $$" >> {log}'
kills = {}  # pid -> time the SIGKILL was sent (ns): the claim cannot have ended before it


def launch(n):
    process = subprocess.Popen([binary, "--wait", "--quiet", "--", "sh", "-c", job], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if random.random() < 0.1:  # a tenth of the holders die by SIGKILL, mid-job or mid-wait
        time.sleep(random.uniform(0, 0.03))
        kills[process.pid] = time.time_ns()
        process.send_signal(signal.SIGKILL)
    return process.wait()


start = time.time()
with ThreadPoolExecutor(48) as pool:
    codes = list(pool.map(launch, range(launches)))
elapsed = time.time() - start

intervals = {}  # gpu -> [(start, end, pid)]
starts = {}
with open(log) as f:
    for line in f:
        gpu, kind, stamp, pid = line.split()
        if kind == "start":
            starts[int(pid)] = (gpu, int(stamp))
        else:
            g, begun = starts.pop(int(pid))
            intervals.setdefault(g, []).append((begun, int(stamp), int(pid)))
for pid, (gpu, begun) in starts.items():  # killed while holding: ends no earlier than the kill
    intervals.setdefault(gpu, []).append((begun, kills.get(pid, begun), pid))
overlaps = 0
for gpu, spans in intervals.items():
    spans.sort()
    for (s1, e1, p1), (s2, e2, p2) in zip(spans, spans[1:]):
        if s2 < e1:
            overlaps += 1
            print(f"GPU {gpu}: pid {p2} started at {s2} while pid {p1} held it until {e1}")
status = json.loads(subprocess.run([binary, "--status", "--json"], env=env, capture_output=True, text=True).stdout)
leftover = sum(len(g["claims"]) for g in status["gpus"])
ran = sum(len(s) for s in intervals.values())
killed = sum(1 for c in codes if c == -signal.SIGKILL)
print(f"{launches} launches in {elapsed:.1f}s: {ran} commands ran, {killed} killed by SIGKILL, "
      f"{sum(1 for c in codes if c not in (0, -signal.SIGKILL))} other failures")
print(f"overlapping exclusive holders: {overlaps}; claims left after every holder exited: {leftover}")
ok = overlaps == 0 and leftover == 0 and all(c in (0, -signal.SIGKILL) for c in codes)
print(f"{2 if ok else 0} passed, {0 if ok else 1} failed")
sys.exit(0 if ok else 1)
