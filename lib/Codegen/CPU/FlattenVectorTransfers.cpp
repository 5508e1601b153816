//===- FlattenVectorTransfers.cpp - n-D contiguous transfers as 1-D loads -===//
//
// Rewrites vector transfers of contiguous memref slices into 1-D transfers
// (upstream patterns), so that they lower to one vector load or store.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUFLATTENVECTORTRANSFERS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct DeltaNetCpuFlattenVectorTransfersPass
    : public deltanet::impl::DeltaNetCpuFlattenVectorTransfersBase<
          DeltaNetCpuFlattenVectorTransfersPass> {
  using Base::Base;

  void runOnOperation() override {
    // Upstream's contiguity check (vector::isContiguousSlice, MLIR 22) pairs
    // every vector dim with a trailing memref dim: a broadcasting transfer
    // whose vector has more dims than its memref (vector<1x1x64xf32> read
    // from memref<1x64xf32>) makes it compare a negative number of bytes
    // (found by ASan on chunk-precision=i8). Such transfers are first
    // rewritten by upstream's permutation-map lowering into a transfer of the
    // memref's rank and a broadcast / transpose, which the patterns below
    // then see.
    SmallVector<Operation *> broadcasting;
    getOperation()->walk([&](VectorTransferOpInterface transfer) {
      auto memref = dyn_cast<MemRefType>(transfer.getShapedType());
      if (memref && transfer.getVectorType().getRank() > memref.getRank())
        broadcasting.push_back(transfer);
    });
    if (!broadcasting.empty()) {
      RewritePatternSet lowering(&getContext());
      vector::populateVectorTransferPermutationMapLoweringPatterns(lowering);
      (void)applyOpPatternsGreedily(broadcasting, std::move(lowering));
    }

    RewritePatternSet patterns(&getContext());
    vector::populateFlattenVectorTransferPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    vector::ShapeCastOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
