#!/usr/bin/env bash
# A throwaway single-node Slurm cluster (munge + slurmctld + slurmd) for tests: everything —
# config, key, sockets, state, logs — lives under one folder, nothing under /etc is changed.
#
#   tools/slurm/single-node.sh start DIR   # prints `export SLURM_CONF=DIR/slurm.conf`; waits until the node is idle
#   tools/slurm/single-node.sh stop DIR    # stops the three daemons it started (by their pid files)
#
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge) and root (slurmd runs jobs
# as their submitting user). Exit status 3 means "cannot run a cluster here", with the reason on stderr.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
  for f in slurmd slurmctld munged; do
    if [[ -f "$dir/$f.pid" ]]; then
      pid=$(cat "$dir/$f.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$f.pid"
    fi
  done
}

if [[ "$cmd" == stop ]]; then stop; exit 0; fi
[[ "$cmd" == start ]] || { echo "unknown command '$cmd'" >&2; exit 2; }

for b in munged slurmctld slurmd sbatch scontrol; do
  command -v "$b" >/dev/null || { echo "no '$b' on PATH: install Debian's slurm-wlm and munge" >&2; exit 3; }
done
[[ $(id -u) == 0 ]] || { echo "slurmd must run as root to start jobs (running as uid $(id -u))" >&2; exit 3; }

mkdir -p "$dir"/{ctld,spool,munge}
dir=$(cd "$dir" && pwd)
chmod 700 "$dir/munge"
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
# Free TCP ports for the two daemons (the ones Slurm uses by default may be taken).
read -r ctldport dport < <(python3 -c 'import socket
ss=[socket.socket() for _ in range(2)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(*[s.getsockname()[1] for s in ss])' 2>/dev/null || echo "16817 16818")

dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" \
  || { echo "munged did not start: $(tail -3 "$dir/munged.log" 2>/dev/null)" >&2; exit 3; }

cat > "$dir/slurm.conf" <<CONF
ClusterName=entropylens-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctldport
SlurmdPort=$dport
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
# a requeued task's begin time is moved to now by the test; backfill every second picks it up
# at once instead of at the next 30-60 s scheduling pass
SchedulerParameters=bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SlurmdTimeout=60
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -i || { stop; echo "slurmctld did not start: $(tail -5 "$dir/slurmctld.log" 2>/dev/null)" >&2; exit 3; }
slurmd || { stop; echo "slurmd did not start: $(tail -5 "$dir/slurmd.log" 2>/dev/null)" >&2; exit 3; }

for _ in $(seq 100); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
  if [[ "$state" == idle* ]]; then echo "export SLURM_CONF=$SLURM_CONF"; exit 0; fi
  sleep 0.2
done
log=$(tail -5 "$dir/slurmd.log" "$dir/slurmctld.log" 2>/dev/null || true)
stop
echo "the Slurm node did not become idle within 20 s (state '${state:-none}'): $log" >&2
exit 3
