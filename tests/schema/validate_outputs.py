#!/usr/bin/env python3
"""Runs the built with-gpu against the NVML double on several machines and checks its
JSON outputs against docs/status.schema.json and docs/decision.schema.json, plus the
facts the schema cannot say (null for unsupported readings, a claim with its holder,
a lost GPU, a machine-readable reason for every filter, --print-env under a shell).

Usage: validate_outputs.py WITH_GPU NVML_DOUBLE REPO_ROOT
Prints one line per check and a closing "N passed, M failed".
"""
import json, os, subprocess, sys, tempfile, time

import jsonschema

binary, double, root = sys.argv[1:4]
status_schema = json.load(open(os.path.join(root, "docs", "status.schema.json")))
decision_schema = json.load(open(os.path.join(root, "docs", "decision.schema.json")))
work = tempfile.mkdtemp(prefix="with-gpu-schema-")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok else ": " + detail))


def gpu(i, **fields):
    base = {"name": "NVIDIA A100-SXM4-40GB", "uuid": f"GPU-{0x5c000000 + i:08x}-0000-0000-0000-000000000000",
            "pci_bus_id": f"00000000:{0x10 + i:02X}:00.0", "memory_total_mib": 40960, "memory_reserved_mib": 400,
            "memory_used_mib": 0, "utilization_percent": 0, "temperature_c": 40, "power_w": 60.0,
            "power_limit_w": 400.0, "processes": []}
    base.update(fields)
    return base


machines_written = 0


def env_for(machine, **extra):
    """An environment serving `machine` from a file of its own; claims go to one shared
    lock directory unless `extra` names another."""
    global machines_written
    machines_written += 1
    path = os.path.join(work, f"machine{machines_written}.json")
    with open(path, "w") as f:
        json.dump(machine, f)
    env = {"PATH": "/usr/bin:/bin", "WITH_GPU_NVML_LIBRARY": double, "NVML_DOUBLE_MACHINE": path,
           "WITH_GPU_LOCK_DIR": os.path.join(work, "locks")}
    env.update(extra)
    return env


def run(args, env):
    return subprocess.run([binary] + args, env=env, capture_output=True, text=True)


def valid(name, text, schema):
    try:
        document = json.loads(text)
        jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())
        check(name + " matches the schema", True)
        return document
    except (json.JSONDecodeError, jsonschema.ValidationError) as error:
        check(name + " matches the schema", False, str(error).splitlines()[0])
        return None


# --status --json and --dry-run --json on every shipped machine file; where a machine has
# MIG instances, each nests under its GPU and is a candidate of its own.
for name in sorted(os.listdir(os.path.join(root, "examples", "machines"))):
    with open(os.path.join(root, "examples", "machines", name)) as f:
        machine = json.load(f)
    machine_env = env_for(machine)
    status = valid(f"status of {name}", run(["--status", "--json"], machine_env).stdout, status_schema)
    decision = valid(f"dry run on {name}", run(["--dry-run", "--json", "true"], machine_env).stdout, decision_schema)
    if not status or not decision or not any(g["mig_instances"] for g in status["gpus"]):
        continue
    pairs = [(g, i) for g in status["gpus"] for i in g["mig_instances"]]
    check(f"{name}: every MIG instance names the GPU it is nested in, which is in MIG mode",
          all(i["mig"]["parent_uuid"] == g["uuid"] and i["mig"]["parent_index"] == g["index"]
              and g["mig_mode"]["current"] == "enabled" for g, i in pairs), json.dumps([i["mig"] for _, i in pairs]))
    verdicts = {g["uuid"]: g for g in decision["gpus"]}
    check(f"{name}: every MIG instance has a verdict with its uuid and profile",
          all(i["uuid"] in verdicts and verdicts[i["uuid"]]["mig"] == i["mig"] for _, i in pairs),
          json.dumps(sorted(verdicts)))
    check(f"{name}: a GPU in MIG mode is not offered whole",
          all(any(r["filter"] == "mig_split" for r in verdicts.get(g["uuid"], {"reasons": []})["reasons"])
              for g in status["gpus"] if g["usable"] and g["mig_mode"] and g["mig_mode"]["current"] == "enabled"),
          json.dumps([verdicts.get(g["uuid"], {}).get("reasons") for g in status["gpus"]]))

# Unsupported readings are null, a lost GPU is unusable with NVML's text, a refused
# process list is null, a vanished process has null user and command.
machine = {"gpus": [gpu(0, errors={"nvmlDeviceGetTemperature": "NOT_SUPPORTED", "nvmlDeviceGetPowerUsage": "NOT_SUPPORTED"}),
                    gpu(1, errors={"nvmlDeviceGetMemoryInfo": "GPU_IS_LOST"}),
                    gpu(2, errors={"nvmlDeviceGetComputeRunningProcesses": "NO_PERMISSION"}),
                    gpu(3, processes=[{"pid": 4194000, "used_memory_mib": 100}], memory_used_mib=100),
                    gpu(4, errors={"nvmlDeviceGetHandleByIndex": "NO_PERMISSION"})]}
status = valid("status with faults", run(["--status", "--json"], env_for(machine)).stdout, status_schema)
if status:
    g = status["gpus"]
    check("unsupported temperature is null", g[0]["temperature_c"] is None and g[0]["power_w"] is None)
    check("a supported reading is not null", g[0]["power_limit_w"] == 400.0)
    check("a lost GPU is unusable with NVML's text", g[1]["usable"] is False and g[1]["error"] == "GPU is lost"
          and g[1]["memory_free_mib"] is None)
    check("a refused process list is null", g[2]["processes"] is None and g[2]["process_count"] is None
          and g[2]["is_idle"] is False)
    check("a vanished process has null user and command",
          g[3]["processes"][0]["user"] is None and g[3]["processes"][0]["command"] is None)
    check("a GPU NVML refuses (NO_PERMISSION) is not accessible and not broken",
          g[4]["accessible"] is False and g[4]["usable"] is False and g[4]["error"] is None
          and g[0]["accessible"] is True, json.dumps(g[4]))

# A real process NVML lists, and a claim with its holder.
sleeper = subprocess.Popen(["sleep", "30"])
machine = {"gpus": [gpu(0, processes=[{"pid": sleeper.pid, "used_memory_mib": 1000}], memory_used_mib=1000), gpu(1)]}
env = env_for(machine)
holder = subprocess.Popen([binary, "--quiet", "--gpu", "1", "--", "sleep", "30"], env=env)
for _ in range(200):  # until the holder has exec'd its command (it claims just before)
    status = json.loads(run(["--status", "--json"], env).stdout)
    if status["gpus"][1]["claims"] and status["gpus"][1]["claims"][0]["command"] == "sleep 30":
        break
    time.sleep(0.025)
status = valid("status with a claim", run(["--status", "--json"], env).stdout, status_schema)
if status:
    claims = status["gpus"][1]["claims"]
    check("the claim names its holder", len(claims) == 1 and claims[0]["pid"] == holder.pid
          and claims[0]["mode"] == "exclusive" and claims[0]["command"] == "sleep 30", json.dumps(claims))
    process = status["gpus"][0]["processes"][0]
    check("a compute process has its user and command", process["command"] == "sleep 30" and process["user"],
          json.dumps(process))

# --dry-run --json: a machine-readable reason for every filter.
cases = [
    ("min_memory", ["--min-memory", "50G"], {"gpus": [gpu(0)]}, {}),
    ("hidden_usage", [], {"gpus": [gpu(0, memory_used_mib=4000)]}, {}),
    ("max_util", ["--max-util", "50"], {"gpus": [gpu(0, utilization_percent=90)]}, {}),
    ("util_unknown", ["--max-util", "50"], {"gpus": [gpu(0, utilization_percent=None)]}, {}),
    ("max_temp", ["--max-temp", "80"], {"gpus": [gpu(0, temperature_c=90)]}, {}),
    ("temp_unknown", ["--max-temp", "80"], {"gpus": [gpu(0, temperature_c=None)]}, {}),
    ("max_power", ["--max-power", "50%"], {"gpus": [gpu(0, power_w=300.0)]}, {}),
    ("power_unknown", ["--max-power", "100"], {"gpus": [gpu(0, power_w=None)]}, {}),
    ("not_idle", ["--require-idle"], {"gpus": [gpu(0, processes=[{"pid": 7, "used_memory_mib": 10}], memory_used_mib=10)]}, {}),
    ("gpu_type", ["--gpu-type", "h100", "--strict"], {"gpus": [gpu(0)]}, {}),
    ("numa", ["--numa", "require"], {"gpus": [gpu(0, local_cpus="4000", numa_node=3)]}, {}),
    ("numa_unknown", ["--numa", "require"], {"gpus": [gpu(0)]}, {}),
    ("not_allocated", [], {"gpus": [gpu(0), gpu(1, memory_total_mib=100)]}, {"CUDA_VISIBLE_DEVICES": "1"}),
    ("unusable", [], {"gpus": [gpu(0, errors={"nvmlDeviceGetMemoryInfo": "GPU_IS_LOST"})]}, {}),
    ("no_access", [], {"gpus": [gpu(0, errors={"nvmlDeviceGetHandleByIndex": "NO_PERMISSION"})]}, {}),
]
for filter_name, args, machine, extra in cases:
    result = run(["--dry-run", "--json"] + args + ["sh", "train.sh"], env_for(machine, **extra))
    decision = valid(f"dry run rejecting for {filter_name}", result.stdout, decision_schema)
    if decision:
        reasons = [r for g in decision["gpus"] for r in g["reasons"]]
        check(f"{filter_name} is named with its value and limit",
              any(r["filter"] == filter_name for r in reasons) and result.returncode == 4
              and decision["would_run"] is False and decision["environment"] is None, json.dumps(reasons))
unclaimed = env_for({"gpus": [gpu(0), gpu(1), gpu(2)]}, WITH_GPU_LOCK_DIR=os.path.join(work, "other-locks"))
decision = valid("dry run that would run", run(["--dry-run", "--json", "--min-gpus", "2", "sh", "x.sh"],
                                                unclaimed).stdout, decision_schema)
if decision:
    check("the decision carries the exact environment",
          decision["would_run"] and decision["chosen"] == [0, 1] and decision["command"] == ["sh", "x.sh"]
          and decision["command_problem"] is None
          and decision["environment"] == {"CUDA_VISIBLE_DEVICES": "0,1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"},
          json.dumps(decision["environment"]))
# A command exec would not find: the dry run says why, as the real run would exit.
result = run(["--dry-run", "--json", "pyhton", "x.py"], unclaimed)
decision = valid("dry run of a missing command", result.stdout, decision_schema)
if decision:
    check("a missing command is the reason it would not run",
          result.returncode == 127 and decision["would_run"] is False and decision["environment"] is None
          and decision["command_problem"] == "command not found: pyhton (check the name and PATH)",
          json.dumps(decision["command_problem"]))
claimed = valid("dry run with a claimed GPU", run(["--dry-run", "--json", "--gpu", "1", "true"], env).stdout,
                decision_schema)
if claimed:
    reason = claimed["gpus"][1]["reasons"][0]
    check("claimed names the holder's pid", reason["filter"] == "claimed" and reason["value"] == holder.pid
          and reason["unit"] == "pid", json.dumps(reason))

# Topology: the two-socket example's status and a set chosen by interconnect.
with open(os.path.join(root, "examples", "machines", "server-2socket-nvlink.json")) as f:
    server = json.load(f)
server_env = env_for(server, WITH_GPU_LOCK_DIR=os.path.join(work, "server-locks"))
status = valid("status with topology", run(["--status", "--json"], server_env).stdout, status_schema)
if status:
    check("every GPU lists its link to every other", all(len(g["links"]) == 7 for g in status["gpus"])
          and status["gpus"][2]["links"][2] == {"gpu": 3, "label": "NV12", "nvlinks": 12, "pcie": "PIX"},
          json.dumps(status["gpus"][2]["links"]))
# Only GPUs 3 and 6 are idle: they beat every busy NVLink pair.
decision = valid("dry run choosing a pair by tier, then interconnect",
                 run(["--dry-run", "--json", "--min-gpus", "2", "true"], server_env).stdout, decision_schema)
if decision:
    check("the chosen pair and its link are named", decision["chosen"] == [3, 6]
          and decision["chosen_links"] == [{"gpus": [3, 6], "label": "SYS"}]
          and decision["gpus"][0]["local_cpus"] == "0-23,48-71" and decision["topology"] == "prefer",
          json.dumps(decision["chosen_links"]))
    check("each ranked GPU has its tier", decision["gpus"][3]["tier"] == "idle"
          and decision["gpus"][3]["tier_detail"] is None and decision["gpus"][0]["tier"] == "busy"
          and decision["gpus"][0]["tier_detail"] == "1 process, 19.5 GiB used",
          json.dumps([[g["tier"], g["tier_detail"]] for g in decision["gpus"]]))

unknown = valid("dry run with --bind and no topology", run(["--dry-run", "--json", "--bind", "true"], unclaimed).stdout,
                decision_schema)
if unknown:
    check("--bind without local CPUs says why it would not pin", unknown["binding"] == {
        "cpus": None, "memory_nodes": [], "problem": "the driver does not report the CPUs local to GPU 0"},
          json.dumps(unknown["binding"]))

# --print-env evaluated by a shell; it claims nothing.
shell = subprocess.run(["sh", "-c", f'eval "$("{binary}" --print-env --quiet)" && echo "$CUDA_VISIBLE_DEVICES $CUDA_DEVICE_ORDER"'],
                       env=env, capture_output=True, text=True)
check("--print-env is evaluated by a shell", shell.stdout == "0 PCI_BUS_ID\n", shell.stdout + shell.stderr)
status = json.loads(run(["--status", "--json"], env).stdout)
check("--print-env leaves no claim", status["gpus"][0]["claims"] == [], json.dumps(status["gpus"][0]["claims"]))

holder.kill(); holder.wait(); sleeper.kill(); sleeper.wait()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
