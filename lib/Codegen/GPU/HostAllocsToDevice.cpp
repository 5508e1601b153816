//===- HostAllocsToDevice.cpp - Host-side buffers in device memory --------===//
//
// Buffers that bufferization allocated in host code (temporaries between
// kernels) are only ever touched by kernels: memref.alloc -> gpu.alloc, freed
// with gpu.dealloc before the function returns; whole-buffer host copies
// become device-to-device gpu.memcpy.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUHOSTALLOCSTODEVICE
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct DeltaNetGpuHostAllocsToDevicePass
    : public deltanet::impl::DeltaNetGpuHostAllocsToDeviceBase<
          DeltaNetGpuHostAllocsToDevicePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());
    bool failed = false;
    // Whole-buffer copies between device buffers (a result that could not
    // be computed in its destination) -> device-to-device gpu.memcpy.
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp copy) {
      if (!copy->getParentOfType<gpu::LaunchOp>())
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (!source.getLayout().isIdentity() || !target.getLayout().isIdentity())
        continue; // reported below
      rewriter.setInsertionPoint(copy);
      gpu::MemcpyOp::create(rewriter, copy.getLoc(), /*asyncToken=*/Type(),
                            ValueRange{}, copy.getTarget(), copy.getSource());
      rewriter.eraseOp(copy);
    }
    // Host code may only reshape device buffers and launch kernels.
    func.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (isa<memref::CopyOp, memref::LoadOp, memref::StoreOp>(op) ||
          isa<linalg::LinalgOp>(op)) {
        op->emitOpError("would run on the host on device memory: the GPU "
                        "pipeline could not put it in a kernel");
        failed = true;
      }
    });
    if (failed)
      return signalPassFailure();
    SmallVector<memref::AllocOp> allocs;
    func.walk([&](memref::AllocOp alloc) {
      if (!alloc->getParentOfType<gpu::LaunchOp>())
        allocs.push_back(alloc);
    });
    if (allocs.empty())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitOpError("device temporaries need a single-block function");
      return signalPassFailure();
    }
    Operation *ret = func.getBody().front().getTerminator();
    for (memref::AllocOp alloc : allocs) {
      // `alloc` is erased by replaceOp below: keep its location.
      Location loc = alloc.getLoc();
      rewriter.setInsertionPoint(alloc);
      auto device = gpu::AllocOp::create(
          rewriter, loc, alloc.getType(), /*asyncToken=*/Type(),
          /*asyncDependencies=*/ValueRange{}, alloc.getDynamicSizes(),
          alloc.getSymbolOperands(), /*hostShared=*/false);
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          rewriter.eraseOp(user);
      rewriter.replaceOp(alloc, device.getMemref());
      rewriter.setInsertionPoint(ret);
      gpu::DeallocOp::create(rewriter, loc, /*asyncToken=*/Type(),
                             ValueRange{}, device.getMemref());
    }
  }
};

} // namespace
