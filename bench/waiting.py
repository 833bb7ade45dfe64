#!/usr/bin/env python3
"""Waiting benchmarks: hand-off delay, 100-launch makespan, timeout precision.

Runs the built with-gpu against the NVML test double (a simulated 4-GPU machine) and
prints a Markdown report. Each figure comes with a baseline measured in the same run:
  - hand-off: the floor is starting the next command straight from the holder's
    parent as soon as the holder exits (no with-gpu), and 5 s polling's 2.5 s mean;
  - makespan: the floor is the same 100 jobs run by a 4-slot semaphore in this script.
Usage: bench/waiting.py [BUILD_DIR]   (default: build)
"""
import json, os, platform, shutil, statistics, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
binary = os.path.join(build, "src", "with-gpu")
work = tempfile.mkdtemp(prefix="with-gpu-bench-")

def gpu(i):
    return {"name": "NVIDIA A100-SXM4-40GB", "uuid": f"GPU-{0xbe000000 + i:08x}-0000-0000-0000-000000000000",
            "pci_bus_id": f"00000000:{0x10 + i:02X}:00.0", "memory_total_mib": 40960, "memory_used_mib": 0,
            "utilization_percent": 0, "processes": []}

machine = os.path.join(work, "machine.json")
with open(machine, "w") as f:
    json.dump({"gpus": [gpu(i) for i in range(4)]}, f)
env = dict(os.environ, WITH_GPU_NVML_LIBRARY=os.path.join(build, "nvml-double", "libnvidia-ml-double.so"),
           NVML_DOUBLE_MACHINE=machine, WITH_GPU_LOCK_DIR=os.path.join(work, "locks"))
env.pop("CUDA_VISIBLE_DEVICES", None)

def stamp_file(name):
    with open(os.path.join(work, name)) as f:
        return int(f.read())

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

def handoff(rounds=25):
    """Delay from a holder's last act to the waiter's command starting."""
    delays = []
    for i in range(rounds):
        holder = subprocess.Popen([binary, "--quiet", "--gpu", "0", "--", "sh", "-c",
                                   f"sleep 0.2; date +%s%N > {work}/rel{i}"], env=env)
        time.sleep(0.05)
        waiter = subprocess.Popen([binary, "--quiet", "--wait", "--gpu", "0", "--", "sh", "-c",
                                   f"date +%s%N > {work}/got{i}"], env=env)
        holder.wait(); waiter.wait()
        delays.append((stamp_file(f"got{i}") - stamp_file(f"rel{i}")) / 1e6)
    return delays

def handoff_floor(rounds=25):
    """The same chain without with-gpu: the next command starts when the parent sees the exit."""
    delays = []
    for i in range(rounds):
        holder = subprocess.Popen(["sh", "-c", f"sleep 0.2; date +%s%N > {work}/frel{i}"])
        holder.wait()
        subprocess.run(["sh", "-c", f"date +%s%N > {work}/fgot{i}"])
        delays.append((stamp_file(f"fgot{i}") - stamp_file(f"frel{i}")) / 1e6)
    return delays

JOB = "sleep 0.05"

def makespan_with_gpu(jobs=100):
    start = time.monotonic()
    procs = [subprocess.Popen([binary, "--quiet", "--wait", "--", "sh", "-c", JOB], env=env) for _ in range(jobs)]
    codes = [p.wait() for p in procs]
    assert all(c == 0 for c in codes), codes
    return time.monotonic() - start

def makespan_floor(jobs=100, slots=4):
    start = time.monotonic()
    with ThreadPoolExecutor(slots) as pool:
        list(pool.map(lambda _: subprocess.run(["sh", "-c", JOB]), range(jobs)))
    return time.monotonic() - start

def timeout_overruns(rounds=10, timeout_ms=500):
    holder = subprocess.Popen([binary, "--quiet", "--gpu", "0,1,2,3", "--", "sleep", "60"], env=env)
    time.sleep(0.3)
    overruns = []
    for _ in range(rounds):
        start = time.monotonic()
        code = subprocess.run([binary, "--quiet", "--wait", "--timeout", f"{timeout_ms}ms", "true"], env=env,
                              stderr=subprocess.DEVNULL).returncode
        assert code == 124, code
        overruns.append((time.monotonic() - start) * 1000 - timeout_ms)
    holder.kill(); holder.wait()
    return overruns

def main():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"# with-gpu waiting benchmarks\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, "
          f"simulated 4-GPU machine (NVML test double).\n")
    delays, floor = handoff(), handoff_floor()
    print("## Hand-off delay (release -> next command running), 25 releases\n")
    print("| | median ms | p95 ms |\n| --- | --- | --- |")
    print(f"| with-gpu --wait (inotify) | {statistics.median(delays):.1f} | {percentile(delays, 95):.1f} |")
    print(f"| floor: parent starts the next command on exit | {statistics.median(floor):.1f} | {percentile(floor, 95):.1f} |")
    print(f"| 0.5: re-check every 5 s (mean of a uniform wait) | 2500 | 4750 |\n")
    print(f"with-gpu / floor (median): {statistics.median(delays) / statistics.median(floor):.1f}x; "
          f"5 s polling / with-gpu (median): {2500 / statistics.median(delays):.0f}x\n")
    ideal = 100 / 4 * 0.05
    measured, sem = makespan_with_gpu(), makespan_floor()
    print("## Makespan: 100 concurrent `--wait` launches of a 50 ms job on 4 GPUs\n")
    print("| | seconds | / ideal |\n| --- | --- | --- |")
    print(f"| ideal (25 rounds x 50 ms) | {ideal:.2f} | 1.00 |")
    print(f"| floor: 4-slot semaphore, same jobs | {sem:.2f} | {sem / ideal:.2f} |")
    print(f"| with-gpu --wait | {measured:.2f} | {measured / ideal:.2f} |\n")
    print(f"with-gpu / floor: {measured / sem:.2f}x\n")
    overruns = timeout_overruns()
    print("## `--timeout 500ms` precision, 10 runs\n")
    print(f"overrun past the deadline: median {statistics.median(overruns):.1f} ms, max {max(overruns):.1f} ms "
          f"(includes process start-up)")
    shutil.rmtree(work, ignore_errors=True)

main()
