//===- DeltaNetOps.cpp - DeltaNet operations and their verifiers ----------===//
//
// Implements the operations of the deltanet dialect, chiefly their verifiers.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::deltanet;

/// Whether `type` is one of the floating-point types deltanet ops compute on.
static bool isSupportedFloat(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

//===----------------------------------------------------------------------===//
// TriInvOp
//===----------------------------------------------------------------------===//

LogicalResult TriInvOp::verify() {
  RankedTensorType type = getA().getType();
  if (type.getRank() < 2)
    return emitOpError("operand must have rank >= 2 (batch dims followed by "
                       "a C x C matrix), got rank ")
           << type.getRank();
  if (!isSupportedFloat(type.getElementType()))
    return emitOpError("element type must be f32, f16 or bf16, got ")
           << type.getElementType();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rows = shape[shape.size() - 2], cols = shape.back();
  if (ShapedType::isDynamic(rows) || ShapedType::isDynamic(cols))
    return emitOpError("trailing matrix dims must be static, got ") << type;
  if (rows != cols)
    return emitOpError("trailing matrix must be square, got ")
           << rows << "x" << cols;
  if (rows < 1)
    return emitOpError("matrix size must be at least 1, got ") << rows;

  if (std::optional<int64_t> blockSize = getBlockSizeValue()) {
    if (*blockSize < 1 || !llvm::isPowerOf2_64(*blockSize))
      return emitOpError("block_size must be a positive power of two, got ")
             << *blockSize;
    if (rows % *blockSize != 0)
      return emitOpError("block_size ")
             << *blockSize << " does not divide the matrix size " << rows;
    if (getStrategy() && *getStrategy() != TriInvStrategy::Blocked)
      return emitOpError("block_size only applies to the 'blocked' "
                         "strategy, but strategy is '")
             << stringifyTriInvStrategy(*getStrategy()) << "'";
  }
  if (std::optional<int64_t> order = getOrderValue()) {
    if (*order < 1)
      return emitOpError("order must be >= 1, got ") << *order;
    if (getStrategy() && *getStrategy() == TriInvStrategy::ForwardSubstitution)
      return emitOpError("order does not apply to the 'forward_substitution' "
                         "strategy, which is exact");
  }
  if (std::optional<int64_t> steps = getResidualStepsValue())
    if (*steps < 0)
      return emitOpError("residual_steps must be >= 0, got ") << *steps;
  return success();
}

#define GET_OP_CLASSES
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.cpp.inc"
