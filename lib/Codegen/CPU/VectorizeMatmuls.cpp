//===- VectorizeMatmuls.cpp - Row-tile and vectorise batched matmuls ------===//
//
// Tiles linalg.batch_matmul ops with static M and N to register tiles and
// vectorises the tiles (a dynamic K as a loop carrying the accumulators).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"
#include "deltanet/Dialect/DeltaNet/Utils/TileSizes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUVECTORIZEMATMULS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// `read` (a vector.transfer_read of a 3-d tensor, identity map, in bounds)
/// with `offset` added to its index `dim` and its vector's dim `dim` cut to
/// `size`.
Value readPart(OpBuilder &b, Location loc, vector::TransferReadOp read,
               unsigned dim, Value offset, int64_t size) {
  SmallVector<Value> indices(read.getIndices());
  indices[dim] = arith::AddIOp::create(b, loc, indices[dim], offset);
  SmallVector<int64_t> shape(read.getVectorType().getShape());
  shape[dim] = size;
  auto type = VectorType::get(shape, read.getVectorType().getElementType());
  return vector::TransferReadOp::create(
      b, loc, type, read.getBase(), indices, read.getPermutationMapAttr(),
      read.getPadding(), read.getMask(), read.getInBoundsAttr());
}

/// A register tile's contraction (`[1, M, K] x [1, K, N] -> [1, M, N]`, f32,
/// both operands read whole from tensors) with K > `kStep` as an scf.for
/// over K in steps of `kStep` (the largest divisor of K not above it)
/// carrying the accumulator vector: the same fused multiply-adds in the
/// same order (bitwise identical sums), but the lowered tile is one
/// `kStep`-deep body in a loop instead of K outer products unrolled (a
/// 128-deep 8 x 32 tile is ~3,600 instructions; the chunk op's loop body
/// was ~53,000 instructions, streamed into the instruction cache again for
/// every chunk).
LogicalResult rollReduction(RewriterBase &rewriter, vector::ContractionOp op,
                            int64_t kStep) {
  auto lhsRead = op.getLhs().getDefiningOp<vector::TransferReadOp>();
  auto rhsRead = op.getRhs().getDefiningOp<vector::TransferReadOp>();
  if (!lhsRead || !rhsRead)
    return rewriter.notifyMatchFailure(op, "operands not read from memory");
  MLIRContext *ctx = op.getContext();
  AffineExpr b, m, n, k;
  bindDims(ctx, b, m, n, k);
  auto map = [&](ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(4, 0, exprs, ctx);
  };
  if (op.getIndexingMapsArray() !=
      SmallVector<AffineMap>{map({b, m, k}), map({b, k, n}), map({b, m, n})})
    return rewriter.notifyMatchFailure(op, "not a batched matmul");
  auto accType = dyn_cast<VectorType>(op.getAccType());
  if (!accType || !accType.getElementType().isF32() ||
      !op.getLhsType().getElementType().isF32() ||
      !op.getRhsType().getElementType().isF32())
    return rewriter.notifyMatchFailure(op, "not f32");
  for (vector::TransferReadOp read : {lhsRead, rhsRead})
    if (read.getMask() || !read.getPermutationMap().isMinorIdentity() ||
        read.getPermutationMap().getNumResults() != 3 ||
        llvm::any_of(read.getInBoundsValues(), [](bool b) { return !b; }) ||
        !read->hasOneUse())
      return rewriter.notifyMatchFailure(op, "not a plain in-bounds read");
  int64_t depth = op.getLhsType().getDimSize(2);
  int64_t step = std::min(kStep, depth);
  while (depth % step)
    --step;
  if (step >= depth)
    return rewriter.notifyMatchFailure(op, "reduction no deeper than a step");
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value ub = arith::ConstantIndexOp::create(rewriter, loc, depth);
  Value st = arith::ConstantIndexOp::create(rewriter, loc, step);
  auto loop = scf::ForOp::create(
      rewriter, loc, lb, ub, st, ValueRange{op.getAcc()},
      [&](OpBuilder &nb, Location nloc, Value kk, ValueRange acc) {
        Value lhs = readPart(nb, nloc, lhsRead, 2, kk, step);
        Value rhs = readPart(nb, nloc, rhsRead, 1, kk, step);
        Value sum = vector::ContractionOp::create(
            nb, nloc, lhs, rhs, acc[0], op.getIndexingMaps(),
            op.getIteratorTypes(), op.getKind());
        scf::YieldOp::create(nb, nloc, sum);
      });
  rewriter.replaceOp(op, loop.getResults());
  rewriter.eraseOp(lhsRead);
  if (rhsRead != lhsRead)
    rewriter.eraseOp(rhsRead);
  return success();
}

/// Vectorises `tile`, a register tile with static M and N and a dynamic K:
/// an scf.for over K in steps of 1 (upstream `scf::tileUsingSCF`), each
/// step a static `[b, M, 1] x [b, 1, N]` contraction (upstream
/// `linalg::vectorize`), the accumulator's read and write hoisted out of
/// the loop (upstream `hoistLoopInvariantSubsets`), so that it is carried in
/// vector registers. The multiply-adds per output element run over k in
/// order, as in the static tiles.
LogicalResult vectorizeDynamicReduction(RewriterBase &rewriter,
                                        linalg::BatchMatmulOp tile) {
  scf::SCFTilingOptions options;
  OpFoldResult whole = rewriter.getIndexAttr(0);
  options.setTileSizes({whole, whole, whole, rewriter.getIndexAttr(1)});
  rewriter.setInsertionPoint(tile);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(tile.getOperation()), options);
  if (failed(tiled) || tiled->loops.size() != 1)
    return rewriter.notifyMatchFailure(tile, "could not tile K by 1");
  rewriter.replaceOp(tile, tiled->replacements);
  for (Operation *step : tiled->tiledOps) {
    rewriter.setInsertionPoint(step);
    FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
        rewriter, step, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
        /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
        /*assumeDynamicDimsMatchVecSizes=*/false,
        /*createNamedContraction=*/true);
    if (failed(vectorized))
      return rewriter.notifyMatchFailure(step, "K step not vectorisable");
    rewriter.replaceOp(step, vectorized->replacements);
  }
  // The accumulator's tensor slice first, then (its indices, constants
  // created in the loop, hoisted first) its vector transfers.
  auto loop = cast<LoopLikeOpInterface>(tiled->loops.front());
  loop = hoistLoopInvariantSubsets(rewriter, loop);
  moveLoopInvariantCode(loop);
  (void)hoistLoopInvariantSubsets(rewriter, loop);
  return success();
}

/// Tiles `op` (loops b, m, n, k) by (1, rows, cols, k) and vectorises the
/// tiles; the column tiles outermost when the right operand has more than
/// `columnsOuterBytes` bytes per batch element (>= 0). A dynamic K (forward
/// substitution's rows) stays a loop inside each register tile
/// (vectorizeDynamicReduction); its tiles then also cover several matrices
/// of the batch when M is below `rows` (up to `rows` output rows in all), so
/// that a tile has independent accumulator chains to overlap.
LogicalResult tileAndVectorize(RewriterBase &rewriter, linalg::BatchMatmulOp op,
                               int64_t rows, int64_t cols,
                               int64_t columnsOuterBytes) {
  if (!op.hasPureTensorSemantics())
    return rewriter.notifyMatchFailure(op, "not on tensors");
  // The batch dimension may be dynamic: it is tiled by 1, so every register
  // tile is static (a dynamic tri_inv batch, or its smaller last tile).
  // K may be dynamic too (a loop in each tile); M and N make the register
  // tile and must be static.
  auto outType = cast<ShapedType>(op.getDpsInits()[0].getType());
  if (!outType.hasRank() ||
      llvm::any_of(outType.getShape().drop_front(), ShapedType::isDynamic))
    return rewriter.notifyMatchFailure(op, "dynamic M or N");
  auto lhsType = cast<ShapedType>(op.getDpsInputs()[0].getType());
  bool dynamicReduction = lhsType.isDynamicDim(2);

  rewriter.setInsertionPoint(op);
  // Mixed precision (bf16 x bf16 -> f32): batch_matmul extends its operands
  // to the accumulator type before multiplying, so widening them first is
  // the same computation, and has an outer-product lowering.
  Type accType = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  if (llvm::any_of(op.getDpsInputs(), [&](Value input) {
        return getElementTypeOrSelf(input.getType()) != accType;
      })) {
    if (!accType.isF32())
      return failure();
    StructuredBuilder sb(rewriter, op.getLoc());
    SmallVector<Value> inputs =
        llvm::map_to_vector(op.getDpsInputs(), [&](Value input) {
          return sb.convertElementType(input, accType);
        });
    auto widened = linalg::BatchMatmulOp::create(
        rewriter, op.getLoc(), op->getResultTypes(), inputs, op.getDpsInits());
    rewriter.replaceOp(op, widened->getResults());
    op = widened;
  }

  // The largest divisor of M not above `rows`: full tiles only, so every
  // tile has the same static shape and vectorises without masks.
  int64_t tileRows = largestDivisor(outType.getDimSize(1), rows);
  int64_t tileCols = largestDivisor(outType.getDimSize(2), cols);
  // Matrices per tile: 1, or with a dynamic K (a latency-bound chain of
  // multiply-adds per accumulator) up to `rows / tileRows` of a static batch.
  int64_t tileBatch = 1;
  if (dynamicReduction && !outType.isDynamicDim(0))
    tileBatch = largestDivisor(outType.getDimSize(0), rows / tileRows);
  OpFoldResult all = rewriter.getIndexAttr(0);
  scf::SCFTilingOptions options;
  options.setTileSizes({rewriter.getIndexAttr(tileBatch),
                        rewriter.getIndexAttr(tileRows),
                        rewriter.getIndexAttr(tileCols), all});
  // A right operand too large for the L1 cache: column tiles outermost,
  // so that one `K x tileCols` panel of it is reused by every row tile. A
  // dynamic K (unknown size) keeps the row tiles outermost.
  auto rhsType = cast<ShapedType>(op.getDpsInputs()[1].getType());
  int64_t rhsBytes =
      rhsType.isDynamicDim(1) || rhsType.isDynamicDim(2)
          ? 0
          : rhsType.getDimSize(1) * rhsType.getDimSize(2) *
                llvm::divideCeil(
                    rhsType.getElementType().getIntOrFloatBitWidth(), 8);
  if (columnsOuterBytes >= 0 && rhsBytes > columnsOuterBytes)
    options.setInterchange({0, 2, 1, 3});
  // A linalg.fill producing the accumulator is fused into the tiles: once
  // vectorised, the tile's zero accumulator is a constant in registers
  // instead of a pass of stores over the output and loads back.
  scf::SCFTileAndFuseOptions fuseOptions;
  fuseOptions.setTilingOptions(options);
  fuseOptions.setFusionControlFn(
      [](tensor::ExtractSliceOp, OpResult producer, bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (isDestination && isa<linalg::FillOp>(producer.getOwner()))
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  FailureOr<scf::SCFTileAndFuseResult> tiled =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), fuseOptions);
  if (failed(tiled))
    return failure();
  for (OpResult result : op->getResults())
    rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
  rewriter.eraseOp(op);
  // The fused fills first (they produce the matmuls' accumulators).
  SmallVector<Operation *> tiles =
      llvm::to_vector(llvm::reverse(tiled->tiledAndFusedOps));
  for (Operation *tile : tiles) {
    if (auto matmul = dyn_cast<linalg::BatchMatmulOp>(tile);
        matmul && dynamicReduction) {
      if (failed(vectorizeDynamicReduction(rewriter, matmul)))
        return failure();
      continue;
    }
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

struct DeltaNetCpuVectorizeMatmulsPass
    : public deltanet::impl::DeltaNetCpuVectorizeMatmulsBase<
          DeltaNetCpuVectorizeMatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (rows < 1 || cols < 1) {
      getOperation()->emitError("deltanet-cpu-vectorize-matmuls: rows and "
                                "cols must be >= 1, got ")
          << static_cast<int64_t>(rows) << " and "
          << static_cast<int64_t>(cols);
      return signalPassFailure();
    }
    SmallVector<linalg::BatchMatmulOp> matmuls;
    getOperation()->walk(
        [&](linalg::BatchMatmulOp op) { matmuls.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::BatchMatmulOp op : matmuls)
      (void)tileAndVectorize(rewriter, op, rows, cols, columnsOuterBytes);
    if (reductionStep <= 0)
      return;
    SmallVector<vector::ContractionOp> contractions;
    getOperation()->walk(
        [&](vector::ContractionOp op) { contractions.push_back(op); });
    for (vector::ContractionOp op : contractions)
      (void)rollReduction(rewriter, op, reductionStep);
  }
};

} // namespace
