//===- GatedDeltaRuleUtils.cpp - Shared gated delta rule pieces -----------===//
//
// Implements IR building blocks shared by the chunk and recurrent lowerings.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/Utils/GatedDeltaRuleUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::deltanet;

Value mlir::deltanet::l2NormalizeLastDim(StructuredBuilder &sb, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = sb.getContext();
  Type f32 = sb.f32();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap dropLast = identity.dropResult(rank - 1);

  // Sum of squares along the last dim.
  SmallVector<OpFoldResult> sizes = sb.dims(x);
  SmallVector<OpFoldResult> reducedSizes(sizes.begin(), sizes.end() - 1);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  Value sumSq =
      sb.generic(x, sb.zeros(reducedSizes), {identity, dropLast}, iterators,
                 [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                   Value v =
                       StructuredBuilder::castFloat(nb, loc, args[0], f32);
                   Value sq = arith::MulFOp::create(nb, loc, v, v);
                   return arith::AddFOp::create(nb, loc, args[1], sq);
                 });
  return sb.map(ValueRange{x, sumSq}, {identity, dropLast}, sizes, f32,
                [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                  Value v = StructuredBuilder::castFloat(nb, loc, args[0], f32);
                  Value eps =
                      StructuredBuilder::f32Constant(nb, loc, kL2NormEpsilon);
                  Value rstd = math::RsqrtOp::create(
                      nb, loc, arith::AddFOp::create(nb, loc, args[1], eps));
                  return arith::MulFOp::create(nb, loc, v, rstd);
                });
}

void mlir::deltanet::replaceGatedDeltaRuleOp(RewriterBase &rewriter,
                                             StructuredBuilder &sb,
                                             Operation *op, Value o,
                                             Value finalState) {
  SmallVector<Value> results;
  for (auto [value, result] :
       llvm::zip_equal(ValueRange{o, finalState}, op->getResults())) {
    auto type = cast<RankedTensorType>(result.getType());
    value = sb.convertElementType(value, type.getElementType());
    if (value.getType() != type)
      value = tensor::CastOp::create(rewriter, op->getLoc(), type, value);
    results.push_back(value);
  }
  rewriter.replaceOp(op, results);
}
