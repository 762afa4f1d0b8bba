#!/usr/bin/env bash
# The scale ladder (experiments/ladder/r*.toml, smallest first): runs each rung's sweep, then
# writes its summaries and figures under docs/results/ladder/<rung>/ and redraws the ladder
# figures (docs/results/ladder/*.png). See --help.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: scripts/ladder.sh [options]

Runs the rungs of the scale ladder (experiments/ladder/r*.toml) in order, smallest first: for
each rung not yet done it prints the plan with its estimated time (sweep --dry-run), runs the
sweep (4 arms x 5 seeds: zero experts adaptive, fixed split, the top-K_e baseline at equal
compute, and the conventional sequential layout against the ScMoE one), then writes
  docs/results/ladder/<rung>/summary-vs-topk.{md,json,csv}        zero and fixed against top-K_e
  docs/results/ladder/<rung>/summary-vs-sequential.{md,json,csv}  ScMoE (zero) against sequential
  docs/results/ladder/<rung>/compare-*.png                        loss, eval loss, FFN experts/token
  docs/results/ladder/<rung>/domains-vs-{topk,sequential}.md      the same, per domain
and redraws docs/results/ladder/ladder-*.png, differences.tsv (paired difference against
activated parameters per token, one figure per question) and trend.md (longcat-lab trend: the
fitted line, its slope interval and where it would reach 0) from every rung done so far.

Resuming: stop it at any time (Ctrl-C, kill, a crash) and run the same command again; finished
runs are skipped and interrupted ones resume from their checkpoints (the sweep does that).

Done rungs: a rung whose docs/results/ladder/<rung>/summary-vs-topk.md exists is done and is
skipped. Commit that folder when a rung finishes. A fresh machine goes on from the committed
summaries: clone, `LONGCAT_OPTIONAL=1 ./scripts/setup.sh`, then `scripts/ladder.sh` runs the
rungs not yet done (the records of the done ones stay on the machine that ran them; the
figures are drawn from the committed tables).

Options:
  --jobs N        runs at once (default 2)
  --threads N     threads in all, split between the jobs (default 2)
  --db PATH       records (default results/ladder/lab.sqlite)
  --results DIR   checkpoints, logs, sweep folders (default results/ladder)
  --only RUNG     run only this rung (its file stem, e.g. r2-d128-l2)
  --redo          rerun (and rewrite the summaries of) rungs that are already done
  --plan          print every rung's plan with estimated times and run nothing
  --figures       only redraw the ladder figures from the committed summaries
  --help          this text

The binary is copied with its resource bundle to <results>/bin/ first, so rebuilding does not
swap it under a running sweep (build it with scripts/setup.sh). The mix corpus cache
(data.cache_dir, default results/cache) is built once by the first run.
EOF
}

jobs=2 threads=2 db=results/ladder/lab.sqlite results=results/ladder only="" redo=0 plan=0 figures_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --redo) redo=1; shift ;;
    --plan) plan=1; shift ;;
    --figures) figures_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "ladder: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

docs=docs/results/ladder
rungs=(experiments/ladder/r*.toml)
if [ -n "$only" ]; then
  [ -f "experiments/ladder/$only.toml" ] || { echo "ladder: --only $only: no experiments/ladder/$only.toml" >&2; exit 2; }
  rungs=("experiments/ladder/$only.toml")
fi

# The ladder figures: one point per done rung and arm, x the arm's activated parameters per
# token, y its paired difference of the final validation loss with the 95% interval.
draw_figures() {
  mkdir -p "$docs"
  local tsv="$docs/differences.tsv"
  printf '# rung\tquestion\tactivated_params\tdiff\tlo\thi\tn\tresult\n' > "$tsv"
  local r csv
  for r in "$docs"/*/; do
    r=$(basename "$r")
    for pair in "topk:zero:zero-vs-topk" "topk:fixed:fixed-vs-topk" "sequential:zero:scmoe-vs-sequential"; do
      IFS=: read -r base arm question <<< "$pair"
      csv="$docs/$r/summary-vs-$base.csv"
      [ -f "$csv" ] || continue
      # Columns of sweep --report --format csv: arm(1) ... activated_params(10) ... diff(13)
      # diff_lo(14) diff_hi(15) n(16) ... result(19). Quoted fields hold no commas here.
      awk -F, -v rung="$r" -v arm="$r-$arm" -v q="$question" \
        'NR > 1 && $1 == arm && $13 != "" { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rung, q, $10, $13, ($14 == "" ? $13 : $14), ($15 == "" ? $13 : $15), $16, $19 }' \
        "$csv" >> "$tsv"
    done
  done
  # The trend across rungs (weighted fit of the difference against log10 activated params, with
  # bootstrap draws for the slope and the size where the line reaches 0): trend.md, and the
  # fitted lines drawn into the figures below.
  local tool=.build/release/longcat-lab fits=""
  [ -x "$tool" ] || tool="$results/bin/longcat-lab"
  if [ -x "$tool" ]; then
    "$tool" trend "$tsv" > "$docs/trend.md"
    fits=$("$tool" trend "$tsv" --format csv)
    echo "ladder: wrote $docs/trend.md"
  else
    echo "ladder: no built longcat-lab; trend.md not written (build it with scripts/setup.sh)"
  fi
  command -v gnuplot >/dev/null || { echo "ladder: gnuplot not found; wrote $tsv only"; return 0; }
  local q title fit intercept slope line
  for q in zero-vs-topk fixed-vs-topk scmoe-vs-sequential; do
    case "$q" in
      zero-vs-topk) title="zero experts (adaptive) - top-K_e at equal compute" ;;
      fixed-vs-topk) title="fixed split - top-K_e at equal compute" ;;
      scmoe-vs-sequential) title="ScMoE - conventional (sequential) layout" ;;
    esac
    grep -P "\t$q\t" "$tsv" > "$docs/.points-$q" || true
    if [ ! -s "$docs/.points-$q" ]; then rm -f "$docs/.points-$q"; continue; fi
    # trend --format csv: question(1), rungs(2), intercept(3), slope(4), ...
    fit=$(printf '%s\n' "$fits" | awk -F, -v q="$q" 'NR > 1 && $1 == q { print $3, $4 }')
    line=""
    if [ -n "$fit" ]; then
      read -r intercept slope <<< "$fit"
      line=", ($intercept) + ($slope) * log10(x) with lines dt 2 lw 1.5 lc rgb \"#777777\""
    fi
    gnuplot <<GP
set terminal pngcairo size 800,500 font ",11"
set output "$docs/ladder-$q.png"
set title "$title\nfinal validation loss, paired over seeds, 95% t interval${line:+; dashed: weighted fit (trend.md)}"
set xlabel "activated parameters per token"
set ylabel "val loss difference (nats/token)"
set logscale x
set format x "%.1s%c"
set xrange [2e5:1e7]
set grid
set key off
plot "$docs/.points-$q" using 3:4:5:6 with yerrorbars pt 7 ps 1.2 lw 2, \
     "" using 3:4:1 with labels offset 0,1.5 font ",9", \
     0 with lines lt -1 lw 1$line
GP
    rm -f "$docs/.points-$q"
    echo "ladder: drew $docs/ladder-$q.png"
  done
}

if [ "$figures_only" = 1 ]; then draw_figures; exit 0; fi

built=.build/release/longcat-lab
bin="$results/bin/longcat-lab"
if [ -x "$built" ]; then
  mkdir -p "$results/bin"
  if [ ! -x "$bin" ] || [ "$built" -nt "$bin" ]; then
    cp -p "$built" "$bin"
    for bundle in .build/release/*.resources; do [ -e "$bundle" ] && cp -pR "$bundle" "$results/bin/"; done
  fi
fi
[ -x "$bin" ] || { echo "ladder: no binary; build it first with scripts/setup.sh (LONGCAT_OPTIONAL=1 for the corpus)" >&2; exit 1; }
lab=("$bin")
common=(--jobs "$jobs" --threads "$threads" --db "$db" --results "$results")
"${lab[@]}" doctor | sed -n '1,5p'
# The corpus cache (extraction, tokenizer, token ids) is built here, once, by a one-step run
# without records, so that two runs of a sweep never build it at the same time.
if [ "$plan" = 0 ]; then
  echo "ladder: checking the corpus cache (builds it the first time: a few minutes)"
  "${lab[@]}" train "${rungs[0]}" --set train.steps=1 --set train.warmup_steps=0 --set train.eval_batches=1 \
    --set train.checkpoint_interval=0 --no-record --name ladder-cache-check --results "$results/cache-check" --quiet > /dev/null
  rm -rf "$results/cache-check"
fi

for file in "${rungs[@]}"; do
  rung=$(basename "$file" .toml)
  out="$docs/$rung"
  if [ -f "$out/summary-vs-topk.md" ] && [ "$redo" = 0 ]; then
    echo "ladder: $rung done ($out/summary-vs-topk.md is there); skipping"
    continue
  fi
  timing=()
  [ -f "$db" ] || timing=(--time-steps 3)
  echo "ladder: plan of $rung ($(date -u +%Y-%m-%dT%H:%MZ))"
  "${lab[@]}" sweep "$file" --dry-run "${common[@]}" "${timing[@]}" | grep -E '^(sweep|estimate)'
  [ "$plan" = 1 ] && continue
  status=0
  "${lab[@]}" sweep "$file" "${common[@]}" --quiet || status=$?
  if [ "$status" != 0 ]; then
    echo "ladder: $rung stopped (exit $status); run the same command again to resume it" >&2
    exit "$status"
  fi
  mkdir -p "$out"
  for base in topk sequential; do
    for fmt in md json csv; do
      "${lab[@]}" sweep "$file" --report --format "$fmt" --baseline "$rung-$base" --db "$db" --results "$results" > /dev/null
      cp "$results/sweeps/$rung/summary.$fmt" "$out/summary-vs-$base.$fmt"
    done
  done
  cp "$results/sweeps/$rung"/compare-*.png "$out/" 2>/dev/null || true
  # The final validation loss per domain, paired over seeds, so that the breakdown is committed
  # with the summaries and does not stay in the database on this machine.
  for base in topk sequential; do
    "${lab[@]}" sweep "$file" --report --by domain --baseline "$rung-$base" --db "$db" --results "$results" > /dev/null
    cp "$results/sweeps/$rung/summary-by-domain.md" "$out/domains-vs-$base.md"
  done
  date -u +"finished %Y-%m-%dT%H:%MZ" > "$out/finished.txt"
  "${lab[@]}" doctor | sed -n '1,5p' >> "$out/finished.txt"
  echo "ladder: $rung done; commit $out"
  draw_figures
done
