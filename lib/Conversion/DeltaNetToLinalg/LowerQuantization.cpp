//===- LowerQuantization.cpp - Lower INT8 quantize/dequantize to linalg ---===//
//
// Rewrites deltanet.quantize and deltanet.dequantize into linalg.generic ops.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETLOWERQUANTIZATION
#include "deltanet/Conversion/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The largest magnitude of a symmetric INT8 value.
constexpr float kInt8Max = 127.0f;

/// `scale = max |x| / 127` over the reduction dims (a max-abs reduction),
/// and `q = clamp(roundeven(x * 127 / max), -127, 127)` as i8, 0 where the
/// slice is all zeros.
struct LowerQuantizeOp : public OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);
    Value input = op.getInput();
    int64_t rank = op.getInput().getType().getRank();
    ArrayRef<int64_t> reductionDims = op.getReductionDims();

    // The map from the input's iteration space to the scale's dims.
    SmallVector<AffineExpr> kept;
    SmallVector<utils::IteratorType> iterators;
    SmallVector<OpFoldResult> inputSizes = sb.dims(input), scaleSizes;
    for (int64_t dim = 0; dim < rank; ++dim) {
      bool reduced = llvm::is_contained(reductionDims, dim);
      iterators.push_back(reduced ? utils::IteratorType::reduction
                                  : utils::IteratorType::parallel);
      if (!reduced) {
        kept.push_back(rewriter.getAffineDimExpr(dim));
        scaleSizes.push_back(inputSizes[dim]);
      }
    }
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(rank, rewriter.getContext());
    AffineMap toScale = sb.affineMap(rank, kept);

    Value maxAbs = sb.generic(
        input, sb.zeros(scaleSizes), {identity, toScale}, iterators,
        [](OpBuilder &nb, Location nloc, ValueRange args) {
          Value abs = math::AbsFOp::create(nb, nloc, args[0]);
          return arith::MaximumFOp::create(nb, nloc, abs, args[1]).getResult();
        });
    Value scale = sb.map(
        maxAbs, {}, scaleSizes, rewriter.getF32Type(),
        [](OpBuilder &nb, Location nloc, ValueRange args) {
          Value inv = StructuredBuilder::f32Constant(nb, nloc, 1.0f / kInt8Max);
          return arith::MulFOp::create(nb, nloc, args[0], inv).getResult();
        });
    // 127 / max once per slice (0 for an all-zero slice), not per element.
    Value factor =
        sb.map(maxAbs, {}, scaleSizes, rewriter.getF32Type(),
               [](OpBuilder &nb, Location nloc, ValueRange args) {
                 Value max = args[0];
                 Value zero = StructuredBuilder::f32Constant(nb, nloc, 0.0f);
                 Value limit =
                     StructuredBuilder::f32Constant(nb, nloc, kInt8Max);
                 Value positive = arith::CmpFOp::create(
                     nb, nloc, arith::CmpFPredicate::OGT, max, zero);
                 Value ratio = arith::DivFOp::create(nb, nloc, limit, max);
                 return arith::SelectOp::create(nb, nloc, positive, ratio, zero)
                     .getResult();
               });
    Value quantized = sb.map(
        ValueRange{input, factor}, {identity, toScale}, inputSizes,
        rewriter.getI8Type(),
        [](OpBuilder &nb, Location nloc, ValueRange args) {
          Value x = args[0], factor = args[1];
          Value limit = StructuredBuilder::f32Constant(nb, nloc, kInt8Max);
          Value scaled = arith::MulFOp::create(nb, nloc, x, factor);
          Value rounded = math::RoundEvenOp::create(nb, nloc, scaled);
          Value negLimit = arith::NegFOp::create(nb, nloc, limit);
          Value clamped = arith::MinimumFOp::create(
              nb, nloc, arith::MaximumFOp::create(nb, nloc, rounded, negLimit),
              limit);
          return arith::FPToSIOp::create(nb, nloc, nb.getI8Type(), clamped)
              .getResult();
        });
    rewriter.replaceOp(op, {quantized, scale});
    return success();
  }
};

/// `sitofp(acc) * lhs_scale * rhs_scale`, the scales broadcast along the
/// columns (lhs, per row) and rows (rhs, per column), or per matrix.
struct LowerDequantizeOp : public OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);
    AffineExpr n, i, j;
    bindDims(rewriter.getContext(), n, i, j);
    bool perRow = op.getLhsScale().getType().getRank() == 2;
    AffineMap lhsMap = sb.affineMap(3, perRow ? ArrayRef<AffineExpr>{n, i}
                                              : ArrayRef<AffineExpr>{n});
    AffineMap rhsMap = sb.affineMap(3, perRow ? ArrayRef<AffineExpr>{n, j}
                                              : ArrayRef<AffineExpr>{n});
    Value result = sb.map(
        ValueRange{op.getAcc(), op.getLhsScale(), op.getRhsScale()},
        {AffineMap(), lhsMap, rhsMap}, sb.dims(op.getAcc()),
        rewriter.getF32Type(),
        [](OpBuilder &nb, Location nloc, ValueRange args) {
          Value acc =
              arith::SIToFPOp::create(nb, nloc, nb.getF32Type(), args[0]);
          Value scale = arith::MulFOp::create(nb, nloc, args[1], args[2]);
          return arith::MulFOp::create(nb, nloc, acc, scale).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct DeltaNetLowerQuantizationPass
    : public deltanet::impl::DeltaNetLowerQuantizationBase<
          DeltaNetLowerQuantizationPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateLowerQuantizationPatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateLowerQuantizationPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowerQuantizeOp, LowerDequantizeOp>(patterns.getContext());
}
