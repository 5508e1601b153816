//===- DistributeLinalgToBlocks.cpp - Host-level linalg ops onto the grid -===//
//
// linalg ops left outside any block loop (gathers, scatters, cumulative
// decays of the decomposed attention) become scf.forall loops on GPU blocks.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUDISTRIBUTELINALGTOBLOCKS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

bool insideBlockLoop(Operation *op) {
  for (auto forall = op->getParentOfType<scf::ForallOp>(); forall;
       forall = forall->getParentOfType<scf::ForallOp>())
    if (isBlockMapped(forall))
      return true;
  return false;
}

/// Tiles `op` by 1 along up to 3 of its non-unit parallel loops (all but the
/// innermost parallel loop, innermost first), mapped to blocks x, y, z; the
/// rest of the op (the innermost parallel loop, reductions) stays in the
/// block, where deltanet-gpu-map-to-threads spreads it over threads.
LogicalResult distribute(RewriterBase &rewriter, linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> parallel;
  for (int64_t d = 0, e = ranges.size(); d < e; ++d)
    if (iterators[d] == utils::IteratorType::parallel)
      parallel.push_back(d);
  SmallVector<int64_t> tiled;
  for (int64_t i = static_cast<int64_t>(parallel.size()) - 2;
       i >= 0 && tiled.size() < 3; --i)
    if (ranges[parallel[i]] != 1)
      tiled.push_back(parallel[i]);
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<OpFoldResult> tileSizes(ranges.size(), rewriter.getIndexAttr(0));
  for (int64_t d : tiled)
    tileSizes[d] = rewriter.getIndexAttr(1);
  // Loops are created outermost first: the innermost tiled loop is x.
  llvm::sort(tiled);
  static constexpr gpu::MappingId ids[] = {
      gpu::MappingId::DimX, gpu::MappingId::DimY, gpu::MappingId::DimZ};
  SmallVector<Attribute> mapping;
  for (size_t k = 0; k < tiled.size(); ++k)
    mapping.push_back(
        gpu::GPUBlockMappingAttr::get(ctx, ids[tiled.size() - 1 - k]));
  rewriter.setInsertionPoint(op);
  if (tiled.empty()) {
    // Too small to split: one block does it all.
    tileSizes.assign(ranges.size(), rewriter.getIndexAttr(0));
    if (!parallel.empty() && ranges[parallel[0]] > 0) {
      tileSizes[parallel[0]] = rewriter.getIndexAttr(ranges[parallel[0]]);
      mapping = {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)};
    } else {
      return op->emitOpError("has no parallel loop to put on the GPU grid");
    }
  }
  scf::SCFTilingOptions options;
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  options.setTileSizes(tileSizes);
  options.setMapping(mapping);
  FailureOr<scf::SCFTilingResult> result = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(result))
    return op->emitOpError("could not be distributed over GPU blocks");
  rewriter.replaceOp(op, result->replacements);
  return success();
}

struct DeltaNetGpuDistributeLinalgToBlocksPass
    : public deltanet::impl::DeltaNetGpuDistributeLinalgToBlocksBase<
          DeltaNetGpuDistributeLinalgToBlocksPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && !insideBlockLoop(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops)
      if (failed(distribute(rewriter, op)))
        return signalPassFailure();
  }
};

} // namespace
