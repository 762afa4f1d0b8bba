#!/usr/bin/env bash
# Redraws the README's figures (docs/figures/*/*.png) from two finished runs:
#   longcat-lab train experiments/quickstart.toml --name quickstart --set train.threads=1
#   longcat-lab train experiments/quickstart.toml --name no-controller --set controller.kind=none --set train.threads=1
# usage: docs/figures/make-figures.sh [DATABASE]   (default results/lab.sqlite)
set -euo pipefail
cd "$(dirname "$0")/../.."
db=${1:-results/lab.sqlite}
lab=${LAB:-.build/release/longcat-lab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A consistent copy (the store runs in WAL mode, so the main file alone may be behind).
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' "$db" "$work/lab.sqlite"
rm -rf docs/figures/quickstart docs/figures/comparison
mkdir -p docs/figures/quickstart docs/figures/comparison
$lab plot all quickstart --db "$work/lab.sqlite" --out "$work/quickstart" >/dev/null
$lab plot all quickstart no-controller --db "$work/lab.sqlite" --out "$work/comparison" >/dev/null
$lab compare quickstart no-controller --db "$work/lab.sqlite" --out "$work/comparison" \
  --metric loss --metric ffn-experts --metric zero-share --metric max-vio | grep -v "^$work" > docs/figures/comparison/table.txt
# The per-run figures of the README; of the variance statistics, the residual-stream variance.
for f in activated-params activated-params-steps ffn-experts zero-share bias-layer0 bias-terms-layer0 \
         expert-load-strip-layer0 max-vio loss throughput allocation variance-step0-var variance-steps-var; do
  cp "$work/quickstart/$f.png" docs/figures/quickstart/
done
cp "$work"/quickstart/expert-load-step*.png docs/figures/quickstart/
# The comparison keeps the overlays; per-run figures of the second run show what differs.
for f in activated-params ffn-experts zero-share max-vio loss variance-step0-var allocation \
         compare-ffn-experts expert-load-strip-layer0-no-controller activated-params-steps-no-controller; do
  cp "$work/comparison/$f.png" docs/figures/comparison/
done
# 256-colour PNGs are less than half the size and look the same (when ImageMagick is installed).
if command -v convert >/dev/null; then
  for f in docs/figures/*/*.png; do convert "$f" -colors 256 "PNG8:$f"; done
fi
du -sh docs/figures/quickstart docs/figures/comparison
