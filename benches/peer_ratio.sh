#!/usr/bin/env bash
# vomsim against the NumPy peer (../shared/peers/peer_numpy.py), run
# alternately in one session, one thread each: the machine is shared and
# noisy, so alternating puts both under the same conditions, and the best
# of ROUNDS is reported for each (the least disturbed run).
#
# Prints, per youth, the simulation alone (vomsim's manifest `wall_seconds`
# against the peer's `sim_s`) at 600 referrals a month, and the whole
# process (wall clock, output included) on the default `vors_la`, with
# their ratios: issue 21's first two targets.
#
# Usage (from the project's root, release binary built):
#   PEER_PYTHON=/path/to/venv/bin/python benches/peer_ratio.sh [ROUNDS]
# The venv holds ../shared/peers/requirements.txt; PEER_DIR overrides where
# the peer lives (default ../shared/peers). The peer is not part of the
# project and is not needed to build or test it.
set -euo pipefail
rounds="${1:-5}"
python="${PEER_PYTHON:-python3}"
peer_dir="${PEER_DIR:-../shared/peers}"
vomsim="${VOMSIM:-target/release/vomsim}"
scenario=scenarios/vors_la.toml
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

[ -x "$vomsim" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -f "$peer_dir/peer_numpy.py" ] || { echo "no peer at $peer_dir (set PEER_DIR)" >&2; exit 1; }

# Seconds of wall clock a command takes (output discarded).
wall() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  calc "$end - $start"
}

min() { sort -g | head -1; }
calc() { awk "BEGIN { print $1 }"; }

big=(--reps 200 --set referrals.per_month=600)
: >"$tmp/v_sim"; : >"$tmp/p_sim"; : >"$tmp/v_all"; : >"$tmp/p_all"
for round in $(seq "$rounds"); do
  # Simulation per youth at 600 referrals a month.
  "$vomsim" run "$scenario" "${big[@]}" --threads 1 --no-replications --quiet \
    --out "$tmp/v" --force
  youths=$(awk -F, '$2=="referrals" && $3=="referred" {print $5 * $10}' "$tmp/v/summary.csv")
  seconds=$(sed -n 's/.*"wall_seconds": *\([0-9.e-]*\).*/\1/p' "$tmp/v/manifest.json")
  calc "$seconds / $youths * 1e9" >>"$tmp/v_sim"
  line=$("$python" "$peer_dir/peer_numpy.py" "$scenario" "${big[@]}" --quiet --out "$tmp/p" | grep '^TIMING')
  youths=$(sed -n 's/.* youths=\([0-9]*\).*/\1/p' <<<"$line")
  seconds=$(sed -n 's/.* sim_s=\([0-9.]*\).*/\1/p' <<<"$line")
  calc "$seconds / $youths * 1e9" >>"$tmp/p_sim"
  # Whole process on the default scenario, output included.
  # Into fresh folders, removed outside the timing (replacing a folder
  # costs vomsim the deletion of the old one, which a first run does not).
  rm -rf "$tmp/vw" "$tmp/pw"
  wall "$vomsim" run "$scenario" --reps 200 --threads 1 --quiet --out "$tmp/vw" >>"$tmp/v_all"
  wall "$python" "$peer_dir/peer_numpy.py" "$scenario" --reps 200 --quiet --out "$tmp/pw" >>"$tmp/p_all"
  echo "round $round of $rounds done" >&2
done

v_sim=$(min <"$tmp/v_sim"); p_sim=$(min <"$tmp/p_sim")
v_all=$(min <"$tmp/v_all"); p_all=$(min <"$tmp/p_all")
printf 'simulation per youth, 600 referrals/month, 1 thread: vomsim %.0f ns, peer_numpy %.0f ns, ratio %.1fx\n' \
  "$v_sim" "$p_sim" "$(calc "$p_sim / $v_sim")"
printf 'whole process, vors_la --reps 200, 1 thread:        vomsim %.3f s, peer_numpy %.3f s, ratio %.1fx\n' \
  "$v_all" "$p_all" "$(calc "$p_all / $v_all")"
