#!/usr/bin/env python3
"""The waiting line under load, against the previous version of with-gpu built from git.

Scenario A: 200 jobs, a seeded mix of 1-GPU (75%) and 2-GPU (25%) requests of 0.2-0.6 s,
launched with `--wait` every 20 ms onto a simulated 8-GPU machine (NVML test double).
Scenario B: 500 concurrent `--wait` launches of one user, 1 GPU and 50 ms each.
For each version: makespan against the ideal schedule (arrival-order list scheduling with
instant hand-offs, simulated here), order inversions (pairs started against arrival
order), the longest wait of a 2-GPU job, and the hand-off delay (the GPUs a job got
released -> its command running) median and p95. Prints a Markdown report.

Usage: bench/queue.py [BUILD_DIR] [--baseline REV] [--baseline-build DIR]
  BUILD_DIR: this version's build (default: build). The baseline (default: the commit
  before the waiting line) is cloned from this repository and built into DIR
  (default: build-baseline) unless DIR already holds it.
"""
import argparse, json, os, platform, random, shutil, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BASELINE = "261a539"  # the last commit before the waiting line (issue 13)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def build_baseline(rev, build_dir):
    binary = os.path.join(build_dir, "src", "with-gpu")
    if os.access(binary, os.X_OK):
        return binary
    source = tempfile.mkdtemp(prefix="with-gpu-baseline-src-")
    subprocess.run(["git", "clone", "--quiet", ROOT, source], check=True)
    subprocess.run(["git", "-C", source, "checkout", "--quiet", rev], check=True)
    env = dict(os.environ, BUILD_DIR=os.path.abspath(build_dir))
    subprocess.run([os.path.join(source, "scripts", "build.sh")], cwd=source, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(source, ignore_errors=True)
    return binary


def gpu(i):
    return {"name": "NVIDIA H100 80GB HBM3", "uuid": f"GPU-{0xbe000000 + i:08x}-0000-0000-0000-000000000000",
            "pci_bus_id": f"00000000:{0x10 + i:02X}:00.0", "memory_total_mib": 81920, "memory_used_mib": 0,
            "utilization_percent": 0, "processes": []}


def ideal_makespan(jobs, gpus):
    """Arrival-order list scheduling with instant hand-offs: each job starts when it has
    arrived, every older job has started, and enough GPUs are free."""
    free_at = [0.0] * gpus
    previous_start = 0.0
    end = 0.0
    for arrival, count, duration in jobs:
        free_at.sort()
        start = max(arrival, previous_start, free_at[count - 1])
        for k in range(count):
            free_at[k] = start + duration
        previous_start = start
        end = max(end, start + duration)
    return end


class Slots:
    """The floor: GPUs handed out by this script in arrival order (a semaphore over GPU
    indices), no with-gpu, the same job commands."""
    def __init__(self, gpus):
        self.free = list(range(gpus))
        self.turn = 0
        self.cond = threading.Condition()

    def run(self, i, count, script):
        with self.cond:
            self.cond.wait_for(lambda: self.turn == i and len(self.free) >= count)
            got, self.free = self.free[:count], self.free[count:]
            self.turn += 1
            self.cond.notify_all()
        env = dict(os.environ, CUDA_VISIBLE_DEVICES=",".join(map(str, got)))
        subprocess.run(["sh", "-c", script], env=env, stdout=subprocess.DEVNULL)
        with self.cond:
            self.free += got
            self.cond.notify_all()


def run(binary, library, jobs, gpus, gap):
    work = tempfile.mkdtemp(prefix="with-gpu-queue-bench-")
    machine = os.path.join(work, "machine.json")
    with open(machine, "w") as f:
        json.dump({"gpus": [gpu(i) for i in range(gpus)]}, f)
    env = dict(os.environ, WITH_GPU_NVML_LIBRARY=library, NVML_DOUBLE_MACHINE=machine,
               WITH_GPU_LOCK_DIR=os.path.join(work, "locks"), WITH_GPU_SYSTEM_CONFIG=os.path.join(work, "none"))
    env.pop("CUDA_VISIBLE_DEVICES", None)
    log = os.path.join(work, "log")
    slots = Slots(gpus)
    t0 = time.time_ns()
    procs, arrivals = [], []
    for i, (_, count, duration) in enumerate(jobs):
        script = (f'echo "start {i} $(date +%s%N) $CUDA_VISIBLE_DEVICES" >> {log}; sleep {duration}; '
                  f'echo "end {i} $(date +%s%N)" >> {log}')
        target = t0 + int(jobs[i][0] * 1e9)
        while time.time_ns() < target:
            time.sleep(max(0, (target - time.time_ns()) / 1e9))
        arrivals.append(time.time_ns())
        if binary is None:
            procs.append(threading.Thread(target=slots.run, args=(i, count, script)))
            procs[-1].start()
        else:
            procs.append(subprocess.Popen([binary, "--quiet", "--wait", "--min-gpus", str(count), "--", "sh", "-c",
                                           script], env=env, stdout=subprocess.DEVNULL))
    codes = [p.join() or 0 if binary is None else p.wait() for p in procs]
    finished = time.time_ns()
    assert all(c == 0 for c in codes), codes
    starts, ends, got = {}, {}, {}
    with open(log) as f:
        for line in f:
            parts = line.split()
            if parts[0] == "start":
                starts[int(parts[1])] = int(parts[2])
                got[int(parts[1])] = [int(x) for x in parts[3].split(",")]
            else:
                ends[int(parts[1])] = int(parts[2])
    shutil.rmtree(work, ignore_errors=True)
    order = sorted(range(len(jobs)), key=lambda i: starts[i])
    inversions = sum(1 for a in range(len(order)) for b in range(a + 1, len(order)) if order[b] < order[a])
    two_waits = [(starts[i] - arrivals[i]) / 1e9 for i in range(len(jobs)) if jobs[i][1] == 2]
    # Hand-off: from the moment the last of the job's GPUs was released by the job before it
    # on that GPU (or its arrival, if later) to its start.
    handoffs = []
    for i in range(len(jobs)):
        released = 0
        for index in got[i]:
            before = [ends[j] for j in range(len(jobs)) if j != i and index in got[j] and starts[j] < starts[i]]
            if before:
                released = max(released, max(before))
        if released > arrivals[i]:
            handoffs.append((starts[i] - released) / 1e6)
    overlap = 0
    for i in range(len(jobs)):
        for j in range(i + 1, len(jobs)):
            if set(got[i]) & set(got[j]) and starts[i] < ends[j] and starts[j] < ends[i]:
                overlap += 1
    actual = [((arrivals[i] - t0) / 1e9, jobs[i][1], jobs[i][2]) for i in range(len(jobs))]
    return {"makespan": (finished - t0) / 1e9, "ideal": ideal_makespan(actual, gpus), "inversions": inversions,
            "longest_two": max(two_waits) if two_waits else float("nan"),
            "handoff_median": statistics.median(handoffs) if handoffs else float("nan"),
            "handoff_p95": percentile(handoffs, 95), "overlap": overlap}


def report(title, results):
    print(f"## {title}\n")
    print("Ideal: the same arrivals (as launched) in arrival order with instant hand-offs.\n")
    print("| version | makespan s | ideal s | / ideal | order inversions | longest 2-GPU wait s | hand-off median ms "
          "| hand-off p95 ms | overlapping jobs on a GPU |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results:
        print(f"| {name} | {r['makespan']:.2f} | {r['ideal']:.2f} | {r['makespan'] / r['ideal']:.2f} | {r['inversions']} | "
              f"{r['longest_two']:.2f} | {r['handoff_median']:.1f} | {r['handoff_p95']:.1f} | {r['overlap']} |")
    print()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE)
    parser.add_argument("--baseline-build", default="build-baseline")
    parser.add_argument("--skip-500", action="store_true")
    args = parser.parse_args()
    binary = os.path.abspath(os.path.join(args.build, "src", "with-gpu"))
    library = os.path.abspath(os.path.join(args.build, "nvml-double", "libnvidia-ml-double.so"))
    baseline = os.path.abspath(build_baseline(args.baseline, args.baseline_build))
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"# The waiting line under load\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}; this version {head}, "
          f"previous version {args.baseline} built from git in the same run; NVML test double.\n")
    rng = random.Random(13)
    mixed = [(i * 0.02, 2 if rng.random() < 0.25 else 1, round(rng.uniform(0.2, 0.6), 2)) for i in range(200)]
    results = [(f"this version ({head})", run(binary, library, mixed, 8, 0.02)),
               (f"previous ({args.baseline})", run(baseline, library, mixed, 8, 0.02)),
               ("floor: the same jobs handed GPUs by this script, no with-gpu", run(None, library, mixed, 8, 0.02))]
    report("200 mixed 1- and 2-GPU jobs on 8 GPUs, one launch every 20 ms", results)
    if not args.skip_500:
        many = [(0.0, 1, 0.05)] * 500
        results = [(f"this version ({head})", run(binary, library, many, 8, 0)),
                   (f"previous ({args.baseline})", run(baseline, library, many, 8, 0)),
                   ("floor: the same jobs handed GPUs by this script, no with-gpu", run(None, library, many, 8, 0))]
        report("500 concurrent 1-GPU waiters of one user on 8 GPUs, 50 ms jobs", results)


main()
