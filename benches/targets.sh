#!/usr/bin/env bash
# Issue 21's last two targets, vomsim alone (the first two, against the
# NumPy peer, are benches/peer_ratio.sh's):
#   - at 10,000 replications of vors_la (2 threads), the share of the run's
#     wall time spent writing: after the simulation ends (wall clock minus
#     the manifest's `wall_seconds`), and what `replications.csv` adds
#     (against the same run with --no-replications); peak memory;
#   - 2 threads against 1 at 600 referrals a month (manifest `wall_seconds`).
# Best of ROUNDS for each (the machine is shared and noisy: the least
# disturbed run).
#
# Usage (from the project's root, release binary built):
#   benches/targets.sh [ROUNDS]
set -euo pipefail
rounds="${1:-3}"
vomsim="${VOMSIM:-target/release/vomsim}"
scenario=scenarios/vors_la.toml
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
[ -x "$vomsim" ] || { echo "build first: cargo build --release" >&2; exit 1; }

calc() { awk "BEGIN { print $1 }"; }
min() { sort -g | head -1; }
simulated() { sed -n 's/.*"wall_seconds": *\([0-9.e-]*\).*/\1/p' "$1/manifest.json"; }
# Runs vomsim under /usr/bin/time; prints "wall_seconds peak_KB".
timed() {
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$vomsim" "$@" >/dev/null 2>&1
  cat "$tmp/time"
}

: >"$tmp/full"; : >"$tmp/bare"; : >"$tmp/one"; : >"$tmp/two"
for round in $(seq "$rounds"); do
  # Into fresh folders, removed outside the timing: replacing a run's
  # folder costs the deletion of its 728 MB, which a first run does not pay.
  rm -rf "$tmp/f" "$tmp/b"
  read -r wall kb < <(timed run "$scenario" --reps 10000 --threads 2 --quiet --out "$tmp/f")
  echo "$wall $(simulated "$tmp/f") $kb" >>"$tmp/full"
  read -r wall kb < <(timed run "$scenario" --reps 10000 --threads 2 --quiet --out "$tmp/b" --no-replications)
  echo "$wall $kb" >>"$tmp/bare"
  # The 728 MB just written is still being flushed to disk by the kernel,
  # on a core of its own: wait for it, or the 2-thread run shares a core
  # with the flush (and the ratio measured the flush, not vomsim).
  sync
  for threads in 1 2; do
    "$vomsim" run "$scenario" --set referrals.per_month=600 --reps 200 --threads "$threads" \
      --no-replications --quiet --out "$tmp/t$threads" --force
  done
  simulated "$tmp/t1" >>"$tmp/one"; simulated "$tmp/t2" >>"$tmp/two"
  echo "round $round of $rounds done" >&2
done

read -r wall sim kb < <(sort -g "$tmp/full" | head -1)
read -r bare bare_kb < <(sort -g "$tmp/bare" | head -1)
printf '10,000 replications, 2 threads: wall %.2f s, simulation %.2f s, after it %.2f s (%.0f%%); peak %d MB\n' \
  "$wall" "$sim" "$(calc "$wall - $sim")" "$(calc "100 * ($wall - $sim) / $wall")" "$((kb / 1024))"
printf '  with --no-replications: wall %.2f s (replications.csv adds %.0f%% of the full run); peak %d MB\n' \
  "$bare" "$(calc "100 * ($wall - $bare) / $wall")" "$((bare_kb / 1024))"
one=$(min <"$tmp/one"); two=$(min <"$tmp/two")
printf '600 referrals/month, 200 replications: 1 thread %.2f s, 2 threads %.2f s, %.2fx\n' \
  "$one" "$two" "$(calc "$one / $two")"
