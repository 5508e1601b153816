//===- Passes.h - DeltaNet transformation passes ----------------*- C++ -*-===//
//
// Declares the passes of the deltanet dialect and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_H
#define DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace deltanet {

#define GEN_PASS_DECL
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"

/// Lowering options of one deltanet.tri_inv, after per-op attributes have
/// been merged into the pass options.
struct TriInvLoweringOptions {
  TriInvStrategy strategy = TriInvStrategy::Blocked;
  int64_t blockSize = 16;
  /// Number of Neumann product factors; -1 = exact.
  int64_t order = -1;
  int64_t residualSteps = 0;
  /// Matrices per tile of the batch loop; 0 = no tiling.
  int64_t batchTile = 16;
  TriInvPrecision precision = TriInvPrecision::F32;
};

/// Adds the patterns lowering deltanet.tri_inv to linalg/tensor with the
/// given default options (per-op attributes take precedence).
void populateLowerTriInvPatterns(RewritePatternSet &patterns,
                                 const TriInvLoweringOptions &defaults);

/// Adds the pattern decomposing deltanet.chunk_gated_delta_rule into the
/// stage ops and deltanet.tri_inv.
void populateDecomposeChunkGatedDeltaRulePatterns(RewritePatternSet &patterns);

/// Adds the patterns lowering the chunk stage ops to linalg/scf.
void populateLowerChunkStagesPatterns(RewritePatternSet &patterns);

/// Adds the pattern lowering deltanet.recurrent_gated_delta_rule.
void populateLowerRecurrentGatedDeltaRulePatterns(RewritePatternSet &patterns);

/// Adds the pattern rewriting strided memref.copy into linalg.copy.
void populateCopiesToLinalgPatterns(RewritePatternSet &patterns);

/// Adds the pattern moving reduction loops of linalg.generic ops outward.
void populateInterchangeReductionsPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_H
