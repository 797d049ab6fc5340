#!/usr/bin/env bash
# The whole test suite: unit tests, the contact-book crash test, CLI and end-to-end suites
# against a real Synapse that the harness installs (first run) and starts on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace
