//===- LowerVectors.cpp - Vector ops of kernels to 1-D loads and FMAs -----===//
//
// Progressive upstream vector lowerings for the per-thread vector code that
// deltanet-gpu-map-to-threads produces: contractions to outer products and
// FMAs, transfers to (1-D) vector loads and stores.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPULOWERVECTORS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// `vector.extract %c[i] : vector<1xT> from vector<Nx1xT>` of
/// `%c = vector.shape_cast %v : vector<NxT> to vector<Nx1xT>` ->
/// `vector.from_elements (vector.extract %v[i])`: element i of `%v` as a
/// one-element vector, without the column vector. The canonicalizer folds
/// the insert chains that upstream's shape_cast lowering makes of such a
/// column back into the n-D shape_cast (the transposed i8 operands of an
/// INT8 tri_inv's i8 x i8 -> i32 products), which the LLVM conversion
/// cannot lower; once its rows are read this way it is dead.
struct ExtractRowOfColumnShapeCast
    : public OpRewritePattern<vector::ExtractOp> {
  ExtractRowOfColumnShapeCast(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(vector::ExtractOp op,
                                PatternRewriter &rewriter) const override {
    auto cast = op.getSource().getDefiningOp<vector::ShapeCastOp>();
    if (!cast)
      return rewriter.notifyMatchFailure(op, "not an extract of a shape_cast");
    VectorType from = cast.getSourceVectorType();
    VectorType to = cast.getResultVectorType();
    auto result = dyn_cast<VectorType>(op.getType());
    if (from.getRank() != 1 || to.getRank() != 2 || to.getDimSize(1) != 1 ||
        to.isScalable() || !result || result.getNumElements() != 1 ||
        op.hasDynamicPosition())
      return rewriter.notifyMatchFailure(
          op, "not a row of a vector<N> reshaped to vector<Nx1>");
    Value element =
        vector::ExtractOp::create(rewriter, op.getLoc(), cast.getSource(),
                                  ArrayRef<int64_t>{op.getStaticPosition()[0]});
    rewriter.replaceOpWithNewOp<vector::FromElementsOp>(op, result,
                                                        ValueRange{element});
    return success();
  }
};

struct DeltaNetGpuLowerVectorsPass
    : public deltanet::impl::DeltaNetGpuLowerVectorsBase<
          DeltaNetGpuLowerVectorsPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<ExtractRowOfColumnShapeCast>(ctx);
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::EltWise);
    vector::populateVectorStepLoweringPatterns(patterns);
    vector::populateVectorMaskOpLoweringPatterns(patterns);
    vector::populateVectorTransferLoweringPatterns(patterns,
                                                   /*maxTransferRank=*/1);
    vector::populateVectorInsertExtractStridedSliceTransforms(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorToElementsUnrollPatterns(patterns);
    vector::populateVectorFromElementsUnrollPatterns(patterns);
    vector::populateVectorToVectorCanonicalizationPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
