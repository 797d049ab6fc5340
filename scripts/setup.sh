#!/usr/bin/env bash
# Installs what building and testing Kontor needs on a fresh Debian machine with the Rust
# toolchain: a C compiler (aws-lc, SQLite), fontconfig headers (Slint UI), Python 3 with
# venv, dbus-daemon for the notification test's private bus, poppler-utils for the quote PDF tests (Synapse is installed by the test harness itself into target/kontor-venv, pinned).
# Idempotent; quiet when all is there.
set -euo pipefail
need=()
command -v cc >/dev/null || need+=(gcc)
command -v pkg-config >/dev/null || need+=(pkg-config)
# The Slint UI links fontconfig (found through pkg-config).
{ command -v pkg-config >/dev/null && pkg-config --exists fontconfig; } || need+=(libfontconfig1-dev)
# The desktop-notification test starts its own private session bus.
[ -x /usr/bin/dbus-daemon ] || need+=(dbus-daemon)
# The quote PDF tests read the PDFs back with poppler (pdftotext, pdffonts, pdftoppm).
command -v pdftotext >/dev/null || need+=(poppler-utils)
if ! command -v python3 >/dev/null; then
  need+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
