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
# Optional (LONGCAT_OPTIONAL=1): Debian's bible-kjv, the King James Bible behind
# data.corpus = "kjv" (experiments/corpus-kjv.toml). The lab extracts its text once with the
# package's `bible` program into data.cache_dir; nothing else needs it.
if [ "${LONGCAT_OPTIONAL:-0}" = "1" ] && ! command -v bible >/dev/null; then
  echo "setup: installing the optional bible-kjv (King James Bible corpus)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bible-kjv >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift (6.x) is not on PATH; install the Swift toolchain first" >&2; exit 1; }
echo "setup: building longcat-lab (release)"
swift build -c release --product longcat-lab 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/longcat-lab || { echo "setup: build failed" >&2; exit 1; }
