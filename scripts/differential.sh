#!/usr/bin/env bash
# Differential testing: random deltanet configurations (shapes, element types,
# strategies, block sizes, precisions, chunk sizes, pipelines) compiled with
# deltanet-opt, run with mlir-runner and compared with float64 references
# (test/lib/differential.py). Seeded and reproducible: every line prints its
# seed and the command that reruns it.
#
# Usage: scripts/differential.sh [--configs N] [--seed S] [--jobs J] [--only I,...] [--show I] [--verbose]
#   (default: 500 configurations, seed 1, 1 job). Builds first (build/, or
#   DELTANET_BUILD_DIR) unless DELTANET_NO_BUILD=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_BUILD_DIR:-$root/build}"
if [ "${DELTANET_NO_BUILD:-0}" != 1 ]; then
  "$root/scripts/build.sh" >/dev/null
fi
exec /usr/bin/python3 "$root/test/lib/differential.py" --build "$build" "$@"
