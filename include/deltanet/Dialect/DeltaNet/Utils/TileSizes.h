//===- TileSizes.h - Static tile sizes that divide a dimension ------------===//
//
// Register tiles and column blocks of static sizes that divide their
// dimension, so every tile has the same shape and needs no mask.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_UTILS_TILESIZES_H
#define DELTANET_DIALECT_DELTANET_UTILS_TILESIZES_H

#include <algorithm>
#include <cstdint>

namespace mlir::deltanet {

/// The largest divisor of `n` not above `bound` (at least 1).
inline int64_t largestDivisor(int64_t n, int64_t bound) {
  int64_t d = std::max<int64_t>(1, std::min(bound, n));
  while (n % d)
    --d;
  return d;
}

} // namespace mlir::deltanet

#endif // DELTANET_DIALECT_DELTANET_UTILS_TILESIZES_H
