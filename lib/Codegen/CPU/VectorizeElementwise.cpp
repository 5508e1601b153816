//===- VectorizeElementwise.cpp - Row-tile and vectorise elementwise ops --===//
//
// Tiles elementwise linalg.generic ops on tensors (identity or broadcasting
// operands, max / min reductions) with a static innermost loop to rows and
// vectorises the rows.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUVECTORIZEELEMENTWISE
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Whether `map` reads its operand without transposing it: distinct loop
/// dims in increasing order (the identity, or a broadcast along the dims it
/// leaves out).
bool isOrderedProjection(AffineMap map) {
  if (!map.isProjectedPermutation())
    return false;
  int64_t last = -1;
  for (AffineExpr result : map.getResults()) {
    int64_t dim = cast<AffineDimExpr>(result).getPosition();
    if (dim <= last)
      return false;
    last = dim;
  }
  return true;
}

/// Whether every result of `op` is combined with its accumulator by a max
/// or a min, whose value does not depend on the order of the reduction
/// (vectorising such a reduction keeps the results bit-identical).
bool hasOrderIndependentReductions(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  for (auto [index, value] : llvm::enumerate(yield.getOperands())) {
    Operation *combiner = value.getDefiningOp();
    if (!isa_and_nonnull<arith::MaximumFOp, arith::MinimumFOp,
                         arith::MaxNumFOp, arith::MinNumFOp, arith::MaxSIOp,
                         arith::MinSIOp, arith::MaxUIOp, arith::MinUIOp>(
            combiner))
      return false;
    Value acc = body.getArgument(op.getNumDpsInputs() + index);
    if (!llvm::is_contained(combiner->getOperands(), acc))
      return false;
  }
  return true;
}

/// Why `op` is not an elementwise generic with static rows of at most
/// `maxRowLength` elements, or an empty string if it is. Operands may be
/// broadcast along loop dims they are not indexed by (per-row / per-column
/// scales: INT8 quantisation), and reduced by a max or a min (max-abs
/// scales); sums are not vectorised here (their order would change).
/// Outer dimensions may be dynamic: they are tiled by 1, so every row tile
/// is static.
std::string whyNotElementwiseRows(linalg::GenericOp op, int64_t maxRowLength) {
  if (!op.hasPureTensorSemantics())
    return "not on tensors";
  if (op.getNumLoops() == 0)
    return "no loops";
  if (op.getNumParallelLoops() != op.getNumLoops() &&
      !hasOrderIndependentReductions(op))
    return "a reduction that is not a max or a min";
  if (!llvm::all_of(op.getIndexingMapsArray(), isOrderedProjection))
    return "an operand is transposed or indexed by an expression";
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<ShapedType>(operand.getType());
    if (!type || !type.hasRank() || type.getRank() == 0)
      return "non-shaped or rank-0 operand";
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ShapedType::isDynamic(ranges.back()))
    return "dynamic innermost dimension";
  if (ranges.back() > maxRowLength)
    return "rows longer than max-row-length";
  return "";
}

/// Tiles `op` to single rows of its innermost loop and vectorises the row.
LogicalResult tileAndVectorize(RewriterBase &rewriter, linalg::GenericOp op) {
  rewriter.setInsertionPoint(op);
  SmallVector<OpFoldResult> tileSizes(op.getNumLoops(),
                                      rewriter.getIndexAttr(1));
  tileSizes.back() = rewriter.getIndexAttr(op.getStaticLoopRanges().back());
  scf::SCFTilingOptions options;
  options.setTileSizes(tileSizes);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
  for (Operation *tile : tiled->tiledOps) {
    rewriter.setInsertionPoint(tile);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, tile);
    if (failed(vectorized))
      return failure();
    rewriter.replaceOp(tile, vectorized->replacements);
  }
  return success();
}

/// `multi_reduction <maximumf>` of `absf(x)` (f32) along a dim longer than
/// 1 (INT8 quantisation's per-row max |x|) as the integer max of the
/// magnitudes' bits, then one `maximumf` with the accumulator: for floats
/// with the sign bit clear (every `absf` result, NaNs included) the order
/// of the bits is the order of the values, NaNs above infinity, so the
/// result is the same, NaN still propagating. The NaN-propagating float
/// max reduction has no x86 instruction and was expanded to scalar
/// compare / max / move chains (~20% of a vectorised INT8 tri_inv); the
/// integer one is `vpmaxsd` and a shuffle tree.
struct MaxAbsReductionAsIntegerMax
    : public OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKind() != vector::CombiningKind::MAXIMUMF)
      return rewriter.notifyMatchFailure(op, "not a maximumf reduction");
    VectorType sourceType = op.getSourceVectorType();
    if (!sourceType.getElementType().isF32() || sourceType.isScalable())
      return rewriter.notifyMatchFailure(op, "not a fixed f32 vector");
    if (!llvm::any_of(op.getReductionDims(), [&](int64_t dim) {
          return sourceType.getDimSize(dim) > 1;
        }))
      return rewriter.notifyMatchFailure(
          op, "reduces unit dims only (an elementwise max)");
    if (!op.getSource().getDefiningOp<math::AbsFOp>())
      return rewriter.notifyMatchFailure(op, "not a reduction of |x|");
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    Value bits = arith::BitcastOp::create(rewriter, loc,
                                          sourceType.clone(i32), op.getSource());
    Type accType = op.getAcc().getType();
    Type accBitsType = getElementTypeOrSelf(accType) == accType
                           ? i32
                           : cast<VectorType>(accType).clone(i32);
    Value zero = arith::ConstantOp::create(
        rewriter, loc, accBitsType, rewriter.getZeroAttr(accBitsType));
    Value maxBits = vector::MultiDimReductionOp::create(
        rewriter, loc, bits, zero, op.getReductionMask(),
        vector::CombiningKind::MAXSI);
    Type resultType = isa<VectorType>(accType)
                          ? Type(cast<VectorType>(accType).clone(f32))
                          : f32;
    Value max = arith::BitcastOp::create(rewriter, loc, resultType, maxBits);
    rewriter.replaceOpWithNewOp<arith::MaximumFOp>(op, max, op.getAcc());
    return success();
  }
};

struct DeltaNetCpuVectorizeElementwisePass
    : public deltanet::impl::DeltaNetCpuVectorizeElementwiseBase<
          DeltaNetCpuVectorizeElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    if (maxRowLength < 1) {
      getOperation()->emitError(
          "deltanet-cpu-vectorize-elementwise: max-row-length must be >= 1, "
          "got ")
          << static_cast<int64_t>(maxRowLength);
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (whyNotElementwiseRows(op, maxRowLength).empty())
        generics.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : generics)
      (void)tileAndVectorize(rewriter, op);
    RewritePatternSet patterns(&getContext());
    patterns.add<MaxAbsReductionAsIntegerMax>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
