#!/usr/bin/env bash
# Configures (once) and builds deltanet-mlir with deltanet's code under
# AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer coverage
# (build-asan/, or DELTANET_ASAN_BUILD_DIR), with clang-22. libMLIR.so and
# libLLVM.so stay uninstrumented. Arguments: ninja targets (default: all).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_ASAN_BUILD_DIR:-$root/build-asan}"

"$root/scripts/install-deps.sh"
# The sanitizer and libFuzzer runtimes of clang-22.
if ! dpkg-query -W -f='${Status}' libclang-rt-22-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends libclang-rt-22-dev
fi
if [ ! -f "$build/build.ninja" ]; then
  DELTANET_BUILD_DIR="$build" "$root/scripts/build.sh" \
    -DDELTANET_SANITIZERS="address;undefined" -DDELTANET_ENABLE_FUZZER=ON
fi
ninja -C "$build" -j2 "$@"
