#!/usr/bin/env bash
# What the benchmarks need beyond scripts/setup.sh (which the tests need): an X server
# without a display for the app bench (`cargo bench -p kontor --bench app` draws real
# frames under it). Idempotent; quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v Xvfb >/dev/null; then
  echo "bench-setup: installing xvfb"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends xvfb
fi
