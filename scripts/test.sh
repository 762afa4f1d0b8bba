#!/usr/bin/env bash
# Runs the whole test suite (installing system packages first if they are missing).
# Release mode: the numeric tests (gradient checks, overfitting) run many times faster there.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Optional: a single-node Slurm cluster on localhost for the sweep's Slurm test (installing
# slurmctld, slurmd and munge takes about 45 s on Debian 12). Never fails the run: without root,
# network or packages the Slurm test is skipped and says why. LAB_NO_SLURM=1 skips this step.
if [ -z "${LAB_NO_SLURM:-}" ]; then
  timeout 300 ./scripts/slurm/start-local.sh --install || echo "test: no local Slurm cluster; the Slurm test will be skipped"
fi
swift test -c release -Xswiftc -enable-testing --disable-xctest "$@"
