//===- DecomposeGatedDeltaRuleSummary.cpp - Summary as an augmented scan --===//
//
// Rewrites deltanet.gated_delta_rule_summary into the chunk-wise
// decomposition of deltanet.chunk_gated_delta_rule on an augmented state.
//
// The chunk recurrence acts on every column of the state independently:
// column j of the final state is M h0[:, j] plus the contribution of the
// values' column j. Running it on the state [I | 0] (K x (K + V)) with the
// values [0 | v] therefore leaves [M I + 0 | M 0 + U] = [M | U]. Reusing the
// chunk op (rather than new stage ops) keeps one decomposition, one tri_inv
// lowering with the pipeline's tri-inv-* options, and every target that
// lowers the chunk op. The chunk op's output is not needed: its stages are
// removed as dead code here, and chunk_state_scan's lowering then carries
// the state only.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETDECOMPOSEGATEDDELTARULESUMMARY
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

/// `[I | 0]`: `[B, HV, K, K + V]` f32 with ones where the column equals the
/// row, the entry state of the augmented scan.
static Value augmentedIdentity(StructuredBuilder &sb, OpFoldResult batch,
                               int64_t valueHeads, int64_t keyDim,
                               int64_t width) {
  OpBuilder &b = sb.builder();
  return sb.map(
      ValueRange{},
      {},
      {batch, b.getIndexAttr(valueHeads), b.getIndexAttr(keyDim),
       b.getIndexAttr(width)},
      sb.f32(), [](OpBuilder &nb, Location loc, ValueRange) -> Value {
        Value row = linalg::IndexOp::create(nb, loc, 2);
        Value col = linalg::IndexOp::create(nb, loc, 3);
        Value diagonal =
            arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::eq, row, col);
        return arith::SelectOp::create(
            nb, loc, diagonal, StructuredBuilder::f32Constant(nb, loc, 1.0f),
            StructuredBuilder::f32Constant(nb, loc, 0.0f));
      });
}

FailureOr<ChunkGatedDeltaRuleOp>
mlir::deltanet::rewriteSummaryAsAugmentedChunkOp(RewriterBase &rewriter,
                                                 GatedDeltaRuleSummaryOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  StructuredBuilder sb(rewriter, loc);
  RankedTensorType kType = op.getK().getType(), vType = op.getV().getType();
  int64_t valueHeads = vType.getDimSize(2);
  int64_t keyDim = kType.getDimSize(3), valueDim = vType.getDimSize(3);
  int64_t width = keyDim + valueDim;
  OpFoldResult batch = sb.dim(op.getK(), 0);

  // Values [0 | v]: K zero columns in front (a tensor.pad of the last dim).
  SmallVector<OpFoldResult> low(4, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> high(4, rewriter.getIndexAttr(0));
  low[3] = rewriter.getIndexAttr(keyDim);
  SmallVector<int64_t> augShape(vType.getShape());
  augShape[3] = width;
  auto augType = RankedTensorType::get(augShape, vType.getElementType());
  Value zero = arith::ConstantOp::create(
      rewriter, loc, rewriter.getZeroAttr(vType.getElementType()));
  Value vAug = tensor::PadOp::create(rewriter, loc, augType, op.getV(), low,
                                     high, zero);
  Value h0 = augmentedIdentity(sb, batch, valueHeads, keyDim, width);

  // q is required by the chunk op but only feeds its output, which is dead:
  // k stands in for it. (The generic builder: the op's optional operands,
  // absent here, do not change the call.)
  SmallVector<NamedAttribute> attrs = {
      rewriter.getNamedAttr("chunk_size", op.getChunkSizeAttr())};
  if (op.getUseQkL2norm())
    attrs.push_back(
        rewriter.getNamedAttr("use_qk_l2norm", rewriter.getUnitAttr()));
  auto chunkOp = ChunkGatedDeltaRuleOp::create(
      rewriter, loc, TypeRange{augType, h0.getType()},
      ValueRange{op.getK(), op.getK(), vAug, op.getG(), op.getBeta(), h0},
      attrs);

  // [M | U] -> M, U.
  Value state = chunkOp.getFinalState();
  auto columns = [&](int64_t offset, int64_t size) -> Value {
    SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0));
    offsets[3] = rewriter.getIndexAttr(offset);
    SmallVector<OpFoldResult> sizes = sb.dims(state);
    sizes[3] = rewriter.getIndexAttr(size);
    SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(rewriter, loc, state, offsets, sizes,
                                          strides);
  };
  SmallVector<Value> results = {columns(0, keyDim),
                                columns(keyDim, valueDim)};
  for (auto [value, result] : llvm::zip_equal(results, op.getResults()))
    if (value.getType() != result.getType())
      value = tensor::CastOp::create(rewriter, loc, result.getType(), value);
  rewriter.replaceOp(op, results);
  return chunkOp;
}

namespace {

struct DeltaNetDecomposeGatedDeltaRuleSummaryPass
    : public deltanet::impl::DeltaNetDecomposeGatedDeltaRuleSummaryBase<
          DeltaNetDecomposeGatedDeltaRuleSummaryPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<GatedDeltaRuleSummaryOp> summaries;
    getOperation()->walk(
        [&](GatedDeltaRuleSummaryOp op) { summaries.push_back(op); });
    if (summaries.empty())
      return;
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> chunkOps;
    for (GatedDeltaRuleSummaryOp op : summaries) {
      FailureOr<ChunkGatedDeltaRuleOp> chunkOp =
          rewriteSummaryAsAugmentedChunkOp(rewriter, op);
      if (failed(chunkOp))
        return signalPassFailure();
      chunkOps.push_back(*chunkOp);
    }
    // Decompose those chunk ops only; the greedy driver erases the stages
    // that only fed their (unused) output as it goes.
    RewritePatternSet patterns(&getContext());
    populateDecomposeChunkGatedDeltaRulePatterns(patterns);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    config.enableFolding(false);
    if (failed(applyOpPatternsGreedily(chunkOps, std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
