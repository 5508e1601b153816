#!/usr/bin/env bash
# Regenerates the ODS references in docs/ (dialect, ops, every pass family).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_BUILD_DIR:-$root/build}"
ninja -C "$build" mlir-doc
for dir in DeltaNet NPU Conversion Codegen; do
  mkdir -p "$root/docs/$dir"
  cp "$build"/docs/$dir/*.md "$root/docs/$dir/"
done
echo "docs/{DeltaNet,NPU,Conversion,Codegen} updated"
