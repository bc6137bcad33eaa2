#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for the Slurm tests and for trying the Slurm
# scheduler: tools/slurm/local-cluster.sh start | stop | status
# start installs slurm-wlm and munge (Debian 12) when they are missing, writes a one-node
# configuration (the node line from `slurmd -C`, one partition "debug"), creates a munge key
# and starts munged, slurmctld and slurmd without systemd. Needs root.
set -euo pipefail

state=/var/lib/traintune-slurm
conf_dir=/etc/slurm
conf=$conf_dir/slurm.conf

need_root() {
  if [ "$(id -u)" -ne 0 ]; then echo "local-cluster.sh: run as root (it installs packages and starts daemons)." >&2; exit 2; fi
}

install() {
  if command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then return; fi
  echo "local-cluster.sh: installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packages' service scripts cannot start daemons here (no systemd); this script starts them.
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

configure() {
  mkdir -p "$conf_dir" "$state/spool/ctld" "$state/spool/d" "$state/log" /run/munge /var/log/munge /var/lib/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  chmod 700 /etc/munge /var/lib/munge /var/log/munge
  chmod 400 /etc/munge/munge.key
  chmod 755 /run/munge
  local node host
  host=$(hostname -s)
  # `slurmd -C` prints this machine as a node line (NodeName=… CPUs=… RealMemory=…) and an uptime line.
  node=$(slurmd -C | grep '^NodeName=')
  node=$(echo "$node" | sed "s/^NodeName=[^ ]*/NodeName=$host/")
  cat > "$conf" <<CONF
# Written by tools/slurm/local-cluster.sh: one node, one partition, no accounting database.
ClusterName=traintune-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ReturnToService=2
DefMemPerCPU=1000
MaxArraySize=1001
MinJobAge=3600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
}

start() {
  need_root
  install
  if status >/dev/null 2>&1; then echo "local-cluster.sh: already running"; status; return; fi
  configure
  pgrep -x munged >/dev/null || su -s /bin/sh munge -c "/usr/sbin/munged"
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  # Wait for the node to register and become idle.
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then status; return; fi
    sleep 1
  done
  echo "local-cluster.sh: the node did not become ready; see $state/log/" >&2
  sinfo >&2 || true
  exit 1
}

stop() {
  need_root
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  pkill -x munged 2>/dev/null || true
  for _ in $(seq 1 20); do
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x munged >/dev/null || { echo "local-cluster.sh: stopped"; return; }
    sleep 0.5
  done
  echo "local-cluster.sh: daemons still running" >&2
  exit 1
}

status() {
  if ! command -v sinfo >/dev/null 2>&1; then echo "local-cluster.sh: Slurm is not installed (run start)"; return 3; fi
  if ! pgrep -x slurmctld >/dev/null || ! pgrep -x slurmd >/dev/null; then echo "local-cluster.sh: not running"; return 3; fi
  sinfo
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: tools/slurm/local-cluster.sh start|stop|status" >&2; exit 2 ;;
esac
