#!/usr/bin/env bash
# Estimates what splitting the batch across the 2 worker threads (each thread its own half of the
# batch through the whole model, gradients summed once per step) would give, before building it:
# two 1-thread processes, each training half the batch, run at the same time (so they share the
# cores' caches and the memory bandwidth as the two threads would), against one 2-thread process
# that splits every GEMM, which is what the lab does. ROUNDS rounds (default 3) alternate the two.
#
#   scripts/batch-split-estimate.sh                                      # bench-tiny (batch 16 -> 2 x 8)
#   scripts/batch-split-estimate.sh experiments/bench-medium.toml        # batch 8 -> 2 x 4
#
# Each half-batch process also runs the whole AdamW update and clipping on one thread; a real
# split would run them once on both threads, so the estimate subtracts half of the processes'
# "gradient clip + AdamW" time. It does not add the per-step sum of the two gradient buffers (one
# pass over the parameters' size) nor the second gradient buffer's memory.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${LAB:-.build/release/longcat-lab}
rounds=${ROUNDS:-3}
config=${1:-experiments/bench-tiny.toml}
[ -x "$lab" ] || { echo "batch-split-estimate: $lab not found; run ./scripts/setup.sh first" >&2; exit 1; }
[ -f "$config" ] || { echo "batch-split-estimate: config '$config' not found" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "batch-split-estimate: ROUNDS must be a positive integer, got '$rounds'" >&2; exit 2; }
batch=$(sed -n 's/^batch_size *= *\([0-9]*\).*/\1/p' "$config" | head -1)
[[ "$batch" =~ ^[0-9]+$ ]] && [ $((batch % 2)) -eq 0 ] && [ "$batch" -ge 2 ] || {
  echo "batch-split-estimate: $config needs an even train.batch_size of at least 2 (found '${batch}')" >&2; exit 2; }
half=$((batch / 2))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step_ms() { sed -n 's/.*tokens\/s (median of [0-9]* steps, \([0-9.]*\) ms\/step).*/\1/p' "$1"; }
optimizer_ms() { grep "gradient clip + AdamW" "$1" | awk '{print $(NF-2)}'; }
for i in $(seq "$rounds"); do
  "$lab" bench --config "$config" --threads 2 --no-record > "$tmp/full" 2>&1 || { cat "$tmp/full" >&2; exit 1; }
  "$lab" bench --config "$config" --threads 1 --no-record --set train.batch_size=$half > "$tmp/a" 2>&1 &
  pa=$!
  "$lab" bench --config "$config" --threads 1 --no-record --set train.batch_size=$half > "$tmp/b" 2>&1 || { cat "$tmp/b" >&2; exit 1; }
  wait "$pa" || { cat "$tmp/a" >&2; exit 1; }
  full=$(step_ms "$tmp/full"); a=$(step_ms "$tmp/a"); b=$(step_ms "$tmp/b")
  oa=$(optimizer_ms "$tmp/a"); ob=$(optimizer_ms "$tmp/b")
  awk -v i="$i" -v full="$full" -v a="$a" -v b="$b" -v oa="$oa" -v ob="$ob" 'BEGIN {
    slow = (a > b) ? a : b; opt = (oa + ob) / 4; est = slow - opt
    printf "round %d: GEMM split %.1f ms/step; batch split estimate %.1f ms/step (slower half-batch process %.1f, less %.1f of its optimizer): batch split %+.1f%% tokens/s\n",
           i, full, est, slow, opt, 100 * (full - est) / est }'
done
