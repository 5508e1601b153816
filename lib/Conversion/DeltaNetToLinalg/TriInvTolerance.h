//===- TriInvTolerance.h - Order and residual steps from a tolerance -----===//
//
// Chooses the Neumann order and residual steps of a tri_inv lowering from
// the calibrated rule table (scripts/calibrate-tri-inv-tolerance.py).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_LIB_CONVERSION_DELTANETTOLINALG_TRIINVTOLERANCE_H
#define DELTANET_LIB_CONVERSION_DELTANETTOLINALG_TRIINVTOLERANCE_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"

#include <optional>
#include <string>

namespace mlir {
namespace deltanet {

/// One row of the rule table that meets a tolerance.
struct ToleranceChoice {
  /// Neumann product factors (-1 for forward substitution, where it does
  /// not apply).
  int64_t order;
  int64_t residualSteps;
  /// The row's error bound (twice the worst calibrated error).
  double bound;
};

/// The cheapest configuration (fewest multiply-adds) of `strategy` for
/// `c` x `c` matrices (rounded up to a tabulated size) at `precision`
/// whose bound is <= `tolerance`. Blocked rows are calibrated with the
/// precision's default block size only. On failure returns nullopt and
/// sets `why`.
std::optional<ToleranceChoice> chooseForTolerance(TriInvStrategy strategy,
                                                  int64_t c, int64_t blockSize,
                                                  TriInvPrecision precision,
                                                  double tolerance,
                                                  std::string &why);

/// The diagonal block size the blocked rows of the table were calibrated
/// with (scripts/calibrate-tri-inv-tolerance.py): 16, or 4 for INT8.
int64_t getCalibratedTriInvBlockSize(TriInvPrecision precision);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_LIB_CONVERSION_DELTANETTOLINALG_TRIINVTOLERANCE_H
