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
  /// Diagonal block size of the blocked strategy; 0 = the precision's
  /// default (`defaultBlockSize`).
  int64_t blockSize = 0;
  /// Number of Neumann product factors; -1 = exact.
  int64_t order = -1;
  int64_t residualSteps = 0;
  /// Matrices per tile of the batch loop; 0 = no tiling.
  int64_t batchTile = 16;
  TriInvPrecision precision = TriInvPrecision::F32;
  /// Which elements of an INT8 matmul operand share one scale.
  QuantGranularity quantGranularity = QuantGranularity::Row;
  /// Relative error the lowering may spend choosing order and residual
  /// steps from the rule table; 0 = use `order` and `residualSteps`.
  double tolerance = 0.0;
};

/// The diagonal block size of the blocked strategy when none is given: 16,
/// or 4 for INT8, whose Neumann sums inside larger blocks lose the
/// cancellation of the powers.
int64_t defaultBlockSize(TriInvPrecision precision);

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

/// Adds the patterns lowering deltanet.quantize and deltanet.dequantize.
void populateLowerQuantizationPatterns(RewritePatternSet &patterns);

/// Adds the pattern lowering INT8 batch matmuls to pairwise multiply-add
/// vector code (vpdpwssd with VNNI, vpmaddwd on AVX2).
void populateVectorizeIntegerMatmulsPatterns(RewritePatternSet &patterns);

/// Adds the pattern rewriting strided memref.copy into linalg.copy.
void populateCopiesToLinalgPatterns(RewritePatternSet &patterns);

/// Adds the pattern moving reduction loops of linalg.generic ops outward.
void populateInterchangeReductionsPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_H
