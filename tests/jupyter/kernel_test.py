#!/usr/bin/python3
"""Jupyter kernels started through `with-gpu --install-kernel`, end to end: Debian's
ipykernel and jupyter_client start two kernels from the kernelspec; each must see its own
claimed GPU in CUDA_VISIBLE_DEVICES, and shutting one down must free its GPU.
Usage: kernel_test.py WITH_GPU NVML_DOUBLE   (exit 77: skipped, saying why)"""
import json, os, shutil, subprocess, sys, tempfile, time

binary, double = sys.argv[1], sys.argv[2]
try:
    from jupyter_client import KernelManager
    import ipykernel  # noqa: F401  (the kernel needs it)
except ImportError as missing:
    print(f"SKIP: {missing}; scripts/install-deps.sh installs python3-ipykernel and python3-jupyter-client")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="with-gpu-jupyter-")
machine = os.path.join(work, "machine.json")
with open(machine, "w") as f:
    json.dump({"gpus": [{"name": "NVIDIA A100-SXM4-40GB", "uuid": f"GPU-{0xfeed0000 + i:08x}-0000-0000-0000-000000000000",
                         "pci_bus_id": f"00000000:{0x10 + i:02X}:00.0", "memory_total_mib": 40960,
                         "memory_used_mib": 0, "utilization_percent": 0, "processes": []} for i in range(2)]}, f)
os.environ.update(WITH_GPU_NVML_LIBRARY=double, NVML_DOUBLE_MACHINE=machine,
                  WITH_GPU_LOCK_DIR=os.path.join(work, "locks"), WITH_GPU_SYSTEM_CONFIG=os.path.join(work, "none"),
                  JUPYTER_DATA_DIR=os.path.join(work, "jupyter"), JUPYTER_RUNTIME_DIR=os.path.join(work, "runtime"),
                  PATH="/usr/bin:/bin", PYDEVD_DISABLE_FILE_VALIDATION="1")
os.environ.pop("CUDA_VISIBLE_DEVICES", None)
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def claims():
    status = json.loads(subprocess.run([binary, "--status", "--json"], capture_output=True, text=True).stdout)
    return {gpu["index"]: [c["pid"] for c in gpu["claims"]] for gpu in status["gpus"]}


def start():
    manager = KernelManager(kernel_name="gpu")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def printed(client, code):
    msg_id = client.execute(code)
    text = ""
    while True:
        msg = client.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text += msg["content"]["text"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return text.strip()


installed = subprocess.run([binary, "--install-kernel", "gpu", "--min-memory", "0"], capture_output=True, text=True)
check(installed.returncode == 0, "--install-kernel gpu exits 0: " + installed.stderr.strip())
spec = json.load(open(os.path.join(work, "jupyter", "kernels", "gpu", "kernel.json")))
check(spec["argv"][:4] == [os.path.realpath(binary), "--min-memory", "0", "--"], f"argv starts with with-gpu: {spec['argv']}")

first, first_client = start()
seen_first = printed(first_client, "import os; print(os.environ['CUDA_VISIBLE_DEVICES'], os.getpid())").split()
second, second_client = start()
seen_second = printed(second_client, "import os; print(os.environ['CUDA_VISIBLE_DEVICES'], os.getpid())").split()
held = claims()
check(seen_first[0] != seen_second[0], f"two kernels, two GPUs: {seen_first[0]} and {seen_second[0]}")
check(held.get(int(seen_first[0])) == [int(seen_first[1])], f"the first kernel's process holds GPU {seen_first[0]}: {held}")
check(held.get(int(seen_second[0])) == [int(seen_second[1])], f"the second kernel's process holds GPU {seen_second[0]}: {held}")

first_client.stop_channels()
first.shutdown_kernel(now=False)
for _ in range(100):
    if not claims().get(int(seen_first[0])):
        break
    time.sleep(0.05)
check(claims().get(int(seen_first[0])) == [], f"shutting the first kernel down freed GPU {seen_first[0]}: {claims()}")
third, third_client = start()
seen_third = printed(third_client, "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])")
check(seen_third == seen_first[0], f"a new kernel gets the freed GPU {seen_first[0]}: {seen_third}")
for manager, client in ((second, second_client), (third, third_client)):
    client.stop_channels()
    manager.shutdown_kernel(now=True)
del first_client, second_client, third_client  # before the interpreter tears logging down
shutil.rmtree(work, ignore_errors=True)
print(f"{'FAILED' if failures else 'passed'}: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
