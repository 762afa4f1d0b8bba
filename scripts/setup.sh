#!/usr/bin/env bash
# Installs what the lab needs on Debian 12 (if missing) and builds it in release.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in libopenblas-dev libsqlite3-dev gnuplot-nox pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift (6.x) is not on PATH; install the Swift toolchain first" >&2; exit 1; }
echo "setup: building longcat-lab (release)"
swift build -c release --product longcat-lab 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/longcat-lab || { echo "setup: build failed" >&2; exit 1; }
