#!/usr/bin/env bash
# Installs the Debian packages deltanet-mlir needs, if any is missing.
# Usage: install-deps.sh [--reports]   (--reports: also the benchmark peers)
set -euo pipefail

PACKAGES=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  cmake ninja-build ccache
  python3 python3-dev python3-numpy python3-scipy python3-pytest python3-pybind11 pybind11-dev
  libbenchmark-dev
  libomp-22-dev
)
if [ "${1:-}" = "--reports" ]; then
  # Benchmark peers: PyTorch, LAPACK strtri / sgemm through OpenBLAS; plots.
  PACKAGES+=(python3-torch libopenblas-dev liblapacke-dev python3-matplotlib)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
