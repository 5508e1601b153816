#!/usr/bin/env bash
# Regenerates docs/DeltaNet/*.md from the ODS definitions (dialect, ops, passes).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_BUILD_DIR:-$root/build}"
ninja -C "$build" mlir-doc
mkdir -p "$root/docs/DeltaNet"
cp "$build"/docs/DeltaNet/*.md "$root/docs/DeltaNet/"
echo "docs/DeltaNet updated"
