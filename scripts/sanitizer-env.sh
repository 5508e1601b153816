# Sourced by scripts/test-sanitizers.sh and scripts/fuzz.sh: the sanitizer
# runtime options of every robustness run, kept in one place. A caller's own
# ASAN_OPTIONS / UBSAN_OPTIONS win.
#
# detect_leaks=1: deltanet-opt, the JIT benchmarks and the fuzz target exit
# cleanly (every fuzz input gets its own MLIRContext), so a leak report fails.
# allow_user_poisoning=0: LLVM's header-only BumpPtrAllocator poisons slab
# memory when compiled with ASan (our code) but not when compiled without it
# (libMLIR.so). A storage uniquer slab started by an inlined, instrumented
# allocation (e.g. an attribute storage's copyInto in deltanet's code) is then
# filled by libMLIR.so without unpoisoning: a false use-after-poison. Heap,
# stack and global checks are unaffected.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allow_user_poisoning=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
