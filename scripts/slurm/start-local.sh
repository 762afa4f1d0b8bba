#!/usr/bin/env bash
# Starts a single-node Slurm cluster on localhost (munged, slurmctld, slurmd from Debian 12's
# packages) for the sweep's Slurm test. Idempotent: does nothing when the node already answers.
#
#   scripts/slurm/start-local.sh            # configure and start (root; packages must be installed)
#   scripts/slurm/start-local.sh --install  # apt-get install the packages first when missing
#   scripts/slurm/start-local.sh --stop     # stop the daemons this script started
#
# Exits 0 when `sinfo` shows node localhost ready; otherwise prints why on stderr and exits
# non-zero (2: cannot be set up here, e.g. not root or no packages; 1: a daemon failed to start).
# The cluster: one node "localhost" with CPUs=2 (or LAB_SLURM_CPUS), one partition "lab",
# consumable CPUs (two 1-CPU array tasks run at once), no cgroups (works in a container),
# SlurmUser root. Files: /etc/slurm/slurm.conf, state under /var/spool/lab-slurm, logs under
# /var/log/lab-slurm.
set -uo pipefail

cpus="${LAB_SLURM_CPUS:-2}"
conf=/etc/slurm/slurm.conf
state=/var/spool/lab-slurm
logs=/var/log/lab-slurm
marker="# written by longcat-lab scripts/slurm/start-local.sh"

fail() { echo "slurm: $2" >&2; exit "$1"; }

node_ready() {
  command -v sinfo >/dev/null || return 1
  local s
  s=$(timeout 5 sinfo -h -n localhost -o '%T' 2>/dev/null | head -1)
  [[ "$s" == idle* || "$s" == mix* || "$s" == alloc* ]]
}

if [[ "${1:-}" == "--stop" ]]; then
  for d in slurmd slurmctld munged; do
    pid=$(cat "/run/lab-slurm-$d.pid" 2>/dev/null) && kill "$pid" 2>/dev/null && echo "slurm: stopped $d ($pid)"
    rm -f "/run/lab-slurm-$d.pid"
  done
  exit 0
fi

node_ready && { echo "slurm: node localhost already up"; exit 0; }
[[ "$(id -u)" -eq 0 ]] || fail 2 "needs root to configure and start the daemons (running as $(id -un))"

if [[ "${1:-}" == "--install" ]] && ! command -v slurmctld >/dev/null; then
  echo "slurm: installing slurmctld slurmd slurm-client munge"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      slurmctld slurmd slurm-client munge; } >/dev/null 2>&1 || fail 2 "apt-get install of slurm and munge failed"
fi
for tool in munged slurmctld slurmd sbatch sinfo; do
  command -v "$tool" >/dev/null || fail 2 "$tool not found (apt-get install slurmctld slurmd slurm-client munge, or run with --install)"
done

if [[ -f "$conf" ]] && ! grep -qF "$marker" "$conf"; then
  fail 2 "$conf exists and was not written by this script; not touching a real cluster's configuration"
fi

mkdir -p "$state" "$logs" /run/munge /var/spool/slurmd
cat > "$conf" <<CONF
$marker
ClusterName=lab
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=/run/lab-slurm-slurmctld.pid
SlurmdPidFile=/run/lab-slurm-slurmd.pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=10
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=lab Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$state/ctld" "$state/d"

# munge: a key readable only by its user, then the daemon.
if [[ ! -s /etc/munge/munge.key ]]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown -R munge:munge /etc/munge /run/munge 2>/dev/null; chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
mkdir -p /var/lib/munge /var/log/munge && chown munge:munge /var/lib/munge /var/log/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- munged --pid-file=/run/munge/munged.pid </dev/null >/dev/null 2>&1 \
    || munged --force --pid-file=/run/munge/munged.pid </dev/null >/dev/null 2>&1 \
    || fail 1 "munged did not start"
  cp /run/munge/munged.pid /run/lab-slurm-munged.pid 2>/dev/null
  for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
  munge -n | unmunge >/dev/null 2>&1 || fail 1 "munge credentials do not round-trip (munge -n | unmunge)"
fi

# The daemons keep no descriptor of ours: a caller reading this script's output to its end
# (a test through a pipe) would otherwise wait for as long as they run. Their logs are in $logs.
slurmctld -f "$conf" </dev/null >/dev/null 2>&1 || fail 1 "slurmctld did not start; see $logs/slurmctld.log"
for _ in $(seq 40); do timeout 2 scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.25; done
slurmd -f "$conf" -N localhost </dev/null >/dev/null 2>&1 || fail 1 "slurmd did not start; see $logs/slurmd.log"
for _ in $(seq 60); do
  node_ready && { echo "slurm: node localhost up ($cpus CPUs, partition lab)"; exit 0; }
  scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1
  sleep 0.5
done
fail 1 "node localhost did not become ready: $(sinfo -h -n localhost -o '%T %E' 2>&1); see $logs/"
