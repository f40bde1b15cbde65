#!/usr/bin/env bash
# A real test of the Slurm path, on this machine: installs Debian's Slurm if
# needed, starts a single-node cluster on 127.0.0.1 by hand (no systemd),
# runs a 2-task job array of a small sweep with contrib/slurm/sweep.sbatch,
# merges the shards, checks the merged files are byte-identical to the same
# sweep run locally, and stops the daemons it started. About a minute.
#
#   bash tests/slurm/run.sh          (.ci/run runs it when VOMSIM_SLURM_TEST=1)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurmctld slurmd slurm-client >/dev/null
fi
(cd "$root" && cargo build --release --locked --quiet)
vomsim=$root/target/release/vomsim

work=$(mktemp -d /tmp/vomsim-slurm.XXXXXX)
mkdir -p "$work/state" "$work/spool"
host=$(hostname -s)
# Free ports, so the test does not collide with another cluster.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/slurm.conf" <<CONF
ClusterName=vomsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SlurmUser=$(id -un)
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 & pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 & pids+=($!)

for _ in $(seq 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then break; fi
  sleep 1
done
sinfo -h -o '%T' | grep -qE '^(idle|mixed)' || {
  echo "slurm test: the node did not come up" >&2
  tail -20 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
  exit 1
}

sweep=$root/scenarios/sweeps/mediator_pool.toml
args=(--reps 20)
VOMSIM=$vomsim sbatch --wait --array=0-1 --chdir="$work" --output="$work/task-%a.out" \
  "$root/contrib/slurm/sweep.sbatch" "$sweep" "$work/out" "${args[@]}"
"$vomsim" merge "$work"/out/shard-* --out "$work/out/merged"
"$vomsim" sweep "$sweep" "${args[@]}" --quiet --out "$work/local"
for f in summary.csv replications.csv diagnosis.csv points.csv; do
  cmp "$work/out/merged/$f" "$work/local/$f"
done
echo "slurm test: a 2-task job array, merged, equals the local sweep (1 passed, 0 failed)"
rm -rf "$work"
