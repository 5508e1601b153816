//===- PromoteBlockTemporaries.cpp - Block temporaries in shared memory ---===//
//
// tensor.empty inside block-mapped scf.forall -> workgroup alloc_tensor.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUPROMOTEBLOCKTEMPORARIES
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct DeltaNetGpuPromoteBlockTemporariesPass
    : public deltanet::impl::DeltaNetGpuPromoteBlockTemporariesBase<
          DeltaNetGpuPromoteBlockTemporariesPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    auto workgroup = gpu::AddressSpaceAttr::get(
        ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
    SmallVector<tensor::EmptyOp> empties;
    getOperation()->walk([&](tensor::EmptyOp op) {
      auto forall = op->getParentOfType<scf::ForallOp>();
      while (forall && !isBlockMapped(forall))
        forall = forall->getParentOfType<scf::ForallOp>();
      if (forall && op.getType().hasStaticShape())
        empties.push_back(op);
    });
    IRRewriter rewriter(ctx);
    for (tensor::EmptyOp op : empties) {
      rewriter.setInsertionPoint(op);
      auto alloc = bufferization::AllocTensorOp::create(
          rewriter, op.getLoc(), op.getType(), ValueRange{});
      alloc.setMemorySpaceAttr(workgroup);
      rewriter.replaceOp(op, alloc.getResult());
    }
  }
};

} // namespace
