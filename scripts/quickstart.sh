#!/usr/bin/env bash
# Sets up (see setup.sh), trains experiments/quickstart.toml, draws the run's figures
# (`longcat-lab plot all <run>`) and prints where the records and figures went.
# Arguments go to `longcat-lab train` (e.g. --name my-run, --set train.steps=100, --db PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
lab=./.build/release/longcat-lab
$lab doctor

# The records database and whether anything is recorded, as train will see them.
db=results/lab.sqlite
record=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --db) db="${args[i + 1]:-$db}" ;;
    --db=*) db="${args[i]#--db=}" ;;
    --no-record) record=0 ;;
  esac
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
$lab train experiments/quickstart.toml "$@" | tee "$log"
# train's first line is "run NAME: ...".
run=$(sed -n 's/^run \([^:]*\): .*/\1/p' "$log" | head -n 1)

if [ "$record" = 0 ]; then
  echo "  figures             none (--no-record: nothing recorded to draw)"
  exit 0
fi
echo "  figures             ($lab plot all $run --db $db)"
$lab plot all "$run" --db "$db" | sed 's/^/                      /'
