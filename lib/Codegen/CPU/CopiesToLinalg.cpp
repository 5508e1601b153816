//===- CopiesToLinalg.cpp - Strided memref.copy into linalg.copy ----------===//
//
// Keeps strided copies out of the element-by-element memrefCopy runtime.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUCOPIESTOLINALG
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// memref.copy %src, %dst with a non-identity layout on either side ->
/// linalg.copy ins(%src) outs(%dst).
struct StridedCopyToLinalgCopy : public OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto source = dyn_cast<MemRefType>(op.getSource().getType());
    auto target = dyn_cast<MemRefType>(op.getTarget().getType());
    if (!source || !target)
      return rewriter.notifyMatchFailure(op, "unranked memref copy");
    if (source.getLayout().isIdentity() && target.getLayout().isIdentity())
      return rewriter.notifyMatchFailure(
          op, "contiguous copy: memref-to-llvm emits memcpy");
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct DeltaNetCpuCopiesToLinalgPass
    : public deltanet::impl::DeltaNetCpuCopiesToLinalgBase<
          DeltaNetCpuCopiesToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateCopiesToLinalgPatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateCopiesToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<StridedCopyToLinalgCopy>(patterns.getContext());
}
