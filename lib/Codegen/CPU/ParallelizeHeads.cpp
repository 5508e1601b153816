//===- ParallelizeHeads.cpp - scf.forall over independent heads/matrices --===//
//
// Splits gated delta rule ops into an scf.forall over (batch, value head) and
// batched deltanet.tri_inv into an scf.forall over tiles of matrices, so that
// the CPU pipeline can run the iterations on several threads (OpenMP).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUPARALLELIZEHEADS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// `[size0, size1, ...]` slice of `t` at `offsets`, unit strides, with the
/// static result type `shape` (rank kept).
Value slice(OpBuilder &b, Location loc, Value t, ArrayRef<OpFoldResult> offsets,
            ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, t, offsets, sizes, strides);
}

/// One (batch, value head) per iteration of an scf.forall: every operand is
/// sliced to B = 1, H = HV = 1 (value head j reads q/k head j / (HV / H)),
/// the op is cloned on the slices and its results are inserted in parallel.
/// Heads are independent, so any thread count computes the same bits.
template <typename OpTy>
LogicalResult distributeHeads(RewriterBase &rewriter, OpTy op) {
  if (op->template getParentOfType<scf::ForallOp>())
    return rewriter.notifyMatchFailure(op, "already inside an scf.forall");
  if (op.getCuSeqlens())
    return rewriter.notifyMatchFailure(
        op, "variable-length sequences: unpacked into a batch first "
            "(--deltanet-unpack-varlen-gated-delta-rule)");
  auto qType = cast<RankedTensorType>(op.getQ().getType());
  auto vType = cast<RankedTensorType>(op.getV().getType());
  int64_t heads = qType.getDimSize(2), valueHeads = vType.getDimSize(2);
  if (valueHeads == 1 && qType.getDimSize(0) == 1)
    return rewriter.notifyMatchFailure(op, "a single (batch, head): nothing "
                                           "to distribute");

  Location loc = op.getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  OpFoldResult batch = tensor::getMixedSize(rewriter, loc, op.getQ(), 0);
  OpFoldResult zero = rewriter.getIndexAttr(0), one = rewriter.getIndexAttr(1);
  SmallVector<Value> inits;
  for (Value result : op->getResults()) {
    auto type = cast<RankedTensorType>(result.getType());
    // o has v's dims ([B, T, HV, V]), the state initial_state's.
    Value like = result == op->getResult(0) ? op.getV() : op.getInitialState();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, like);
    inits.push_back(
        tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType()));
  }

  auto forall = scf::ForallOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{batch, rewriter.getIndexAttr(valueHeads)},
      inits, /*mapping=*/std::nullopt);
  Block *body = forall.getBody();
  rewriter.setInsertionPointToStart(body);
  Value b = body->getArgument(0), j = body->getArgument(1);
  Value groupSize =
      arith::ConstantIndexOp::create(rewriter, loc, valueHeads / heads);
  Value i = arith::DivUIOp::create(rewriter, loc, j, groupSize);

  auto tokenSlice = [&](Value t, Value head) {
    // [B, T, H, D] or [B, T, H] -> [1, T, 1(, D)].
    auto type = cast<RankedTensorType>(t.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), zero);
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, t);
    offsets[0] = b;
    sizes[0] = one;
    offsets[2] = head;
    sizes[2] = one;
    return slice(rewriter, loc, t, offsets, sizes);
  };
  auto stateSlice = [&](Value t, Value head) {
    // [B, HV, K, V] -> [1, 1, K, V].
    SmallVector<OpFoldResult> offsets = {b, head, zero, zero};
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, t);
    sizes[0] = one;
    sizes[1] = one;
    return slice(rewriter, loc, t, offsets, sizes);
  };

  SmallVector<Value> operands = {
      tokenSlice(op.getQ(), i),         tokenSlice(op.getK(), i),
      tokenSlice(op.getV(), j),         tokenSlice(op.getG(), j),
      tokenSlice(op.getBeta(), j),      stateSlice(op.getInitialState(), j)};
  SmallVector<Value> outs = {tokenSlice(body->getArgument(2), j),
                             stateSlice(body->getArgument(3), j)};
  SmallVector<Type> resultTypes = {outs[0].getType(), outs[1].getType()};
  OperationState state(loc, op->getName(), operands, resultTypes,
                       op->getAttrs());
  Operation *perHead = rewriter.create(state);

  rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [result, out] : llvm::zip(perHead->getResults(), outs)) {
    auto extract = out.getDefiningOp<tensor::ExtractSliceOp>();
    tensor::ParallelInsertSliceOp::create(
        rewriter, loc, result, extract.getSource(), extract.getMixedOffsets(),
        extract.getMixedSizes(), extract.getMixedStrides());
    rewriter.eraseOp(extract);
  }
  rewriter.replaceOp(op, forall->getResults());
  return success();
}

/// tri_inv over `[..., N, C, C]`: an scf.forall over tiles of `tile`
/// matrices of the innermost batch dim (single matrices of the outer ones),
/// through tri_inv's TilingInterface; the batch tiling of the lowering then
/// finds nothing left to split.
LogicalResult distributeMatrices(RewriterBase &rewriter, TriInvOp op,
                                 int64_t tile) {
  if (op->getParentOfType<scf::ForallOp>())
    return rewriter.notifyMatchFailure(op, "already inside an scf.forall");
  RankedTensorType type = op.getA().getType();
  int64_t rank = type.getRank();
  if (rank < 3)
    return rewriter.notifyMatchFailure(op, "a single matrix");
  ArrayRef<int64_t> batchDims = type.getShape().drop_back(2);
  if (!llvm::is_contained(batchDims, ShapedType::kDynamic) &&
      ShapedType::getNumElements(batchDims) <= tile)
    return rewriter.notifyMatchFailure(op, "batch fits in one tile");
  // Static tiles where the innermost batch dim is static (the same rule as
  // the lowering's batch tiling, so that every thread count runs the same
  // per-matrix code: bitwise identical results).
  int64_t inner = batchDims.back();
  if (!ShapedType::isDynamic(inner))
    tile = staticBatchTile(inner, tile);
  SmallVector<OpFoldResult> sizes(rank - 2, rewriter.getIndexAttr(1));
  sizes.back() = rewriter.getIndexAttr(tile);
  scf::SCFTilingOptions options;
  options.setTileSizes(sizes);
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return rewriter.notifyMatchFailure(op, "tiling failed");
  rewriter.replaceOp(op, tiled->replacements);
  return success();
}

struct DeltaNetCpuParallelizeHeadsPass
    : public deltanet::impl::DeltaNetCpuParallelizeHeadsBase<
          DeltaNetCpuParallelizeHeadsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (matrixTile < 0) {
      getOperation()->emitError("deltanet-cpu-parallelize-heads: "
                                "matrix-tile must be >= 0, got ")
          << static_cast<int64_t>(matrixTile);
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<ChunkGatedDeltaRuleOp, RecurrentGatedDeltaRuleOp, TriInvOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      if (auto chunk = dyn_cast<ChunkGatedDeltaRuleOp>(op))
        (void)distributeHeads(rewriter, chunk);
      else if (auto recurrent = dyn_cast<RecurrentGatedDeltaRuleOp>(op))
        (void)distributeHeads(rewriter, recurrent);
      else if (matrixTile > 0)
        (void)distributeMatrices(rewriter, cast<TriInvOp>(op), matrixTile);
    }
  }
};

} // namespace
