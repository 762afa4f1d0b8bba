#!/usr/bin/env bash
# Runs the whole test suite (installing system packages first if they are missing).
# Release mode: the numeric tests (gradient checks, overfitting) run many times faster there.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift test -c release -Xswiftc -enable-testing --disable-xctest "$@"
