//===- Passes.h - Target-neutral deltanet rewrites --------------*- C++ -*-===//
//
// Declares the deltanet-to-deltanet rewrites (decomposition, batch tiling)
// and their passes.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_H
#define DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
class RewriterBase;
namespace deltanet {

#define GEN_PASS_DECL
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"

/// Adds the pattern decomposing deltanet.chunk_gated_delta_rule into the
/// stage ops and deltanet.tri_inv.
void populateDecomposeChunkGatedDeltaRulePatterns(RewritePatternSet &patterns);

/// Adds the patterns rewriting chunk/recurrent gated delta rules with
/// cu_seqlens into the same ops on a zero-padded batch of sequences.
void populateUnpackVarlenGatedDeltaRulePatterns(RewritePatternSet &patterns);

/// Replaces `op` by the `deltanet.chunk_gated_delta_rule` whose final state
/// on the augmented state `[I | 0]` with values `[0 | v]` is `[M | U]`, and
/// returns that op (its output is unused; decompose it and drop dead code).
FailureOr<ChunkGatedDeltaRuleOp>
rewriteSummaryAsAugmentedChunkOp(RewriterBase &rewriter,
                                 GatedDeltaRuleSummaryOp op);

/// Tiles the batch of `op` into an `scf.for` over tiles of `tileSize`
/// matrices (upstream `scf::tileUsingSCF` through the op's TilingInterface),
/// collapsing several batch dims into one first, and replaces `op`. Each
/// tile is a `deltanet.tri_inv` of a `tileSize x C x C` slice; a static
/// batch is tiled by its largest divisor <= `tileSize`, so that every tile is
/// static (with a dynamic batch the last tile may be smaller). Fails,
/// changing nothing, when there is nothing to tile:
/// no batch dim, `tileSize` <= 0, or a static batch of at most `tileSize`.
LogicalResult tileTriInvBatch(RewriterBase &rewriter, TriInvOp op,
                              int64_t tileSize);

/// The tile size for a static batch of `batch` matrices: the largest divisor
/// of `batch` that is at most `tileSize` (>= 1), so that every tile is static.
int64_t staticBatchTile(int64_t batch, int64_t tileSize);

#define GEN_PASS_REGISTRATION
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_H
