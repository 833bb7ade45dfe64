#!/usr/bin/env bash
# A real Slurm on this machine: munged, slurmctld and slurmd (Debian's slurm-wlm), four GRES
# GPUs that are character devices made with mknod (NVIDIA's major 195, no driver behind it),
# and ConstrainDevices=yes through the cgroup plugin where the kernel allows it. It first
# proves what a job sees (environment, and which device nodes its cgroup lets it open), then
# runs the with-gpu cases in run_cases (at the end) against the NVML test double.
#
#   scripts/slurm-test.sh [PATH-TO-with-gpu]   (default ${BUILD_DIR:-build}/src/with-gpu, built when
#                                               missing, with the NVML double beside it; needs root)
#
# Everything lives in a fresh temporary directory (configs, state, spool, logs, munge key and
# socket); the daemons listen on free ports and talk over 127.0.0.1. On exit, failure
# included, it stops the daemons it started by their pids, removes the device nodes and the
# cgroup directories it made, and the directory. One run at a time per machine (flock).
#
# Environment:
#   WITH_GPU_SLURM_CGROUP=auto|v1|v2|none   device constraint: auto (default) picks v2 when
#       /sys/fs/cgroup is cgroup2, v1 when a v1 devices hierarchy is mounted, else none; when
#       the constrained setup cannot run a job it falls back to none and says so
#   WITH_GPU_SLURM_REQUIRE_CONSTRAINT=1      fail instead of running without ConstrainDevices
#   WITH_GPU_SLURM_KEEP=1                    keep the temporary directory (path printed)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$EPOCHREALTIME
since() { awk -v from="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - from }'; }

if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "slurm-test: needs root (daemons, mknod, cgroups)" >&2; exit 2; }
  exec sudo --preserve-env=BUILD_DIR,WITH_GPU_SLURM_CGROUP,WITH_GPU_SLURM_REQUIRE_CONSTRAINT,WITH_GPU_SLURM_KEEP \
    "$repo/scripts/slurm-test.sh" "$@"
fi

scripts/install-deps.sh --slurm
build=$repo/${BUILD_DIR:-build}
with_gpu=${1:-$build/src/with-gpu}
nvml_double=$build/nvml-double/libnvidia-ml-double.so
if [[ $# -eq 0 && (! -x $with_gpu || ! -f $nvml_double) ]]; then
  echo "slurm-test: building (no $with_gpu or $nvml_double yet)"
  scripts/build.sh
fi
[[ -x $with_gpu ]] || { echo "slurm-test: no executable $with_gpu" >&2; exit 2; }
with_gpu=$(realpath "$with_gpu")

lock=/run/lock/with-gpu-slurm-test.lock
[[ -d /run/lock ]] || lock=/tmp/with-gpu-slurm-test.lock
exec 9>"$lock"
flock -w 600 9 || { echo "slurm-test: another slurm-test.sh still holds $lock after 10 minutes" >&2; exit 2; }

# ---------------------------------------------------------------- checks and output
passed=0 failed=0 skipped=0 finished=0 constrained=0 cgroup_why=""
say() { printf 'slurm-test: %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$1"; [[ $# -lt 2 ]] || printf '        %s\n' "${@:2}"; }
skip() { skipped=$((skipped + 1)); printf '  skip  %s (%s)\n' "$1" "$2"; }
# check NAME COMMAND...: the command's status decides
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi; }
# field LINE KEY: the value of KEY=VALUE in a probe line
field() { local word; for word in $1; do [[ $word == "$2="* ]] && { printf '%s' "${word#*=}"; return; }; done; }

# ---------------------------------------------------------------- the sandbox
tmp=$(mktemp -d /tmp/with-gpu-slurm.XXXXXX)
chmod 755 "$tmp"   # munged (user munge) must reach its own directory inside
mkdir -p "$tmp"/{etc,state,spool,log,run,out,barrier,locks,xdg}
install -d -o munge -g munge -m 755 "$tmp/munge"   # munged insists that everyone may reach its socket
node=$(hostname -s)
dev=/dev/wgtest-nvidia   # + minor; no real driver uses this name
made_devices=()
# slurmd's cgroup directories (slurm or slurm_<node> atop each hierarchy) that do not exist
# yet are ours to remove at the end
slurm_cgroups() { local path; for path in /sys/fs/cgroup/slurm* /sys/fs/cgroup/*/slurm*; do [[ -d $path ]] && echo "$path"; done; true; }
cgroups_before=$(slurm_cgroups)
munged_pid="" slurmctld_pid="" slurmd_pid=""
first_job_id=$((100000 + RANDOM * 20))   # distinct job ids (and cgroup names) per run

stop_pid() {  # stop_pid NAME PID: TERM, up to 10 s, then KILL
  local name=$1 pid=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then say "$name ($pid) ignored TERM for 10 s: KILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

cancel_jobs() {  # cancel our jobs and wait (bounded) until the queue is empty
  [[ -n $slurmctld_pid ]] && kill -0 "$slurmctld_pid" 2>/dev/null || return 0
  timeout 10 scancel --quiet --full --user=root 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -z $(timeout 5 squeue -h -o %i 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  say "jobs still queued after 10 s: $(timeout 5 squeue -h -o '%i %T' 2>/dev/null | tr '\n' ' ')"
}

stop_slurm() {
  cancel_jobs
  stop_pid slurmd "$slurmd_pid"; slurmd_pid=""
  stop_pid slurmctld "$slurmctld_pid"; slurmctld_pid=""
}

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  stop_slurm
  stop_pid munged "$munged_pid"
  local path
  for path in "${made_devices[@]}"; do rm -f "$path"; done
  # the cgroup directories that slurmd made (it leaves its top ones behind): any process still
  # in them belongs to one of our jobs (slurmctld died before it could cancel them) and is
  # killed by pid; then the directories go, deepest first
  local made=() pid pids i
  while read -r path; do
    [[ -n $path ]] && ! grep -qxF "$path" <<<"$cgroups_before" && made+=("$path")
  done <<<"$(slurm_cgroups)"
  if [[ ${#made[@]} -gt 0 ]]; then
    for ((i = 0; i < 50; i++)); do
      pids=$(find "${made[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
      [[ -z $pids ]] && break
      [[ $i -eq 0 ]] && say "killing processes left in our jobs' cgroups: ${pids//$'\n'/ }"
      for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
      sleep 0.1
    done
    for path in "${made[@]}"; do
      find "$path" -depth -type d -exec rmdir {} + 2>/dev/null
      [[ -d $path ]] && say "could not remove $path"
    done
  fi
  if [[ $finished -eq 0 ]]; then
    failed=$((failed + 1))
    say "ABORTED (exit status $status) before the end"
  fi
  if [[ $failed -ne 0 ]]; then
    for path in "$tmp"/log/slurmctld.log "$tmp"/log/slurmd.log "$tmp"/munge/munged.log; do
      [[ -s $path ]] && { echo "---- last lines of $path"; tail -n 20 "$path"; }
    done
    grep -h fatal "$tmp"/log/*-stderr.log 2>/dev/null | sed 's/^/---- fatal: /'
  fi
  if [[ ${WITH_GPU_SLURM_KEEP:-0} == 1 ]]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  say "took $(since "$started") s"
  [[ $constrained == 1 || -z $cgroup_why ]] || say "device constraint was OFF ($cgroup_why): $skipped checks skipped"
  echo "$passed passed, $failed failed"
  [[ $status -ne 0 || $failed -eq 0 ]] || status=1
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# wait_for NAME PID COUNT DELAY COMMAND...: poll COMMAND while the daemon NAME (PID) lives;
# 1: COUNT tries failed, 2: the daemon exited (said, with its fatal line)
wait_for() {
  local name=$1 pid=$2 count=$3 delay=$4 i
  shift 4
  for ((i = 0; i < count; i++)); do
    "$@" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name exited: $(grep -h -m1 -E 'fatal' "$tmp/log/$name-stderr.log" || tail -n 1 "$tmp/log/$name-stderr.log")"
      return 2
    fi
    sleep "$delay"
  done
  return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- GRES devices
for minor in 0 1 2 3; do
  path=$dev$minor
  if [[ -e $path ]]; then
    # a node left by an interrupted run of this script (same name, same numbers) is ours to replace
    if [[ $(stat -c '%F %t %T' "$path") == "character special file c3 $(printf '%x' "$minor")" ]]; then rm -f "$path"
    else echo "slurm-test: $path exists and is not ours" >&2; exit 2; fi
  fi
  mknod -m 666 "$path" c 195 "$minor"
  made_devices+=("$path")
done

# ---------------------------------------------------------------- munge
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chown munge:munge "$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
setpriv --reuid=munge --regid=munge --init-groups munged --foreground --socket="$socket" \
  --key-file="$tmp/munge/munge.key" --log-file="$tmp/munge/munged.log" \
  --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
  </dev/null >"$tmp/log/munged-stderr.log" 2>&1 &
munged_pid=$!
munge_works() { munge -n -S "$socket" 2>/dev/null | unmunge -S "$socket" >/dev/null 2>&1; }
if ! wait_for munged "$munged_pid" 100 0.1 munge_works; then
  cp "$tmp/munge/munged.log" "$tmp/log/munged.log" 2>/dev/null
  echo "slurm-test: munged did not answer within 10 s" >&2; exit 1
fi

# ---------------------------------------------------------------- slurm configuration
gres_order=(0 1 2 3)   # gres.conf File= lines, in this order: Slurm's GPU index i is minor ${gres_order[i]}
write_gres_conf() {
  local minor
  {
    echo "# Slurm GPU index = line order below"
    for minor in "${gres_order[@]}"; do echo "NodeName=$node Name=gpu File=$dev$minor"; done
  } >"$tmp/etc/gres.conf"
}

# the cgroup mode: v1, v2 or none
cgroup_mode=${WITH_GPU_SLURM_CGROUP:-auto}
if [[ $cgroup_mode == auto ]]; then
  if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then cgroup_mode=v2
  elif [[ $(stat -fc %T /sys/fs/cgroup/devices 2>/dev/null) == cgroupfs && -d /sys/fs/cgroup/freezer ]]; then cgroup_mode=v1
  else cgroup_mode=none; cgroup_why="neither a cgroup2 /sys/fs/cgroup nor v1 devices and freezer hierarchies"
  fi
fi
[[ $cgroup_mode == none && -z $cgroup_why ]] && cgroup_why="WITH_GPU_SLURM_CGROUP=none"

write_slurm_conf() {
  local proctrack=proctrack/linuxproc task=task/affinity
  [[ $cgroup_mode == none ]] || { proctrack=proctrack/cgroup; task=task/cgroup,task/affinity; }
  cat >"$tmp/etc/slurm.conf" <<EOF
ClusterName=wgtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$tmp/etc/plugstack.conf
MailProg=/bin/true
ProctrackType=$proctrack
TaskPlugin=$task
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerNode=100
GresTypes=gpu
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
FirstJobId=$first_job_id
MinJobAge=300
KillWait=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=8 RealMemory=4000 Gres=gpu:4 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  : >"$tmp/etc/plugstack.conf"
  local v2_systemd="IgnoreSystemd=yes"
  [[ $(cat /proc/1/comm 2>/dev/null) == systemd ]] && v2_systemd="IgnoreSystemdOnFailure=yes"
  case $cgroup_mode in
    v1) printf 'CgroupPlugin=cgroup/v1\nConstrainDevices=yes\n' ;;
    v2) printf 'CgroupPlugin=cgroup/v2\n%s\nCgroupAutomount=yes\nConstrainDevices=yes\n' "$v2_systemd" ;;
    none) printf '# no cgroup plugin: %s\n' "$cgroup_why" ;;
  esac >"$tmp/etc/cgroup.conf"
}

export SLURM_CONF=$tmp/etc/slurm.conf
ctld_port=$(free_port)
slurmd_port=$(free_port)
while [[ $slurmd_port == "$ctld_port" ]]; do slurmd_port=$(free_port); done

ctld_up() { timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_state() { timeout 5 sinfo -h -N -n "$node" -o %T 2>/dev/null; }
node_idle() { [[ $(node_state) == idle ]]; }

start_slurmctld() {
  slurmctld -D -f "$SLURM_CONF" </dev/null >>"$tmp/log/slurmctld-stderr.log" 2>&1 &
  slurmctld_pid=$!
  local status=0
  wait_for slurmctld "$slurmctld_pid" 150 0.1 ctld_up || status=$?
  [[ $status -ne 1 ]] || say "slurmctld not up within 15 s"
  return "$status"
}
start_slurmd() {
  slurmd -D -N "$node" -f "$SLURM_CONF" </dev/null >>"$tmp/log/slurmd-stderr.log" 2>&1 &
  slurmd_pid=$!
  local status=0
  wait_for slurmd "$slurmd_pid" 150 0.2 node_idle || status=$?
  [[ $status -ne 1 ]] || say "node $node not idle within 30 s (state: $(node_state))"
  return "$status"
}

start_slurm() {
  write_slurm_conf
  write_gres_conf
  start_slurmctld && start_slurmd && timeout 30 srun -t 1 true
}

t0=$EPOCHREALTIME
if ! start_slurm; then
  if [[ $cgroup_mode == none ]]; then echo "slurm-test: Slurm did not start" >&2; exit 1; fi
  reason=$(grep -h -m1 -E 'fatal|cgroup.*error|error.*cgroup' "$tmp/log/slurmd-stderr.log" "$tmp/log/slurmctld-stderr.log" || true)
  cgroup_why="Slurm with CgroupPlugin=cgroup/$cgroup_mode could not run a job: ${reason:-see $tmp/log}"
  say "$cgroup_why; retrying without cgroups"
  stop_slurm
  t0=$EPOCHREALTIME
  mv "$tmp/state" "$tmp/state.failed"; mkdir "$tmp/state"
  cgroup_mode=none
  start_slurm || { echo "slurm-test: Slurm did not start even without cgroups" >&2; exit 1; }
fi
[[ $cgroup_mode != none ]] && constrained=1
say "Slurm $(slurmctld -V | awk '{print $2}') up in $(since "$t0") s on $node (127.0.0.1, ports $ctld_port/$slurmd_port), $tmp"
if [[ $constrained == 1 ]]; then
  say "device constraint: ON (CgroupPlugin=cgroup/$cgroup_mode, ConstrainDevices=yes)"
else
  say "device constraint: OFF -- $cgroup_why. Jobs can open every GPU device node;"
  say "the checks that need a device cgroup are SKIPPED, not passed."
  if [[ ${WITH_GPU_SLURM_REQUIRE_CONSTRAINT:-0} == 1 ]]; then
    fail "device constraint required (WITH_GPU_SLURM_REQUIRE_CONSTRAINT=1)"
  fi
fi

# ---------------------------------------------------------------- the probe
# One line per job: KEY=VALUE words; wgtestN= is what opening device node N gave
# (ENXIO: allowed, no driver behind it; OPEN: allowed and a driver answered; EPERM: denied).
cat >"$tmp/probe.py" <<'EOF'
import errno, os, sys, time
start = time.time()
barrier, expected = (sys.argv[1], int(sys.argv[2])) if len(sys.argv) > 2 else (None, 0)
words = ["job=%s" % os.environ.get("SLURM_JOB_ID", "-"), "task=%s" % os.environ.get("SLURM_ARRAY_TASK_ID", "-")]
for name in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "SLURM_GPUS_ON_NODE"):
    words.append("%s=%s" % (name, os.environ.get(name, "<unset>")))
prefix = os.environ["WGTEST_DEV"]
for minor in range(4):
    try:
        os.close(os.open(prefix + str(minor), os.O_RDONLY))
        result = "OPEN"
    except OSError as e:
        result = errno.errorcode.get(e.errno, str(e.errno))
    words.append("wgtest%d=%s" % (minor, result))
if barrier:  # wait (bounded) until `expected` jobs have reached this point: they ran at once
    open(os.path.join(barrier, os.environ.get("SLURM_JOB_ID", "x")), "w").close()
    deadline = time.time() + 30
    while len(os.listdir(barrier)) < expected and time.time() < deadline:
        time.sleep(0.05)
    words.append("barrier=%s" % ("met" if len(os.listdir(barrier)) >= expected else "timeout"))
if os.environ.get("WGTEST_HOLD"):
    time.sleep(float(os.environ["WGTEST_HOLD"]))
words.append("start=%.3f end=%.3f" % (start, time.time()))
print(" ".join(words), flush=True)
EOF
export WGTEST_DEV=$dev
probe=(python3 "$tmp/probe.py")

allowed_of() {  # the minors a probe line could open, comma-separated
  local minor out=()
  for minor in 0 1 2 3; do
    case $(field "$1" "wgtest$minor") in ENXIO | OPEN) out+=("$minor") ;; esac
  done
  (IFS=,; printf '%s' "${out[*]}")
}
expected_of() {  # the minors Slurm's GPU indices in SLURM_STEP_GPUS (else SLURM_JOB_GPUS) name in gres.conf
  local ids index out=()
  ids=$(field "$1" SLURM_STEP_GPUS)
  [[ $ids == "<unset>" || -z $ids ]] && ids=$(field "$1" SLURM_JOB_GPUS)
  [[ $ids == "<unset>" || -z $ids ]] && return 0
  for index in ${ids//,/ }; do out+=("${gres_order[index]}"); done
  (IFS=$'\n'; printf '%s' "$(sort -n <<<"${out[*]}" | paste -sd,)")
}
show() { printf '    %s\n' "$(sed -E 's/ start=.*//' <<<"$1")"; }

# batch LIMIT SBATCH-ARGS...: submit a batch job (1 minute time limit) and wait until it, every
# task of an array included, has left the queue, polling every 0.1 s (sbatch --wait polls every
# 2 s and more); after LIMIT seconds cancel it and fail
batch() {
  local limit=$1 id i
  shift
  id=$(timeout 10 sbatch --parsable -t 1 "$@") || return 1
  id=${id%%;*}
  for ((i = 0; i < limit * 10; i++)); do
    [[ -z $(timeout 5 squeue -h -j "$id" -o %i 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  echo "job $id still queued after $limit s: cancelled" >&2
  timeout 10 scancel "$id"
  return 1
}

# check_job LINE LABEL NGPUS: the job's cgroup opens exactly the devices Slurm says it has
check_job() {
  local line=$1 label=$2 n=$3 allowed expected cvd
  allowed=$(allowed_of "$line")
  expected=$(expected_of "$line")
  cvd=$(field "$line" CUDA_VISIBLE_DEVICES)
  if [[ $n -eq 0 ]]; then
    check "$label: no CUDA_VISIBLE_DEVICES" [ "$cvd" == "<unset>" ]
    if [[ $constrained == 1 ]]; then check "$label: every GPU node EPERM" [ -z "$allowed" ]
    else skip "$label: every GPU node EPERM" "no device constraint"; fi
    return
  fi
  if [[ $constrained == 1 ]]; then
    check "$label: CUDA_VISIBLE_DEVICES counts the job's own GPUs from 0 ($cvd)" \
      [ "$cvd" == "$(seq -s, 0 $((n - 1)))" ]
    check "$label: opens $n nodes (ENXIO), the other $((4 - n)) EPERM (allowed: $allowed)" \
      [ "$(tr ',' '\n' <<<"$allowed" | grep -c .)" -eq "$n" ]
    check "$label: the allowed nodes are gres.conf's lines for SLURM_*_GPUS (expected: $expected)" \
      [ "$allowed" == "$expected" ]
  else
    check "$label: $n entries in CUDA_VISIBLE_DEVICES ($cvd)" [ "$(tr ',' '\n' <<<"$cvd" | grep -c .)" -eq "$n" ]
    skip "$label: opens only its own nodes" "no device constraint"
  fi
}

# run_probe_jobs: the evidence for the current gres.conf
run_probe_jobs() {
  local title=$1 lines line a b task max
  say "probe jobs, gres.conf File= order: ${gres_order[*]} ($title)"
  rm -f "$tmp"/barrier/*
  # two concurrent 2-GPU jobs: srun (an interactive job) and sbatch (a batch step); both wait for each other
  timeout 60 srun -t 1 --gres=gpu:2 "${probe[@]}" "$tmp/barrier" 2 >"$tmp/out/a" 2>"$tmp/out/a.err" &
  local srun_pid=$!
  batch 60 --gres=gpu:2 -o "$tmp/out/b" --wrap "${probe[*]} $tmp/barrier 2" 2>"$tmp/out/b.err" || true
  wait "$srun_pid" || true
  a=$(grep -h '^job=' "$tmp/out/a" || true)
  b=$(grep -h '^job=' "$tmp/out/b" 2>/dev/null || true)
  echo "  srun  --gres=gpu:2:"; show "$a"
  echo "  sbatch --gres=gpu:2:"; show "$b"
  if [[ -z $a || -z $b ]]; then
    fail "two --gres=gpu:2 jobs ran" "$(cat "$tmp/out/a.err" "$tmp/out/b.err" 2>/dev/null)"
  else
    check "the two --gres=gpu:2 jobs ran at the same time" [ "$(field "$a" barrier)$(field "$b" barrier)" == metmet ]
    check_job "$a" "srun --gres=gpu:2" 2
    check_job "$b" "sbatch --gres=gpu:2" 2
    if [[ $constrained == 1 ]]; then
      check "their allowed nodes are disjoint and cover all four" \
        [ "$(tr ',' '\n' <<<"$(allowed_of "$a"),$(allowed_of "$b")" | sort -n | paste -sd,)" == 0,1,2,3 ]
    fi
  fi
  # an 8-task array of 1-GPU jobs: four at a time
  WGTEST_HOLD=1 batch 90 --array=0-7 --gres=gpu:1 -o "$tmp/out/array_%a" --wrap "${probe[*]}" \
    2>"$tmp/out/array.err" || true
  lines=$(cat "$tmp"/out/array_* 2>/dev/null | grep '^job=' | sort -t= -k3 -n || true)
  echo "  sbatch --array=0-7 --gres=gpu:1 (each holds 1 s):"
  while read -r line; do [[ -n $line ]] && show "$line"; done <<<"$lines"
  check "8 array tasks ran" [ "$(grep -c . <<<"$lines")" -eq 8 ]
  while read -r line; do
    [[ -n $line ]] && check_job "$line" "array task $(field "$line" task)" 1
  done <<<"$lines"
  max=$(python3 -c '
import sys
spans = [tuple(float(w.split("=")[1]) for w in l.split() if w.startswith(("start=", "end="))) for l in sys.stdin if l.strip()]
print(max((sum(1 for s, e in spans if s <= t < e) for t, _ in spans), default=0))' <<<"$lines")
  say "array: at most $max tasks ran at once"
  check "array: never more than 4 tasks at once (4 GPUs)" [ "$max" -le 4 ]
  check "array: more than one task at once" [ "$max" -ge 2 ]
  rm -f "$tmp"/out/array_*
}

run_no_gres_job() {
  local line
  line=$(CUDA_VISIBLE_DEVICES=0,1,2,3 timeout 60 srun -t 1 "${probe[@]}" 2>"$tmp/out/c.err" | grep '^job=' || true)
  echo "  srun without --gres (CUDA_VISIBLE_DEVICES=0,1,2,3 inherited from the submitter):"; show "$line"
  if [[ -z $line ]]; then fail "a job without --gres ran" "$(cat "$tmp/out/c.err")"; return; fi
  check_job "$line" "srun without --gres" 0
}

# use_gres_order MINOR...: rewrite gres.conf in this File= order and restart slurmd
use_gres_order() {
  gres_order=("$@")
  cancel_jobs
  write_gres_conf
  stop_pid slurmd "$slurmd_pid"; slurmd_pid=""
  # DOWN until the new slurmd registers (ReturnToService=2), so that waiting for IDLE waits for it
  timeout 10 scontrol update NodeName="$node" State=DOWN Reason="gres.conf changed"
  local t=$EPOCHREALTIME
  start_slurmd || { fail "slurmd restarted with gres.conf order $*"; return 1; }
  say "slurmd restarted with gres.conf File= order $* in $(since "$t") s"
}

t0=$EPOCHREALTIME
run_probe_jobs "minor order"
run_no_gres_job
use_gres_order 2 0 3 1
run_probe_jobs "differs from minor order"
use_gres_order 0 1 2 3
say "probe jobs took $(since "$t0") s"

# ---------------------------------------------------------------- with-gpu cases
# The jobs inherit this environment (srun and sbatch export it by default): with-gpu loads the
# NVML test double, which answers from $NVML_DOUBLE_MACHINE: four idle GPUs in PCI order, GPU
# i's device node is $dev<i> (key device_path: the double answers NO_PERMISSION for a GPU whose
# node the process cannot open with EPERM, as real NVML does under a device cgroup). Claims go
# to $WITH_GPU_LOCK_DIR, shared by all jobs; no user or system config file is read.
#
# For the cases in run_cases:
#   "$with_gpu"                 the binary under test (absolute path)
#   timeout 60 srun -t 1 ...    an interactive job; batch LIMIT SBATCH-ARGS... a batch job or array,
#                               waited for (-o FILE for its output; %a is the array index)
#   check NAME CMD... / pass NAME / fail NAME [DETAIL] / skip NAME WHY    the counted results
#   $constrained                1 when ConstrainDevices is on; skip what needs it otherwise
#   use_gres_order MINOR...     rewrite gres.conf in that File= order, restart slurmd (about 0.2 s);
#                               gres_order holds the current one; restore 0 1 2 3 afterwards
#   "${probe[@]}", field LINE KEY, allowed_of LINE   the probe job above and its parsing
#   $tmp                        this run's scratch directory (removed at the end)
export WITH_GPU_NVML_LIBRARY=$nvml_double
export NVML_DOUBLE_MACHINE=$tmp/machine.json
export WITH_GPU_LOCK_DIR=$tmp/locks
export WITH_GPU_SYSTEM_CONFIG=$tmp/no-system-config.toml
export XDG_CONFIG_HOME=$tmp/xdg
python3 - "$NVML_DOUBLE_MACHINE" "$dev" <<'EOF'
import json, sys
path, dev = sys.argv[1], sys.argv[2]
gpus = [{
    "name": "NVIDIA A100-SXM4-80GB",
    "uuid": "GPU-00000000-0000-4000-8000-0000000000%02d" % i,
    "pci_bus_id": "00000000:%02X:00.0" % (0x01 + 0x20 * i),
    "memory_total_mib": 81920, "memory_reserved_mib": 512, "memory_used_mib": 4,
    "utilization_percent": 0, "temperature_c": 30, "power_w": 60.0, "power_limit_w": 400,
    "processes": [],
    "device_path": dev + str(i),
} for i in range(4)]
json.dump({"description": "scripts/slurm-test.sh: 4 idle GPUs, GPU i's device node is %s<i>" % dev, "gpus": gpus},
          open(path, "w"), indent=2)
EOF

chosen_of() {  # the GPUs (minors) a with-gpu probe line names by UUID, comma-separated
  local cvd uuid out=()
  cvd=$(field "$1" CUDA_VISIBLE_DEVICES)
  for uuid in ${cvd//,/ }; do [[ $uuid == GPU-* ]] && out+=("$((10#${uuid: -2}))"); done
  (IFS=$'\n'; printf '%s' "$(sort -n <<<"${out[*]}" | paste -sd,)")
}

# wg_job LABEL LINE N: with-gpu in a job chose N GPUs, exactly those its cgroup lets it open
wg_job() {
  local label=$1 line=$2 n=$3 chosen allowed
  if [[ -z $line ]]; then fail "$label: with-gpu ran the command"; return; fi
  show "$line"
  chosen=$(chosen_of "$line")
  allowed=$(allowed_of "$line")
  if [[ $constrained != 1 ]]; then
    skip "$label: with-gpu chose the job's own GPUs" "no device constraint"
    return
  fi
  check "$label: with-gpu named $n GPUs by UUID (chose $chosen)" [ "$(tr ',' '\n' <<<"$chosen" | grep -c .)" -eq "$n" ]
  check "$label: they are exactly the ones its cgroup allows ($allowed)" [ "$chosen" == "$allowed" ]
}

# Two --gres=gpu:2 jobs at once, each with-gpu --min-gpus 2: disjoint, each on its own devices
wg_two_jobs() {
  local title=$1 a b
  rm -f "$tmp"/barrier/*
  timeout 60 srun -t 1 --gres=gpu:2 "$with_gpu" --quiet --min-gpus 2 -- "${probe[@]}" "$tmp/barrier" 2 \
    >"$tmp/out/wa" 2>"$tmp/out/wa.err" &
  local srun_pid=$!
  batch 60 --gres=gpu:2 -o "$tmp/out/wb" --wrap "$with_gpu --quiet --min-gpus 2 -- ${probe[*]} $tmp/barrier 2" \
    2>"$tmp/out/wb.err" || true
  wait "$srun_pid" || true
  a=$(grep -h '^job=' "$tmp/out/wa" || true)
  b=$(grep -h '^job=' "$tmp/out/wb" 2>/dev/null || true)
  echo "  two --gres=gpu:2 jobs, each running with-gpu --min-gpus 2 ($title):"
  [[ -n $a ]] || fail "srun job ran with-gpu ($title)" "$(cat "$tmp/out/wa" "$tmp/out/wa.err" 2>/dev/null)"
  [[ -n $b ]] || fail "sbatch job ran with-gpu ($title)" "$(cat "$tmp/out/wb" "$tmp/out/wb.err" 2>/dev/null)"
  [[ -n $a && -n $b ]] || return 0
  check "both with-gpu commands ran at the same time ($title)" [ "$(field "$a" barrier)$(field "$b" barrier)" == metmet ]
  wg_job "srun job ($title)" "$a" 2
  wg_job "sbatch job ($title)" "$b" 2
  if [[ $constrained == 1 ]]; then
    check "their GPUs are disjoint ($title)" \
      [ "$(tr ',' '\n' <<<"$(chosen_of "$a"),$(chosen_of "$b")" | sort -n | paste -sd,)" == 0,1,2,3 ]
  fi
}

run_cases() {
  say "with-gpu cases ($with_gpu)"
  local out line lines max status
  rm -rf "$WITH_GPU_LOCK_DIR"

  wg_two_jobs "gres.conf in minor order"

  # An 8-task array of 1-GPU jobs, each with-gpu --wait: four at a time, each on its own device
  WGTEST_HOLD=1 batch 90 --array=0-7 --gres=gpu:1 -o "$tmp/out/wg_array_%a" \
    --wrap "$with_gpu --quiet --wait --timeout 60 -- ${probe[*]}" 2>"$tmp/out/wg_array.err" || true
  lines=$(cat "$tmp"/out/wg_array_* 2>/dev/null | grep '^job=' | sort -t= -k3 -n || true)
  echo "  sbatch --array=0-7 --gres=gpu:1, each with-gpu --wait (the command holds 1 s):"
  check "8 array tasks ran their command through with-gpu" [ "$(grep -c . <<<"$lines")" -eq 8 ]
  while read -r line; do [[ -n $line ]] && wg_job "array task $(field "$line" task)" "$line" 1; done <<<"$lines"
  max=$(python3 -c '
import sys
spans = [tuple(float(w.split("=")[1]) for w in l.split() if w.startswith(("start=", "end="))) for l in sys.stdin if l.strip()]
print(max((sum(1 for s, e in spans if s <= t < e) for t, _ in spans), default=0))' <<<"$lines")
  say "with-gpu array: at most $max tasks ran at once"
  if [[ $constrained == 1 ]]; then
    check "with-gpu array: tasks ran side by side (at most $max at once), not one at a time" [ "$max" -ge 2 ]
  fi
  check "with-gpu array: never more than 4 at once" [ "$max" -le 4 ]
  grep -h "with-gpu: error" "$tmp"/out/wg_array_* 2>/dev/null | head -3 || true

  # A job without GPUs is refused with the Slurm sentence
  out=$(CUDA_VISIBLE_DEVICES=0,1,2,3 timeout 60 srun -t 1 "$with_gpu" -- true 2>&1; echo "exit=$?")
  echo "  srun without --gres, with-gpu -- true:"
  while IFS= read -r line; do printf '    %s\n' "$line"; done <<<"$out"
  check "a job without GPUs is refused (exit 4)" grep -q '^exit=4$' <<<"$out"
  check "the refusal says the job was given no GPUs and how to ask" \
    grep -Eq 'with-gpu: error: Slurm job [0-9]+( step [0-9]+)? was given no GPUs; ask Slurm for them \(sbatch/srun --gres=gpu:N or --gpus=N\)' <<<"$out"

  # --status inside a job shows the allocation and marks the GPUs outside it
  status=$(timeout 60 srun -t 1 --gres=gpu:2 sh -c "\"$with_gpu\" --status; ${probe[*]}" 2>&1 || true)
  echo "  srun --gres=gpu:2 with-gpu --status:"
  while IFS= read -r line; do [[ $line == job=* ]] || printf '    %s\n' "$line"; done <<<"$status"
  check "--status in a job has an allocation line" \
    grep -Eq '^allocation: Slurm job [0-9]+ step [0-9]+, 2 GPUs \(CUDA_VISIBLE_DEVICES=0,1\): GPUs [0-3], [0-3]$' <<<"$status"
  if [[ $constrained == 1 ]]; then
    line=$(grep '^job=' <<<"$status" || true)
    local listed
    listed=$(sed -nE 's/^allocation: .*: GPUs ([0-3]), ([0-3])$/\1,\2/p' <<<"$status")
    check "--status names the job's own GPUs as its allocation ($listed, allowed $(allowed_of "$line"))" \
      [ "$listed" == "$(allowed_of "$line")" ]
    check "--status marks the other two GPUs" [ "$(grep -c 'OUTSIDE ALLOCATION' <<<"$status")" -eq 2 ]
  fi

  # gres.conf's File= order need not be PCI order: each job still lands on its own devices
  use_gres_order 2 0 3 1
  wg_two_jobs "gres.conf File= order 2 0 3 1"
  use_gres_order 0 1 2 3
}
run_cases

finished=1   # the summary, the cleanup and the exit status: cleanup (trap)
