//===- LowerComposeSummaries.cpp - compose_summaries as batched matmuls ---===//
//
// Lowers deltanet.compose_summaries to two linalg.batch_matmul ops:
// m = m2 m1 and u = u2 + m2 u1, over the collapsed batch dims.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETLOWERCOMPOSESUMMARIES
#include "deltanet/Conversion/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// `[..., X, Y]` as `[N, X, Y]`: the batch dims collapsed into one (a unit
/// dim added when there is none).
Value toBatched(StructuredBuilder &sb, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  if (rank == 3)
    return x;
  if (rank > 3)
    return sb.collapseLeading(x, rank - 2);
  auto resultType = RankedTensorType::get(
      {1, type.getDimSize(0), type.getDimSize(1)}, type.getElementType());
  return tensor::ExpandShapeOp::create(sb.builder(), sb.getLoc(), resultType, x,
                                       ArrayRef<ReassociationIndices>{{0, 1}, {2}});
}

/// The inverse of `toBatched` for a result shaped like `like`.
Value fromBatched(StructuredBuilder &sb, Value x, Value like) {
  auto likeType = cast<RankedTensorType>(like.getType());
  int64_t rank = likeType.getRank();
  if (rank == 3)
    return x;
  if (rank > 3) {
    SmallVector<OpFoldResult> leading = sb.dims(like);
    leading.resize(rank - 2);
    return sb.expandLeading(x, leading);
  }
  return tensor::CollapseShapeOp::create(
      sb.builder(), sb.getLoc(), x, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
}

/// (m1, u1) then (m2, u2): m = m2 m1, u = u2 + m2 u1.
struct LowerComposeSummaries : public OpRewritePattern<ComposeSummariesOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ComposeSummariesOp op,
                                PatternRewriter &rewriter) const override {
    StructuredBuilder sb(rewriter, op.getLoc());
    Value m1 = toBatched(sb, op.getM1()), u1 = toBatched(sb, op.getU1());
    Value m2 = toBatched(sb, op.getM2()), u2 = toBatched(sb, op.getU2());
    Value m = sb.batchMatmul(m2, m1);
    Value u = sb.batchMatmul(m2, u1, u2);
    SmallVector<Value> results = {fromBatched(sb, m, op.getM1()),
                                  fromBatched(sb, u, op.getU1())};
    for (auto [value, result] : llvm::zip_equal(results, op.getResults()))
      if (value.getType() != result.getType())
        value = tensor::CastOp::create(rewriter, op.getLoc(), result.getType(),
                                       value);
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct DeltaNetLowerComposeSummariesPass
    : public deltanet::impl::DeltaNetLowerComposeSummariesBase<
          DeltaNetLowerComposeSummariesPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateLowerComposeSummariesPatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateLowerComposeSummariesPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowerComposeSummaries>(patterns.getContext());
}
