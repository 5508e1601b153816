//===- FlattenVectorTransfers.cpp - n-D contiguous transfers as 1-D loads -===//
//
// Rewrites vector transfers of contiguous memref slices into 1-D transfers
// (upstream patterns), so that they lower to one vector load or store.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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
    RewritePatternSet patterns(&getContext());
    vector::populateFlattenVectorTransferPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    vector::ShapeCastOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
