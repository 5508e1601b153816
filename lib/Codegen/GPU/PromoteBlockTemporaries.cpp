//===- PromoteBlockTemporaries.cpp - Block temporaries in shared memory ---===//
//
// tensor.empty inside block-mapped scf.forall -> workgroup alloc_tensor;
// loop-carried tensors that end in shared memory start there too.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
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

/// Whether `value` will bufferize into a workgroup allocation: followed
/// through the destinations of the ops that write it (DPS inits, insertion
/// destinations, slice sources, loop inits) to the allocation.
bool isInSharedMemory(Value value) {
  while (value) {
    if (auto alloc = value.getDefiningOp<bufferization::AllocTensorOp>()) {
      auto space =
          dyn_cast_or_null<gpu::AddressSpaceAttr>(alloc.getMemorySpaceAttr());
      return space && space.getValue() == gpu::AddressSpace::Workgroup;
    }
    if (auto slice = value.getDefiningOp<tensor::ExtractSliceOp>()) {
      value = slice.getSource();
    } else if (auto insert = value.getDefiningOp<tensor::InsertSliceOp>()) {
      value = insert.getDest();
    } else if (auto dps = value.getDefiningOp<DestinationStyleOpInterface>()) {
      value = dps.getTiedOpOperand(cast<OpResult>(value))->get();
    } else if (auto arg = dyn_cast<BlockArgument>(value)) {
      auto loop = dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp());
      if (!loop || arg.getArgNumber() == 0)
        return false;
      value = loop.getInitArgs()[arg.getArgNumber() - 1];
    } else {
      return false;
    }
  }
  return false;
}

/// An scf.for inside a block whose carried tensor ends each iteration in
/// shared memory (its update writes a promoted temporary) but starts
/// elsewhere (a slice of a device-memory operand, e.g. the recurrent op's
/// initial state) cannot be bufferized: a loop-carried buffer has one
/// memory space. The start is copied into shared memory first (what
/// bufferization would have to do anyway: the loop overwrites its state).
void startCarriedTensorsInSharedMemory(Operation *root,
                                       gpu::AddressSpaceAttr workgroup) {
  SmallVector<scf::ForOp> loops;
  root->walk([&](scf::ForOp loop) {
    if (isInsideBlockLoop(loop))
      loops.push_back(loop);
  });
  IRRewriter rewriter(root->getContext());
  for (scf::ForOp loop : loops) {
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    for (OpOperand &init : loop.getInitArgsMutable()) {
      unsigned i = init.getOperandNumber() - loop.getNumControlOperands();
      auto type = dyn_cast<RankedTensorType>(init.get().getType());
      if (!type || !type.hasStaticShape() || isInSharedMemory(init.get()) ||
          !isInSharedMemory(yield.getOperand(i)))
        continue;
      rewriter.setInsertionPoint(loop);
      auto copy = bufferization::AllocTensorOp::create(
          rewriter, loop.getLoc(), type, ValueRange{}, /*copy=*/init.get());
      copy.setMemorySpaceAttr(workgroup);
      init.set(copy.getResult());
    }
  }
}

struct DeltaNetGpuPromoteBlockTemporariesPass
    : public deltanet::impl::DeltaNetGpuPromoteBlockTemporariesBase<
          DeltaNetGpuPromoteBlockTemporariesPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (narrowRowBytes < 32 || narrowRowBytes % 32 != 0) {
      getOperation()->emitError("deltanet-gpu-promote-block-temporaries: "
                                "narrow-row-bytes must be a positive "
                                "multiple of 32, got ")
          << static_cast<int64_t>(narrowRowBytes);
      return signalPassFailure();
    }
    auto workgroup = gpu::AddressSpaceAttr::get(
        ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
    SmallVector<tensor::EmptyOp> empties;
    getOperation()->walk([&](tensor::EmptyOp op) {
      if (op.getType().hasStaticShape() && isInsideBlockLoop(op))
        empties.push_back(op);
    });
    IRRewriter rewriter(ctx);
    for (tensor::EmptyOp op : empties) {
      rewriter.setInsertionPoint(op);
      RankedTensorType type = op.getType();
      // Rows of a multiple of 32 words put a column in one shared-memory
      // bank: the lanes of a warp that read one column (a tensor-core
      // fragment: 8 rows x 4 columns) would be serialised. A padded
      // allocation, used through a slice, spreads them over the banks.
      int64_t rank = type.getRank();
      int64_t wordsPerRow =
          rank >= 2 ? type.getDimSize(rank - 1) *
                          type.getElementTypeBitWidth() / 32
                    : 0;
      bool narrow = type.getElementTypeBitWidth() == 16;
      bool pad = rowPadding > 0 && rank >= 2 && wordsPerRow > 0 &&
                 wordsPerRow % (narrow ? narrowRowBytes / 4 : 32) == 0;
      SmallVector<int64_t> shape(type.getShape());
      // 16-bit rows get twice the elements (the same bytes as 32-bit
      // ones), so that they stay 16-byte aligned: ldmatrix reads rows of
      // 16 bytes (deltanet-gpu-matmuls-to-mma-sync).
      if (pad)
        shape.back() +=
            rowPadding * (narrow ? 2 : 1);
      auto alloc = bufferization::AllocTensorOp::create(
          rewriter, op.getLoc(), type.clone(shape), ValueRange{});
      alloc.setMemorySpaceAttr(workgroup);
      Value replacement = alloc.getResult();
      if (pad) {
        SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
        SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
        replacement = tensor::ExtractSliceOp::create(
            rewriter, op.getLoc(), type, replacement, offsets,
            getAsIndexOpFoldResult(ctx, type.getShape()), strides);
      }
      rewriter.replaceOp(op, replacement);
    }
    startCarriedTensorsInSharedMemory(getOperation(), workgroup);
  }
};

} // namespace
