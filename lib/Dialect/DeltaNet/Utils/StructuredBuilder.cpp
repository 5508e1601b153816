//===- StructuredBuilder.cpp - Helpers to emit linalg on tensors ----------===//
//
// Implements the small builders shared by the deltanet lowerings.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::deltanet;

Value StructuredBuilder::f32Constant(OpBuilder &nb, Location nloc,
                                     float value) {
  return arith::ConstantOp::create(nb, nloc, nb.getF32FloatAttr(value));
}

OpFoldResult StructuredBuilder::dim(Value t, int64_t i) {
  return tensor::getMixedSize(b, loc, t, i);
}

SmallVector<OpFoldResult> StructuredBuilder::dims(Value t) {
  return tensor::getMixedSizes(b, loc, t);
}

OpFoldResult StructuredBuilder::mul(OpFoldResult a, int64_t factor) {
  return mul(a, b.getIndexAttr(factor));
}

OpFoldResult StructuredBuilder::mul(OpFoldResult a, OpFoldResult c) {
  std::optional<int64_t> x = getConstantIntValue(a), y = getConstantIntValue(c);
  if (x && y)
    return b.getIndexAttr(*x * *y);
  return arith::MulIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, a),
                               getValueOrCreateConstantIndexOp(b, loc, c))
      .getResult();
}

OpFoldResult StructuredBuilder::ceilDiv(OpFoldResult a, int64_t divisor) {
  if (std::optional<int64_t> x = getConstantIntValue(a))
    return b.getIndexAttr((*x + divisor - 1) / divisor);
  Value d = arith::ConstantIndexOp::create(b, loc, divisor);
  return arith::CeilDivUIOp::create(
             b, loc, getValueOrCreateConstantIndexOp(b, loc, a), d)
      .getResult();
}

OpFoldResult StructuredBuilder::sub(OpFoldResult a, OpFoldResult c) {
  std::optional<int64_t> x = getConstantIntValue(a), y = getConstantIntValue(c);
  if (x && y)
    return b.getIndexAttr(*x - *y);
  return arith::SubIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, a),
                               getValueOrCreateConstantIndexOp(b, loc, c))
      .getResult();
}

Value StructuredBuilder::empty(ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value StructuredBuilder::zeros(ArrayRef<OpFoldResult> sizes, Type elementType) {
  if (!elementType)
    elementType = f32();
  return splat(sizes, cast<TypedAttr>(b.getZeroAttr(elementType)));
}

Value StructuredBuilder::splat(ArrayRef<OpFoldResult> sizes, TypedAttr value) {
  Value scalar = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, ValueRange{scalar},
                                ValueRange{empty(sizes, value.getType())})
      .getResult(0);
}

Value StructuredBuilder::generic(ValueRange inputs, Value init,
                                 ArrayRef<AffineMap> maps,
                                 ArrayRef<utils::IteratorType> iterators,
                                 BodyFn body) {
  return linalg::GenericOp::create(
             b, loc, init.getType(), inputs, ValueRange{init}, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
             })
      .getResult(0);
}

Value StructuredBuilder::map(ValueRange inputs, ArrayRef<AffineMap> maps,
                             ArrayRef<OpFoldResult> sizes, Type elementType,
                             BodyFn body) {
  unsigned rank = sizes.size();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, getContext());
  SmallVector<AffineMap> allMaps;
  for (size_t i = 0; i < inputs.size(); ++i)
    allMaps.push_back(i < maps.size() && maps[i] ? maps[i] : identity);
  allMaps.push_back(identity);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return generic(inputs, empty(sizes, elementType), allMaps, iterators, body);
}

Value StructuredBuilder::convertElementType(Value t, Type elementType) {
  if (cast<ShapedType>(t.getType()).getElementType() == elementType)
    return t;
  return map(t, {}, dims(t), elementType,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               return castFloat(nb, nloc, args[0], elementType);
             });
}

Value StructuredBuilder::batchMatmul(Value lhs, Value rhs, Value acc) {
  if (!acc)
    acc = zeros({dim(lhs, 0), dim(lhs, 1), dim(rhs, 2)});
  return linalg::BatchMatmulOp::create(b, loc, TypeRange{acc.getType()},
                                       ValueRange{lhs, rhs}, ValueRange{acc})
      .getResult(0);
}

/// Collapses the leading `count` dims of `x` into one.
Value StructuredBuilder::collapseLeading(Value x, int64_t count) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<ReassociationIndices> reassoc;
  reassoc.push_back(llvm::to_vector(llvm::seq<int64_t>(0, count)));
  for (int64_t i = count; i < rank; ++i)
    reassoc.push_back({i});
  return tensor::CollapseShapeOp::create(b, loc, x, reassoc);
}

Value StructuredBuilder::expandLeading(Value x,
                                       ArrayRef<OpFoldResult> leading) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<ReassociationIndices> reassoc;
  reassoc.push_back(llvm::to_vector(
      llvm::seq<int64_t>(0, static_cast<int64_t>(leading.size()))));
  SmallVector<OpFoldResult> sizes(leading);
  SmallVector<int64_t> shape;
  for (OpFoldResult s : leading)
    shape.push_back(getConstantIntValue(s).value_or(ShapedType::kDynamic));
  for (int64_t i = 1; i < type.getRank(); ++i) {
    reassoc.push_back({static_cast<int64_t>(leading.size()) + i - 1});
    sizes.push_back(dim(x, i));
    shape.push_back(type.getDimSize(i));
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  // MLIR 22's expand-strided-metadata crashes on a memref.expand_shape
  // that splits one dim into several dynamic ones; such expansions use
  // tensor.reshape (memref.reshape after bufferization) instead.
  if (llvm::count(ArrayRef<int64_t>(shape).take_front(leading.size()),
                  ShapedType::kDynamic) > 1) {
    SmallVector<Value> dims = llvm::map_to_vector(sizes, [&](OpFoldResult s) {
      return getValueOrCreateConstantIndexOp(b, loc, s);
    });
    Value shapeTensor = tensor::FromElementsOp::create(b, loc, dims);
    return tensor::ReshapeOp::create(b, loc, resultType, x, shapeTensor);
  }
  return tensor::ExpandShapeOp::create(b, loc, resultType, x, reassoc, sizes);
}

AffineMap StructuredBuilder::affineMap(unsigned numDims,
                                       ArrayRef<AffineExpr> exprs) {
  return AffineMap::get(numDims, 0, exprs, getContext());
}

Value StructuredBuilder::castFloat(OpBuilder &nb, Location nloc, Value v,
                                   Type type) {
  Type from = v.getType();
  if (from == type)
    return v;
  if (from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(nb, nloc, type, v);
  return arith::TruncFOp::create(nb, nloc, type, v);
}
