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
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

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

/// A contraction of bf16 / f16 operands into a wider float accumulator (the
/// vectorised SIMT form of a 16-bit product) -> the operands extended
/// first, an accumulator-typed contraction. Upstream's outer-product
/// lowering transposes the left operand; with the extension inside the
/// contraction the transpose stayed on the 16-bit load instead of folding
/// into it, and the canonicalizer turned its element-wise lowering into an
/// n-D vector.shape_cast that the NVVM lowering cannot convert.
struct ExtendContractionOperands
    : public OpRewritePattern<vector::ContractionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::ContractionOp op,
                                PatternRewriter &rewriter) const override {
    auto accType = dyn_cast<FloatType>(getElementTypeOrSelf(op.getAccType()));
    if (!accType)
      return rewriter.notifyMatchFailure(op, "not a float accumulator");
    auto extend = [&](Value operand) -> Value {
      auto type = cast<VectorType>(operand.getType());
      auto element = dyn_cast<FloatType>(type.getElementType());
      if (!element || element.getWidth() >= accType.getWidth())
        return operand;
      return arith::ExtFOp::create(rewriter, op.getLoc(),
                                   type.clone(accType), operand);
    };
    Value lhs = extend(op.getLhs()), rhs = extend(op.getRhs());
    if (lhs == op.getLhs() && rhs == op.getRhs())
      return rewriter.notifyMatchFailure(op, "operands as wide as the sum");
    rewriter.modifyOpInPlace(op, [&] {
      op.getLhsMutable().assign(lhs);
      op.getRhsMutable().assign(rhs);
    });
    return success();
  }
};

struct DeltaNetGpuLowerVectorsPass
    : public deltanet::impl::DeltaNetGpuLowerVectorsBase<
          DeltaNetGpuLowerVectorsPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // First and without folding (f32 code stays as it is).
    RewritePatternSet extend(ctx);
    extend.add<ExtendContractionOperands>(ctx);
    walkAndApplyPatterns(getOperation(), std::move(extend));
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
