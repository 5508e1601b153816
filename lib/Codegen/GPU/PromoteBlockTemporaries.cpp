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
      bool pad = rowPadding > 0 && rank >= 2 && wordsPerRow > 0 &&
                 wordsPerRow % 32 == 0;
      SmallVector<int64_t> shape(type.getShape());
      if (pad)
        shape.back() += rowPadding;
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
  }
};

} // namespace
