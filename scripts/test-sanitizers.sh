#!/usr/bin/env bash
# The whole test suite (every lit test through ctest, plus a 60 s fuzz run)
# on a build of deltanet's code with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, scripts/build-sanitizers.sh). Any sanitizer report fails the
# test that triggered it. libMLIR.so / libLLVM.so are not instrumented.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_ASAN_BUILD_DIR:-$root/build-asan}"

"$root/scripts/build-sanitizers.sh"
# detect_leaks=1: deltanet-opt and the JIT benchmarks exit cleanly, so a leak
# report (exit code 23) fails the test.
# allow_user_poisoning=0: LLVM's header-only BumpPtrAllocator poisons slab
# memory when compiled with ASan (our code) but not when compiled without it
# (libMLIR.so). A storage uniquer slab started by an inlined, instrumented
# allocation (e.g. an attribute storage's copyInto in deltanet's code) is then
# filled by libMLIR.so without unpoisoning: a false use-after-poison. Heap,
# stack and global checks are unaffected.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allow_user_poisoning=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build"
# Python tests load deltanet's instrumented libraries into an uninstrumented
# interpreter, which ASan refuses (its runtime must come first): skipped here.
ctest -j2 --output-on-failure -E '(^|/)(python|pytest)' "$@"
