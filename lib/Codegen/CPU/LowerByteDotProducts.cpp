//===- LowerByteDotProducts.cpp - u8 x s8 dot products of 4 as vpdpbusd ---===//
//
// Rewrites the portable spelling of an unsigned x signed byte dot product of
// 4 per i32 lane (muli of extui / extsi, multi_reduction <add>) into the
// AVX512_VNNI vpdpbusd intrinsic.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPULOWERBYTEDOTPRODUCTS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The i8 vector that `value` extends by an `ExtOp` (`arith.extui` or
/// `arith.extsi`), or null.
template <typename ExtOp>
Value extendedBytes(Value value) {
  auto ext = value.getDefiningOp<ExtOp>();
  if (!ext || !getElementTypeOrSelf(ext.getIn().getType()).isInteger(8))
    return nullptr;
  return ext.getIn();
}

/// `acc + sum_t zext(x)[i, t] * sext(y)[i, t]` over `W x 4` i8 vectors as
/// `llvm.x86.avx512.vpdpbusd.{32W}(acc, x, y)` on `4W` bytes.
struct MultiReductionToVpdpbusd
    : public OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKind() != vector::CombiningKind::ADD)
      return rewriter.notifyMatchFailure(op, "not a sum");
    VectorType sourceType = op.getSourceVectorType();
    if (sourceType.getRank() != 2 || sourceType.isScalable() ||
        sourceType.getDimSize(1) != 4 ||
        !sourceType.getElementType().isInteger(32) ||
        op.getReductionDims() != ArrayRef<int64_t>{1})
      return rewriter.notifyMatchFailure(
          op, "not a W x 4 i32 sum over the inner dim");
    int64_t lanes = sourceType.getDimSize(0);
    if (lanes != 16 && lanes != 8 && lanes != 4)
      return rewriter.notifyMatchFailure(op, "W is not 16, 8 or 4");
    auto product = op.getSource().getDefiningOp<arith::MulIOp>();
    if (!product)
      return rewriter.notifyMatchFailure(op, "not a sum of products");
    Value unsignedBytes = extendedBytes<arith::ExtUIOp>(product.getLhs());
    Value signedBytes = extendedBytes<arith::ExtSIOp>(product.getRhs());
    if (!unsignedBytes || !signedBytes) {
      unsignedBytes = extendedBytes<arith::ExtUIOp>(product.getRhs());
      signedBytes = extendedBytes<arith::ExtSIOp>(product.getLhs());
    }
    if (!unsignedBytes || !signedBytes)
      return rewriter.notifyMatchFailure(
          op, "not a product of zero- and sign-extended bytes");
    Location loc = op.getLoc();
    auto flat = VectorType::get({4 * lanes}, rewriter.getI8Type());
    Value x = vector::ShapeCastOp::create(rewriter, loc, flat, unsignedBytes);
    Value y = vector::ShapeCastOp::create(rewriter, loc, flat, signedBytes);
    std::string name =
        "llvm.x86.avx512.vpdpbusd." + std::to_string(32 * lanes);
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, TypeRange{op.getType()}, rewriter.getStringAttr(name),
        ValueRange{op.getAcc(), x, y}, LLVM::FastmathFlagsAttr());
    return success();
  }
};

struct DeltaNetCpuLowerByteDotProductsPass
    : public deltanet::impl::DeltaNetCpuLowerByteDotProductsBase<
          DeltaNetCpuLowerByteDotProductsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MultiReductionToVpdpbusd>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
