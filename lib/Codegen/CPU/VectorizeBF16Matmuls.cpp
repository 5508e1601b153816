//===- VectorizeBF16Matmuls.cpp - bf16 batch matmuls as vdpbf16ps ---------===//
//
// Lowers bf16 x bf16 -> f32 batched matmuls to AVX512_BF16 dot products
// through upstream MLIR: a VNNI-layout contraction (linalg.pack of the right
// operand), register tiles vectorised to vector.contract, unrolled to
// 1 x 16 accumulators, and x86vector's packed-type dot-product patterns.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/TileSizes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/X86Vector/Transforms.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUVECTORIZEBF16MATMULS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {


/// Lanes of one dot-product accumulator: 16 f32 (zmm), 8 (ymm) or 4 (xmm),
/// the widest dividing `n`; 0 if none does.
int64_t accumulatorLanes(int64_t n) {
  for (int64_t lanes : {16, 8, 4})
    if (n % lanes == 0)
      return lanes;
  return 0;
}

/// The f32 tensor that `value` rounds elementwise to bf16, when a
/// `linalg.generic` whose body is one `arith.truncf` of its only input
/// (identity maps) produces it; else null.
Value roundedFrom(Value value) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic->getNumResults() != 1 ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }) ||
      generic.getNumLoops() != generic.getNumParallelLoops())
    return nullptr;
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto trunc = yield.getOperand(0).getDefiningOp<arith::TruncFOp>();
  if (!trunc || &body.front() != trunc.getOperation() ||
      trunc.getIn() != body.getArgument(0))
    return nullptr;
  Value source = generic.getDpsInputs()[0];
  if (!cast<ShapedType>(source.getType()).getElementType().isF32())
    return nullptr;
  return source;
}

/// The vectorised VNNI pack tile's `1 x 1 x 2 x N -> 1 x 1 x N x 2`
/// transpose as a `vector.interleave` of its two rows: one shuffle
/// (vpermt2w / vpunpck*), where the transpose's default lowering moves one
/// element at a time.
struct TransposeRowPairToInterleave
    : public OpRewritePattern<vector::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    VectorType type = op.getSourceVectorType();
    if (type.getRank() != 4 || type.getDimSize(0) != 1 ||
        type.getDimSize(1) != 1 || type.getDimSize(2) != 2 ||
        type.isScalable() ||
        op.getPermutation() != ArrayRef<int64_t>{0, 1, 3, 2})
      return rewriter.notifyMatchFailure(
          op, "not a 1 x 1 x 2 x N -> 1 x 1 x N x 2 transpose");
    int64_t n = type.getDimSize(3);
    Location loc = op.getLoc();
    Value rows = vector::ShapeCastOp::create(
        rewriter, loc, VectorType::get({2, n}, type.getElementType()),
        op.getVector());
    Value even = vector::ExtractOp::create(rewriter, loc, rows, 0);
    Value odd = vector::ExtractOp::create(rewriter, loc, rows, 1);
    // A rounding of the transposed tile (packToVNNI's fused truncf) is done
    // on the two rows first: two whole-vector conversions instead of one
    // per pair once the 2-D result is unrolled.
    Operation *replaced = op;
    if (op->hasOneUse())
      if (auto trunc = dyn_cast<arith::TruncFOp>(*op->user_begin())) {
        Type narrow = getElementTypeOrSelf(trunc.getType());
        auto rowType = VectorType::get({n}, narrow);
        even = arith::TruncFOp::create(rewriter, loc, rowType, even);
        odd = arith::TruncFOp::create(rewriter, loc, rowType, odd);
        replaced = trunc;
      }
    Value pairs = vector::InterleaveOp::create(rewriter, loc, even, odd);
    rewriter.replaceOpWithNewOp<vector::ShapeCastOp>(
        replaced, replaced->getResult(0).getType(), pairs);
    if (replaced != op)
      rewriter.eraseOp(op);
    return success();
  }
};

/// `B` (`batch x K x N`, bf16) in the VNNI layout `Bv[b, p, n, t] =
/// B[b, 2p + t, n]`, as one `linalg.generic` reading `B` viewed as pairs of
/// rows (`tensor.expand_shape`, no data movement) through a transposing
/// map, tiled to `1 x 1 x lanes x 2` and vectorised (upstream
/// `linalg::vectorize`): per pair of rows two vector loads and an
/// interleaving shuffle. When `B` is itself an elementwise rounding of an f32
/// tensor (the matmul precision's `arith.truncf`), that tensor is read and
/// rounded here instead, so the operand is converted and packed in one pass
/// with no bf16 copy in between. Upstream's `linalg.pack` lowers to a
/// `linalg.transpose` that stays a loop of scalar 16-bit moves here (12% of
/// a bf16 tri_inv's time) and cannot absorb the rounding.
Value packToVNNI(RewriterBase &rewriter, Location loc, Value rhs,
                 int64_t lanes) {
  OpBuilder::InsertionGuard guard(rewriter);
  MLIRContext *ctx = rewriter.getContext();
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  Type bf16 = rhsType.getElementType();
  int64_t batch = rhsType.getDimSize(0), k = rhsType.getDimSize(1),
          n = rhsType.getDimSize(2), pairs = k / 2;
  Value source = rhs;
  if (Value wide = roundedFrom(rhs))
    source = wide;
  Type sourceElement = cast<RankedTensorType>(source.getType()).getElementType();
  Value rowPairs = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get({batch, pairs, 2, n}, sourceElement),
      source, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}});
  Value dest = tensor::EmptyOp::create(
      rewriter, loc, ArrayRef<int64_t>{batch, pairs, n, 2}, bf16);
  AffineExpr db, dp, dn, dt;
  bindDims(ctx, db, dp, dn, dt);
  SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {db, dp, dt, dn}, ctx),
                                 AffineMap::get(4, 0, {db, dp, dn, dt}, ctx)};
  auto pack = linalg::GenericOp::create(
      rewriter, loc, TypeRange{dest.getType()}, ValueRange{rowPairs},
      ValueRange{dest}, maps,
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value v = args[0];
        if (v.getType() != bf16)
          v = arith::TruncFOp::create(b, l, bf16, v);
        linalg::YieldOp::create(b, l, v);
      });
  OpFoldResult one = rewriter.getIndexAttr(1);
  scf::SCFTilingOptions options;
  options.setTileSizes(
      {one, one, rewriter.getIndexAttr(lanes), rewriter.getIndexAttr(2)});
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(pack.getOperation()), options);
  if (failed(tiled))
    return pack.getResult(0);
  rewriter.replaceOp(pack, tiled->replacements);
  for (Operation *tile : tiled->tiledOps) {
    rewriter.setInsertionPoint(tile);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, tile);
    if (succeeded(vectorized))
      rewriter.replaceOp(tile, vectorized->replacements);
  }
  return tiled->replacements[0];
}

/// `C[b, m, n] += sum_k A[b, m, k] B[b, k, n]` (bf16 operands, f32
/// accumulator, static shapes, K even, N a multiple of 4) becomes
///
///   A2[b, m, p, t] = A[b, m, 2p + t]            (tensor.expand_shape)
///   Bv[b, p, n, t] = B[b, 2p + t, n]            (linalg.pack, VNNI layout)
///   C[b, m, n] += sum_{p, t} A2[b, m, p, t] Bv[b, p, n, t]   (linalg.generic)
///
/// tiled to `1 x rows x cols` output tiles (largest divisors of M, N), each
/// vectorised to one vector.contract and unrolled to `1 x 1 x lanes`
/// accumulators per pair `p` (reduction outermost, so each pair's broadcast
/// A value and Bv row feed all accumulators of the tile). Each unrolled
/// contraction is a broadcast A pair times `lanes` Bv pairs: upstream
/// x86vector's `x86vector.avx512.dot` (vdpbf16ps).
LogicalResult vectorizeAsDotProducts(RewriterBase &rewriter,
                                     linalg::BatchMatmulOp op, int64_t rows,
                                     int64_t cols) {
  if (!op.hasPureTensorSemantics())
    return rewriter.notifyMatchFailure(op, "expects tensor semantics");
  if (op.hasUserDefinedMaps())
    return rewriter.notifyMatchFailure(op, "has user-defined indexing maps");
  for (Value operand : op->getOperands())
    if (!cast<ShapedType>(operand.getType()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "shapes must be static");
  Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
  Value init = op.getDpsInits()[0];
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  if (!lhsType.getElementType().isBF16() ||
      !rhsType.getElementType().isBF16() ||
      !initType.getElementType().isF32())
    return rewriter.notifyMatchFailure(op, "not a bf16 x bf16 -> f32 matmul");
  int64_t batch = lhsType.getDimSize(0), m = lhsType.getDimSize(1),
          k = lhsType.getDimSize(2), n = rhsType.getDimSize(2);
  if (k % 2 != 0)
    return rewriter.notifyMatchFailure(op, "K is odd (no bf16 pairs)");
  int64_t lanes = accumulatorLanes(n);
  if (lanes == 0)
    return rewriter.notifyMatchFailure(op, "N is not a multiple of 4");

  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  rewriter.setInsertionPoint(op);
  Type bf16 = lhsType.getElementType();
  int64_t pairs = k / 2;

  // A2 = A viewed as pairs of k: a reshape, no data movement.
  auto lhsPairsType = RankedTensorType::get({batch, m, pairs, 2}, bf16);
  Value lhsPairs = tensor::ExpandShapeOp::create(
      rewriter, loc, lhsPairsType, lhs,
      ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});

  Value rhsPacked = packToVNNI(rewriter, loc, rhs, lanes);

  // The contraction over (b, m, n, p, t).
  AffineExpr db, dm, dn, dp, dt;
  bindDims(ctx, db, dm, dn, dp, dt);
  SmallVector<AffineMap> maps = {
      AffineMap::get(5, 0, {db, dm, dp, dt}, ctx),
      AffineMap::get(5, 0, {db, dp, dn, dt}, ctx),
      AffineMap::get(5, 0, {db, dm, dn}, ctx)};
  SmallVector<utils::IteratorType> iterators = {
      utils::IteratorType::parallel, utils::IteratorType::parallel,
      utils::IteratorType::parallel, utils::IteratorType::reduction,
      utils::IteratorType::reduction};
  auto contraction = linalg::GenericOp::create(
      rewriter, loc, TypeRange{initType}, ValueRange{lhsPairs, rhsPacked},
      ValueRange{init}, maps, iterators,
      [](OpBuilder &b, Location l, ValueRange args) {
        Type f32 = args[2].getType();
        Value a = arith::ExtFOp::create(b, l, f32, args[0]);
        Value bv = arith::ExtFOp::create(b, l, f32, args[1]);
        Value product = arith::MulFOp::create(b, l, a, bv);
        linalg::YieldOp::create(b, l,
                                arith::AddFOp::create(b, l, args[2], product)
                                    .getResult());
      });
  rewriter.replaceOp(op, contraction->getResults());

  // Register tiles of 1 x rows x cols outputs, whole K.
  int64_t tileRows = largestDivisor(m, rows);
  int64_t tileCols = largestDivisor(n, std::max(cols, lanes));
  if (tileCols % lanes != 0)
    tileCols = lanes;
  OpFoldResult one = rewriter.getIndexAttr(1), all = rewriter.getIndexAttr(0);
  scf::SCFTilingOptions options;
  options.setTileSizes({one, rewriter.getIndexAttr(tileRows),
                        rewriter.getIndexAttr(tileCols), all, all});
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(contraction.getOperation()), options);
  if (failed(tiled))
    return failure();
  rewriter.replaceOp(contraction, tiled->replacements);

  for (Operation *tile : tiled->tiledOps) {
    rewriter.setInsertionPoint(tile);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, tile, /*inputVectorSizes=*/{},
                          /*inputScalableVecDims=*/{},
                          /*vectorizeNDExtract=*/false,
                          /*flatten1DDepthwiseConv=*/false,
                          /*assumeDynamicDimsMatchVecSizes=*/false,
                          /*createNamedContraction=*/true);
    if (failed(vectorized))
      return failure();
    rewriter.replaceOp(tile, vectorized->replacements);
  }
  return success();
}

/// The bf16 VNNI contraction this pass creates (5 loops, bf16 operands), and
/// its accumulator lanes; 0 if `op` is something else.
int64_t dotProductLanes(Operation *op) {
  auto contract = dyn_cast_or_null<vector::ContractionOp>(op);
  if (!contract || !contract.getLhsType().getElementType().isBF16() ||
      contract.getIteratorTypesArray().size() != 5)
    return 0;
  auto accType = dyn_cast<VectorType>(contract.getAccType());
  return accType ? accumulatorLanes(accType.getShape().back()) : 0;
}

/// Native shape of `op` in the unrolled tile: every contraction to
/// `1 x 1 x lanes` outputs and one pair of k, the reads and writes feeding it
/// cut to the same pieces (so each is one contiguous load: a bf16 pair of A,
/// `lanes` pairs of Bv, `lanes` accumulators). Computed from the live IR
/// (the ops' uses), never cached: rewrites reuse the addresses of erased ops.
std::optional<SmallVector<int64_t>> getDotProductShape(Operation *op) {
  if (int64_t lanes = dotProductLanes(op))
    return SmallVector<int64_t>{1, 1, lanes, 1, 2};
  if (auto read = dyn_cast<vector::TransferReadOp>(op)) {
    if (!read.getPermutationMap().isMinorIdentity())
      return std::nullopt;
    int64_t rank = read.getVectorType().getRank();
    for (OpOperand &use : read->getUses()) {
      int64_t lanes = dotProductLanes(use.getOwner());
      if (!lanes)
        continue;
      if (use.getOperandNumber() == 0 && rank == 4)
        return SmallVector<int64_t>{1, 1, 1, 2};
      if (use.getOperandNumber() == 1 && rank == 4)
        return SmallVector<int64_t>{1, 1, lanes, 2};
      if (use.getOperandNumber() == 2 && rank == 3)
        return SmallVector<int64_t>{1, 1, lanes};
    }
    return std::nullopt;
  }
  if (auto write = dyn_cast<vector::TransferWriteOp>(op)) {
    int64_t lanes = dotProductLanes(write.getVector().getDefiningOp());
    if (lanes && write.getVectorType().getRank() == 3 &&
        write.getPermutationMap().isMinorIdentity())
      return SmallVector<int64_t>{1, 1, lanes};
  }
  return std::nullopt;
}

/// Unrolls the tiles' contractions, reads and writes to their native shapes.
/// The reads and writes first, while they still feed (or are fed by) the
/// whole contraction, which is how getDotProductShape recognises them: in
/// one greedy application a contraction unrolled first leaves its reads
/// feeding `vector.extract_strided_slice`s, and a read left whole (e.g. a
/// `64 x 32 x 2` Bv tile at K = 128) is lowered to LLVM as one scalar load
/// per bf16 pair.
void unrollToDotProducts(Operation *root) {
  auto unroll = [&](bool transfers) {
    vector::UnrollVectorOptions options;
    options.setNativeShapeFn(getDotProductShape);
    options.setFilterConstraint([transfers](Operation *op) {
      return success(transfers == isa<vector::TransferReadOp,
                                      vector::TransferWriteOp>(op));
    });
    // Reduction dims outermost: for each pair, all accumulators of the tile.
    options.setUnrollTraversalOrderFn(
        [](Operation *op) -> std::optional<SmallVector<int64_t>> {
          if (dotProductLanes(op))
            return SmallVector<int64_t>{3, 4, 0, 1, 2};
          return std::nullopt;
        });
    RewritePatternSet patterns(root->getContext());
    vector::populateVectorUnrollPatterns(patterns, options);
    (void)applyPatternsGreedily(root, std::move(patterns));
  };
  unroll(/*transfers=*/true);
  unroll(/*transfers=*/false);
}

struct DeltaNetCpuVectorizeBF16MatmulsPass
    : public deltanet::impl::DeltaNetCpuVectorizeBF16MatmulsBase<
          DeltaNetCpuVectorizeBF16MatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (rows < 1 || cols < 1) {
      getOperation()->emitError("deltanet-cpu-vectorize-bf16-matmuls: rows "
                                "and cols must be >= 1, got ")
          << static_cast<int64_t>(rows) << " and "
          << static_cast<int64_t>(cols);
      return signalPassFailure();
    }
    SmallVector<linalg::BatchMatmulOp> matmuls;
    getOperation()->walk(
        [&](linalg::BatchMatmulOp op) { matmuls.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::BatchMatmulOp op : matmuls)
      (void)vectorizeAsDotProducts(rewriter, op, rows, cols);

    // The vectoriser spells the tile as extf + mulf + multi_reduction:
    // upstream patterns fold it into one vector.contract on the bf16
    // operands (the contraction extends them itself).
    {
      RewritePatternSet patterns(&getContext());
      vector::populateVectorReductionToContractPatterns(patterns);
      vector::populateFoldArithExtensionPatterns(patterns);
      // Broadcasting reads as plain reads + vector.broadcast, which the
      // contraction then absorbs into its indexing maps.
      vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
      // The VNNI packs' transposes (packToVNNI) as row interleaves.
      patterns.add<TransposeRowPairToInterleave>(&getContext());
      if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
        return signalPassFailure();
    }
    unrollToDotProducts(getOperation());
    RewritePatternSet patterns(&getContext());
    x86vector::populateVectorContractToPackedTypeDotProductPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
