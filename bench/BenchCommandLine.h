//===- BenchCommandLine.h - Flags and heap mode shared by the benches -----===//
//
// The benchmarks' own flags are taken out of argv before Google Benchmark
// parses the rest; `--keep-heap` is the same in every bench.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_BENCH_BENCHCOMMANDLINE_H
#define DELTANET_BENCH_BENCHCOMMANDLINE_H

#include "llvm/ADT/StringRef.h"

#include <malloc.h>
#include <string>

namespace mlir::deltanet::bench {

/// Removes `--NAME` (a boolean flag) from the command line; returns whether
/// it was there.
inline bool takeBoolFlag(int &argc, char **argv, llvm::StringRef name) {
  bool found = false;
  std::string flag = "--" + name.str();
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (flag == argv[i])
      found = true;
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  argv[argc] = nullptr;
  return found;
}

/// `--keep-heap`: freed blocks stay in glibc's heap (no mmap of large blocks,
/// no trimming), so a fresh result per call stops page-faulting and a large
/// batch measures memory bandwidth instead of the kernel zeroing pages (as
/// bench/aot's drivers do). Returns whether the flag was given.
inline bool takeKeepHeapFlag(int &argc, char **argv) {
  if (!takeBoolFlag(argc, argv, "keep-heap"))
    return false;
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}

} // namespace mlir::deltanet::bench

#endif // DELTANET_BENCH_BENCHCOMMANDLINE_H
