#!/usr/bin/env bash
# Runs `longcat-lab bench` RUNS times (default 5) with the given arguments and prints each run's
# figures and their medians: tokens/s, the share of the machine's sgemm rate that a whole step
# reaches (against the higher of bench's two sgemm measurements), the threads' share of time
# inside sgemm calls, the ceiling (the share a step with no time outside sgemm would reach), and
# peak resident memory.
#
#   scripts/bench-medians.sh                                            # bench-tiny
#   RUNS=5 scripts/bench-medians.sh --config experiments/bench-medium.toml
#
# Speed is stated this way, never as an absolute figure: the machines differ from day to day.
# `longcat-lab doctor` prints the machine line that goes with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${LAB:-.build/release/longcat-lab}
runs=${RUNS:-5}
[ -x "$lab" ] || { echo "bench-medians: $lab not found; run ./scripts/setup.sh first" >&2; exit 1; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench-medians: RUNS must be a positive integer, got '$runs'" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for i in $(seq "$runs"); do
  out=$("$lab" bench "$@" 2>&1) || { echo "$out" >&2; exit 1; }
  tps=$(echo "$out" | sed -n 's/^throughput \([0-9]*\) tokens\/s.*/\1/p')
  share=$(echo "$out" | sed -n 's/.*; \([0-9]*\)% of the higher.*/\1/p')
  peak=$(echo "$out" | sed -n 's/^memory     peak resident \([0-9]*\) MiB.*/\1/p')
  inblas=$(echo "$out" | sed -n 's/^BLAS .*the threads spent \([0-9]*\)% of their time.*/\1/p')
  ceiling=$(echo "$out" | sed -n 's/^ceiling .*would reach \([0-9]*\)% of.*/\1/p')
  echo "run $i: $tps tokens/s, $share% of sgemm, $inblas% of threads' time in sgemm, ceiling $ceiling%, peak $peak MiB"
  echo "$tps $share $peak $inblas $ceiling" >> "$tmp"
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "median of $runs: $(cut -d' ' -f1 "$tmp" | median) tokens/s, $(cut -d' ' -f2 "$tmp" | median)% of sgemm, $(cut -d' ' -f4 "$tmp" | median)% in sgemm, ceiling $(cut -d' ' -f5 "$tmp" | median)%, peak $(cut -d' ' -f3 "$tmp" | median) MiB"
