#!/usr/bin/env bash
# The whole test suite (every lit test through ctest, plus a 60 s fuzz run)
# on a build of deltanet's code with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, scripts/build-sanitizers.sh). Any sanitizer report fails the
# test that triggered it. libMLIR.so / libLLVM.so are not instrumented.
# Arguments go to ctest: `-LE long` (what .ci/run passes) leaves out the
# numeric sweeps labelled `long` (a third of the tests' time, two thirds
# under the sanitizers); `-R NAME` picks tests by name.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_ASAN_BUILD_DIR:-$root/build-asan}"

"$root/scripts/build-sanitizers.sh"
# Sanitizer runtime options (leaks on, no false use-after-poison).
source "$root/scripts/sanitizer-env.sh"
cd "$build"
# Python tests load deltanet's instrumented libraries into an uninstrumented
# interpreter, which ASan refuses (its runtime must come first): skipped here.
ctest -j2 --output-on-failure -E '(^|/)(python|pytest)' "$@"
