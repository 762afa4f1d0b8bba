#!/usr/bin/env bash
# Sets up (see setup.sh), trains experiments/quickstart.toml, and prints where the results went.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./.build/release/longcat-lab doctor
./.build/release/longcat-lab train experiments/quickstart.toml "$@"
