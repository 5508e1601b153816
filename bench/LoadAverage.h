//===- LoadAverage.h - The machine's load printed around a benchmark run --===//
//
// Issue 13's honest conditions: every bench report prints the load average
// before and after its runs and warns when the machine was not idle, since
// other work distorts wall-clock ratios several-fold on a 2-core machine.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_BENCH_LOADAVERAGE_H
#define DELTANET_BENCH_LOADAVERAGE_H

#include <cstdio>
#include <cstdlib>

namespace mlir::deltanet::bench {

/// Load above the bench's own threads at which a run is reported as not
/// idle.
inline constexpr double kIdleLoadAverage = 0.5;

/// Prints "load average WHEN: 1m 5m 15m" and, when the 1-minute figure is above `ownThreads` (the bench's own busy
/// threads, which count in the load while it runs) + kIdleLoadAverage, a
/// warning, to stderr (stdout may be a --benchmark_format=json report).
inline void reportLoadAverage(const char *when, int ownThreads = 0) {
  double load[3];
  if (getloadavg(load, 3) != 3) {
    std::fprintf(stderr, "load average %s: unavailable\n", when);
    return;
  }
  std::fprintf(stderr, "load average %s: %.2f %.2f %.2f\n", when, load[0],
               load[1], load[2]);
  double limit = ownThreads + kIdleLoadAverage;
  if (load[0] > limit)
    std::fprintf(stderr,
                 "warning: load average %s is %.2f, above %.1f (%d for this "
                 "bench's own threads + %.1f): the machine is not idle; "
                 "wall-clock times and ratios are distorted\n",
                 when, load[0], limit, ownThreads, kIdleLoadAverage);
}

} // namespace mlir::deltanet::bench

#endif // DELTANET_BENCH_LOADAVERAGE_H
