#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (lit through ctest).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_BUILD_DIR:-$root/build}"

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "$build"
ctest -j2 --output-on-failure
