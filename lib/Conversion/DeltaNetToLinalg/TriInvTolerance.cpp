//===- TriInvTolerance.cpp - Order and residual steps from a tolerance ---===//
//
// Looks up the calibrated rule table and costs its rows in multiply-adds.
//
//===----------------------------------------------------------------------===//

#include "TriInvTolerance.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct Row {
  TriInvStrategy strategy;
  int64_t c;
  TriInvPrecision precision;
  int64_t order;
  int64_t residualSteps;
  double bound;
};

constexpr Row kTable[] = {
#include "TriInvToleranceTable.inc"
};

/// Multiply-adds of the band-trimmed Neumann product with `factors` factors
/// on `n` x `n` matrices: two `m^3` products per factor, `m = n - 2k`.
double neumannCost(int64_t n, int64_t factors) {
  double cost = 0;
  for (int64_t f = 1, k = 1; f < factors && 2 * k < n; ++f, k *= 2)
    cost += 2.0 * std::pow(double(n - 2 * k), 3);
  return cost;
}

/// Multiply-adds of one tri_inv lowering per matrix.
double cost(TriInvStrategy strategy, int64_t n, int64_t blockSize,
            int64_t order, int64_t residualSteps) {
  double total = 2.0 * residualSteps * std::pow(double(n), 3);
  switch (strategy) {
  case TriInvStrategy::ForwardSubstitution:
    return total + std::pow(double(n), 3) / 3;
  case TriInvStrategy::Neumann:
    return total + neumannCost(n, order);
  case TriInvStrategy::Blocked:
    total += double(n / blockSize) * neumannCost(blockSize, order);
    for (int64_t s = blockSize; s < n; s *= 2)
      total += double(n) * s * s;
    return total;
  }
  return total;
}

} // namespace

int64_t mlir::deltanet::getCalibratedTriInvBlockSize(TriInvPrecision precision) {
  return precision == TriInvPrecision::I8 ? 4 : 16;
}

std::optional<ToleranceChoice>
mlir::deltanet::chooseForTolerance(TriInvStrategy strategy, int64_t c,
                                   int64_t blockSize, TriInvPrecision precision,
                                   double tolerance, std::string &why) {
  auto sizes = llvm::map_range(kTable, [](const Row &row) { return row.c; });
  int64_t largest = *llvm::max_element(sizes);
  if (c > largest) {
    why = (llvm::Twine("the tolerance rule table covers C <= ") +
           llvm::Twine(largest) + ", not " + llvm::Twine(c))
              .str();
    return std::nullopt;
  }
  int64_t tabulated = std::max<int64_t>(llvm::PowerOf2Ceil(c), 16);
  if (strategy == TriInvStrategy::Blocked &&
      blockSize != std::min(getCalibratedTriInvBlockSize(precision), c)) {
    why = (llvm::Twine("the tolerance rule table covers the blocked "
                       "strategy with its default block size ") +
           llvm::Twine(getCalibratedTriInvBlockSize(precision)) + ", not " +
           llvm::Twine(blockSize))
              .str();
    return std::nullopt;
  }

  std::optional<ToleranceChoice> best;
  double bestCost = std::numeric_limits<double>::infinity();
  double smallestBound = std::numeric_limits<double>::infinity();
  for (const Row &row : kTable) {
    if (row.strategy != strategy || row.c != tabulated ||
        row.precision != precision)
      continue;
    smallestBound = std::min(smallestBound, row.bound);
    if (!(row.bound <= tolerance))
      continue;
    double rowCost =
        cost(strategy, c, std::min(blockSize, c), row.order, row.residualSteps);
    if (rowCost < bestCost) {
      bestCost = rowCost;
      best = ToleranceChoice{row.order, row.residualSteps, row.bound};
    }
  }
  if (!best) {
    llvm::raw_string_ostream os(why);
    os << "tolerance " << llvm::format("%g", tolerance)
       << " cannot be met by the " << stringifyTriInvStrategy(strategy)
       << " strategy in " << stringifyTriInvPrecision(precision)
       << " at C = " << c << ": the smallest bound of the rule table is "
       << llvm::format("%.1e", smallestBound);
  }
  return best;
}
