//===- PrecisionMatmul.cpp - Batched matmuls in a chosen precision --------===//
//
// Rounds or quantises the operands of one batched matmul, multiplies them
// with an f32 (or i32, rescaled) accumulator.
//
//===----------------------------------------------------------------------===//

#include "PrecisionMatmul.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace mlir::deltanet;

/// `acc + lhs @ rhs` in INT8: both operands quantised with their own scales
/// (per row of `lhs` and column of `rhs`, or per matrix), an i8 x i8 -> i32
/// batched matmul, and the accumulator rescaled to f32.
static Value quantizedMatmul(StructuredBuilder &sb, Value lhs, Value rhs,
                             Value acc, QuantGranularity granularity) {
  bool perRow = granularity == QuantGranularity::Row;
  auto quantize = [&](Value x, ArrayRef<int64_t> reductionDims) {
    auto type = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> scaleShape;
    for (int64_t dim = 0; dim < type.getRank(); ++dim)
      if (!llvm::is_contained(reductionDims, dim))
        scaleShape.push_back(type.getDimSize(dim));
    OpBuilder &b = sb.builder();
    return QuantizeOp::create(
        b, sb.getLoc(), type.clone(b.getI8Type()),
        RankedTensorType::get(scaleShape, b.getF32Type()), x, reductionDims);
  };
  QuantizeOp qa =
      quantize(lhs, perRow ? ArrayRef<int64_t>{2} : ArrayRef<int64_t>{1, 2});
  QuantizeOp qb =
      quantize(rhs, perRow ? ArrayRef<int64_t>{1} : ArrayRef<int64_t>{1, 2});
  OpBuilder &b = sb.builder();
  SmallVector<OpFoldResult> sizes = {sb.dim(lhs, 0), sb.dim(lhs, 1),
                                     sb.dim(rhs, 2)};
  Value product = sb.batchMatmul(qa.getQuantized(), qb.getQuantized(),
                                 sb.zeros(sizes, b.getI32Type()));
  auto productType = cast<RankedTensorType>(product.getType());
  Value result =
      DequantizeOp::create(b, sb.getLoc(), productType.clone(b.getF32Type()),
                           product, qa.getScale(), qb.getScale());
  if (!acc)
    return result;
  return sb.map(
      ValueRange{acc, result}, {}, sizes, b.getF32Type(),
      [](OpBuilder &nb, Location nloc, ValueRange args) {
        return arith::AddFOp::create(nb, nloc, args[0], args[1]).getResult();
      });
}

Value mlir::deltanet::emitPrecisionMatmul(StructuredBuilder &sb, Value lhs,
                                          Value rhs, Value acc,
                                          TriInvPrecision precision,
                                          QuantGranularity granularity) {
  MLIRContext *ctx = sb.getContext();
  switch (precision) {
  case TriInvPrecision::F32:
    return sb.batchMatmul(lhs, rhs, acc);
  case TriInvPrecision::BF16:
  case TriInvPrecision::F16: {
    Type type = precision == TriInvPrecision::BF16
                    ? Type(BFloat16Type::get(ctx))
                    : Type(Float16Type::get(ctx));
    return sb.batchMatmul(sb.convertElementType(lhs, type),
                          sb.convertElementType(rhs, type), acc);
  }
  case TriInvPrecision::I8:
    return quantizedMatmul(sb, lhs, rhs, acc, granularity);
  }
  llvm_unreachable("unknown precision");
}
