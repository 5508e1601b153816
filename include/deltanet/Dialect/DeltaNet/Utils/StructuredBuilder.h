//===- StructuredBuilder.h - Helpers to emit linalg on tensors --*- C++ -*-===//
//
// Small builders for the tensor-level linalg IR the deltanet lowerings emit.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_UTILS_STRUCTUREDBUILDER_H
#define DELTANET_DIALECT_DELTANET_UTILS_STRUCTUREDBUILDER_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace deltanet {

/// Emits linalg/tensor ops at one location. Sizes are `OpFoldResult`s so
/// static and dynamic dimensions are handled alike.
class StructuredBuilder {
public:
  /// Body of a linalg.generic: gets the scalar block arguments (inputs then
  /// output) and returns the value to yield.
  using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

  StructuredBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpBuilder &builder() { return b; }
  Location getLoc() { return loc; }
  MLIRContext *getContext() { return b.getContext(); }
  Type f32() { return b.getF32Type(); }

  /// An f32 constant, inside or outside a region body.
  static Value f32Constant(OpBuilder &nb, Location nloc, float value);

  /// Size `i` of tensor `t` (constant if static).
  OpFoldResult dim(Value t, int64_t i);
  /// All sizes of tensor `t`.
  SmallVector<OpFoldResult> dims(Value t);
  /// `a * factor`, folded when `a` is constant.
  OpFoldResult mul(OpFoldResult a, int64_t factor);
  /// `a * c`, folded when both are constant.
  OpFoldResult mul(OpFoldResult a, OpFoldResult c);
  /// `ceil(a / divisor)`, folded when `a` is constant.
  OpFoldResult ceilDiv(OpFoldResult a, int64_t divisor);
  /// `a - c`, folded when both are constant.
  OpFoldResult sub(OpFoldResult a, OpFoldResult c);

  /// An uninitialised tensor.
  Value empty(ArrayRef<OpFoldResult> sizes, Type elementType);
  /// A tensor of zeros of `elementType` (f32 when null).
  Value zeros(ArrayRef<OpFoldResult> sizes, Type elementType = {});
  /// A tensor whose every element is `value` (of the tensor's element type).
  Value splat(ArrayRef<OpFoldResult> sizes, TypedAttr value);

  /// A linalg.generic with one output `init`; `maps` lists the indexing
  /// maps of `inputs` then of `init`.
  Value generic(ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators, BodyFn body);
  /// An elementwise linalg.generic: `inputs[i]` is read through `maps[i]`
  /// (identity when null), the output has `sizes` and `elementType` and is
  /// indexed by the identity.
  Value map(ValueRange inputs, ArrayRef<AffineMap> maps,
            ArrayRef<OpFoldResult> sizes, Type elementType, BodyFn body);

  /// `t` with its float elements converted to `elementType` (`t` itself if
  /// they already are).
  Value convertElementType(Value t, Type elementType);

  /// `acc + lhs @ rhs` batched over dim 0 (`lhs @ rhs` if `acc` is null).
  Value batchMatmul(Value lhs, Value rhs, Value acc = nullptr);

  /// Collapses the leading `count` dims of `x` into one.
  Value collapseLeading(Value x, int64_t count);
  /// Expands dim 0 of `x` into dims of sizes `leading`.
  Value expandLeading(Value x, ArrayRef<OpFoldResult> leading);

  /// Affine map helper: `numDims` dims to `exprs`.
  AffineMap affineMap(unsigned numDims, ArrayRef<AffineExpr> exprs);

  /// Widens (or narrows) a float scalar to `type`; no-op if already there.
  static Value castFloat(OpBuilder &nb, Location nloc, Value v, Type type);

private:
  OpBuilder &b;
  Location loc;
};

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_DIALECT_DELTANET_UTILS_STRUCTUREDBUILDER_H
