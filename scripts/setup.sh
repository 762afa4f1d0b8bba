#!/usr/bin/env bash
# Installs what the lab needs on Debian 12 (if missing) and builds it in release.
set -euo pipefail
cd "$(dirname "$0")/.."
# Installs those of the Debian packages named after $1 (a description) that are missing.
install_missing() {
  local what="$1"; shift
  local need=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing $what: ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}
install_missing "the build's packages" libopenblas-dev libsqlite3-dev gnuplot-nox pkg-config
# Optional (LONGCAT_OPTIONAL=1): the Debian packages behind the extra corpora. bible-kjv is the
# King James Bible of data.corpus = "kjv" (experiments/corpus-kjv.toml; its text is extracted
# once with the package's `bible` program into data.cache_dir). data.corpus = "mix"
# (experiments/corpus-mix.toml) also reads the kernel tarball of linux-source-6.1 (C), the
# standard library of libpython3.11-stdlib (Python) and the .rst.txt sources of python3.11-doc
# (docs); it extracts them once into data.cache_dir. Nothing else needs them.
if [ "${LONGCAT_OPTIONAL:-0}" = "1" ]; then
  install_missing "the optional corpora's packages" bible-kjv linux-source-6.1 libpython3.11-stdlib python3.11-doc
fi
command -v swift >/dev/null || { echo "setup: swift (6.x) is not on PATH; install the Swift toolchain first" >&2; exit 1; }
echo "setup: building longcat-lab (release)"
swift build -c release --product longcat-lab 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/longcat-lab || { echo "setup: build failed" >&2; exit 1; }
