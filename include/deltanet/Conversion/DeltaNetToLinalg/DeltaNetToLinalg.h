//===- DeltaNetToLinalg.h - deltanet ops to linalg --------------*- C++ -*-===//
//
// Declares the patterns that lower deltanet ops to linalg, tensor and scf
// on tensors: tri_inv strategies, chunk stages, the recurrence and the
// quantization ops.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CONVERSION_DELTANETTOLINALG_DELTANETTOLINALG_H
#define DELTANET_CONVERSION_DELTANETTOLINALG_DELTANETTOLINALG_H

#include "deltanet/Conversion/DeltaNetToLinalg/TriInvOptionValues.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace mlir {
class RewritePatternSet;
namespace deltanet {
class TargetInfo;

// The passes of this conversion; the options of --deltanet-lower-tri-inv
// as a struct (`DeltaNetLowerTriInvOptions`), generated from their one
// declaration in deltanet/Conversion/Passes.td.
#define GEN_PASS_DECL_DELTANETLOWERTRIINV
#define GEN_PASS_DECL_DELTANETLOWERCHUNKSTAGES
#define GEN_PASS_DECL_DELTANETLOWERCOMPOSESUMMARIES
#define GEN_PASS_DECL_DELTANETLOWERRECURRENTGATEDDELTARULE
#define GEN_PASS_DECL_DELTANETLOWERQUANTIZATION
#define GEN_PASS_DECL_DELTANETNARROWSTAGEINTERMEDIATES
#include "deltanet/Conversion/Passes.h.inc"

/// Adds the patterns lowering deltanet.tri_inv to linalg/tensor with the
/// given default options (per-op attributes take precedence; `target`
/// supplies the block size when neither gives one). The batch is expected
/// to be tiled already (tileTriInvBatch); `options.batchTile` is not used.
void populateLowerTriInvPatterns(RewritePatternSet &patterns,
                                 const DeltaNetLowerTriInvOptions &options,
                                 const TargetInfo &target);

/// The operand precision of each chunk stage's products
/// (--deltanet-lower-chunk-stages `precision` and `stage-precision`).
struct ChunkStagePrecisions {
  TriInvPrecision gatedKKT = TriInvPrecision::F32;
  TriInvPrecision wyRepr = TriInvPrecision::F32;
  TriInvPrecision chunkStateScan = TriInvPrecision::F32;
  TriInvPrecision chunkOutput = TriInvPrecision::F32;

  ChunkStagePrecisions() = default;
  /// Every stage in `precision`.
  explicit ChunkStagePrecisions(TriInvPrecision precision)
      : gatedKKT(precision), wyRepr(precision), chunkStateScan(precision),
        chunkOutput(precision) {}

  /// Whether some stage's products are in `precision`.
  bool uses(TriInvPrecision precision) const {
    return gatedKKT == precision || wyRepr == precision ||
           chunkStateScan == precision || chunkOutput == precision;
  }
};

/// `precision` for every stage, overridden by `entries` of the form
/// `STAGE=PREC` (STAGE: gated_kkt, wy_repr, chunk_state_scan, chunk_output;
/// PREC as TriInvPrecision spells it). An unknown stage or precision, or a
/// stage given twice, is an error naming the entry.
llvm::Expected<ChunkStagePrecisions>
parseChunkStagePrecisions(TriInvPrecision precision,
                          llvm::ArrayRef<std::string> entries);

/// parseChunkStagePrecisions for a pass's `precision` / `stage-precision`
/// options: a malformed entry is an error at `op`'s location prefixed with
/// `passName`, and failure.
FailureOr<ChunkStagePrecisions>
parseChunkStagePrecisionsOption(Operation *op, llvm::StringRef passName,
                                TriInvPrecision precision,
                                llvm::ArrayRef<std::string> entries);

/// Adds the patterns lowering the chunk stage ops to linalg/scf. With
/// `foldScanDecayIntoValues` the state scan decays v_new's rows instead of
/// k's (TargetInfo::foldsScanDecayIntoValues). Each stage's products'
/// operands are represented in its entry of `precisions` (f32 sums). `triangularRowTile` > 0: the
/// products with a lower-triangular left operand in row tiles with their
/// own K ranges (TargetInfo::getChunkTriangularRowTile; f32 only);
/// `triangularResultBlock` > 0: the products of which only the lower
/// triangle is used in row blocks that skip the columns right of their
/// diagonal block (TargetInfo::getChunkTriangularResultBlock; f32 only).
/// `decayFactorsOnce`: decay factors that depend on one row index computed
/// once per row and broadcast, the scan's decayed k^T from k^T
/// (TargetInfo::computesChunkDecayFactorsOnce; the same values).
/// `stateDecayOutOfPlace`: the scan's `exp(g_last) S` into a new tensor
/// (TargetInfo::decaysChunkStateOutOfPlace).
void populateLowerChunkStagesPatterns(
    RewritePatternSet &patterns, bool foldScanDecayIntoValues = false,
    const ChunkStagePrecisions &precisions = ChunkStagePrecisions(),
    int64_t triangularRowTile = 0, int64_t triangularResultBlock = 0,
    bool decayFactorsOnce = false, bool stateDecayOutOfPlace = false);

/// Adds the pattern lowering deltanet.compose_summaries to batched matmuls.
void populateLowerComposeSummariesPatterns(RewritePatternSet &patterns);

/// Adds the pattern lowering deltanet.recurrent_gated_delta_rule. With
/// `fuseReadouts` each token reads the state once (both readouts as one
/// batched matmul) and updates it once, in place
/// (TargetInfo::fusesRecurrentReadouts); otherwise four passes per token.
void populateLowerRecurrentGatedDeltaRulePatterns(RewritePatternSet &patterns,
                                                  bool fuseReadouts = false);

/// Adds the patterns lowering deltanet.quantize and deltanet.dequantize.
void populateLowerQuantizationPatterns(RewritePatternSet &patterns);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CONVERSION_DELTANETTOLINALG_DELTANETTOLINALG_H
