//===- VectorizeMatmuls.cpp - Row-tile and vectorise batched matmuls ------===//
//
// Tiles static linalg.batch_matmul ops to one row and vectorises the tiles.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUVECTORIZEMATMULS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Tiles `op` (loops b, m, n, k) by (1, 1, n, k) and vectorises the tile.
LogicalResult tileAndVectorize(RewriterBase &rewriter,
                               linalg::BatchMatmulOp op) {
  if (!op.hasPureTensorSemantics())
    return failure();
  for (Value operand : op->getOperands())
    if (!cast<ShapedType>(operand.getType()).hasStaticShape())
      return failure();

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

  OpFoldResult one = rewriter.getIndexAttr(1), all = rewriter.getIndexAttr(0);
  scf::SCFTilingOptions options;
  options.setTileSizes({one, one, all, all});
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
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

struct DeltaNetCpuVectorizeMatmulsPass
    : public deltanet::impl::DeltaNetCpuVectorizeMatmulsBase<
          DeltaNetCpuVectorizeMatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::BatchMatmulOp> matmuls;
    getOperation()->walk(
        [&](linalg::BatchMatmulOp op) { matmuls.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::BatchMatmulOp op : matmuls)
      (void)tileAndVectorize(rewriter, op);
  }
};

} // namespace
