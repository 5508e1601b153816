//===- GatedDeltaRuleUtils.h - Shared gated delta rule pieces ---*- C++ -*-===//
//
// IR building blocks shared by the chunk and recurrent lowerings.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_UTILS_GATEDDELTARULEUTILS_H
#define DELTANET_DIALECT_DELTANET_UTILS_GATEDDELTARULEUTILS_H

#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {

/// The epsilon of `use_qk_l2norm`: x / sqrt(sum(x^2) + eps).
constexpr float kL2NormEpsilon = 1e-6f;

/// Replaces a gated delta rule `op` by the f32 results `o` and
/// `finalState`, converted to the op's element types and result types.
void replaceGatedDeltaRuleOp(RewriterBase &rewriter, StructuredBuilder &sb,
                             Operation *op, Value o, Value finalState);

/// `x / sqrt(sum(x^2) + eps)` along the last dim of `x` (any float element
/// type), as f32.
Value l2NormalizeLastDim(StructuredBuilder &sb, Value x);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_DIALECT_DELTANET_UTILS_GATEDDELTARULEUTILS_H
