#!/usr/bin/env bash
# Runs the whole test suite (installing system packages first if they are missing).
# Release mode: the numeric tests (gradient checks, overfitting) run many times faster there.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The notebook-export test executes the exported notebook, which needs Python with pandas,
# matplotlib, nbformat, nbclient and ipykernel. When python3 lacks them they are installed from
# PyPI into a virtual environment under .build (about 3 minutes the first time, seconds after);
# offline, or without python3-venv, the test is skipped with a printed note.
notebook_ready() { "$1" -c "import nbformat, nbclient, ipykernel, pandas, matplotlib" 2>/dev/null; }
if command -v python3 >/dev/null && ! notebook_ready python3; then
  venv=.build/notebook-python
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >/dev/null 2>&1 || true
  if [ -x "$venv/bin/python" ]; then
    if ! notebook_ready "$venv/bin/python"; then
      echo "test: installing pandas, matplotlib, nbformat, nbclient, ipykernel into $venv for the notebook test"
      timeout 900 "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        pandas matplotlib nbformat nbclient ipykernel >/dev/null 2>&1 \
        || echo "test: could not install them (PyPI unreachable?); the notebook execution test will be skipped"
    fi
    if notebook_ready "$venv/bin/python"; then export LAB_PYTHON="$PWD/$venv/bin/python"; fi
  else
    echo "test: python3 -m venv is unavailable (Debian: apt-get install python3-venv); the notebook execution test will be skipped"
  fi
fi

# Optional: a single-node Slurm cluster on localhost for the sweep's Slurm test (installing
# slurmctld, slurmd and munge takes about 45 s on Debian 12). Never fails the run: without root,
# network or packages the Slurm test is skipped and says why. LAB_NO_SLURM=1 skips this step.
if [ -z "${LAB_NO_SLURM:-}" ]; then
  timeout 300 ./scripts/slurm/start-local.sh --install || echo "test: no local Slurm cluster; the Slurm test will be skipped"
fi
swift test -c release -Xswiftc -enable-testing --disable-xctest "$@"
