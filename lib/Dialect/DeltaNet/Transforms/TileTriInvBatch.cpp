//===- TileTriInvBatch.cpp - Tile the batch of deltanet.tri_inv -----------===//
//
// Splits a batched deltanet.tri_inv into an scf.for over tiles of matrices
// with upstream scf::tileUsingSCF.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"

#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::deltanet;

int64_t mlir::deltanet::staticBatchTile(int64_t batch, int64_t tileSize) {
  // A smaller last tile would have a dynamic size, which the CPU's static
  // register tiling skips (scalar code) and the NPU cannot allocate in local
  // memory.
  while (tileSize > 1 && batch % tileSize != 0)
    --tileSize;
  return tileSize;
}

LogicalResult mlir::deltanet::tileTriInvBatch(RewriterBase &rewriter,
                                              TriInvOp op, int64_t tileSize) {
  RankedTensorType type = op.getA().getType();
  int64_t rank = type.getRank();
  if (rank < 3 || tileSize <= 0)
    return failure();
  ArrayRef<int64_t> batchDims = type.getShape().drop_back(2);
  if (!llvm::is_contained(batchDims, ShapedType::kDynamic)) {
    int64_t batch = ShapedType::getNumElements(batchDims);
    if (batch <= tileSize)
      return failure();
    tileSize = staticBatchTile(batch, tileSize);
  }

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  // One batch dim: tile `batch x C x C` along it.
  TriInvOp flat = op;
  if (rank > 3) {
    StructuredBuilder sb(rewriter, loc);
    Value a = sb.collapseLeading(op.getA(), rank - 2);
    flat = cast<TriInvOp>(rewriter.clone(*op.getOperation()));
    flat->setOperand(0, a);
    flat->getResult(0).setType(a.getType());
  }

  scf::SCFTilingOptions options;
  options.setTileSizes({rewriter.getIndexAttr(tileSize)});
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(flat.getOperation()), options);
  if (failed(tiled)) {
    if (flat != op)
      rewriter.eraseOp(flat);
    return failure();
  }
  Value x = tiled->replacements.front();
  if (flat != op) {
    rewriter.eraseOp(flat);
    SmallVector<OpFoldResult> batchSizes =
        tensor::getMixedSizes(rewriter, loc, op.getA());
    batchSizes.resize(rank - 2);
    x = StructuredBuilder(rewriter, loc).expandLeading(x, batchSizes);
  }
  rewriter.replaceOp(op, x);
  return success();
}
