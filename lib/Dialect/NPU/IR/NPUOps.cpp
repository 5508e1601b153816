//===- NPUOps.cpp - npu op verifiers --------------------------------------===//
//
// Shape and element-type rules of local buffers, DMA and tile products.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/NPU/IR/NPUOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::deltanet::npu;

LogicalResult AllocLocalOp::verify() {
  MemRefType type = getBuffer().getType();
  if (!type.getLayout().isIdentity())
    return emitOpError("local buffers have the identity layout");
  return success();
}

LogicalResult DmaOp::verify() {
  auto source = cast<MemRefType>(getSource().getType());
  auto target = cast<MemRefType>(getTarget().getType());
  if (source.getRank() != 2 || target.getRank() != 2)
    return emitOpError("copies 2-D windows, got ranks ")
           << source.getRank() << " and " << target.getRank();
  if (source.getElementType() != target.getElementType())
    return emitOpError("source and target element types differ: ")
           << source.getElementType() << " vs " << target.getElementType();
  return success();
}

LogicalResult MatmulOp::verify() {
  auto lhs = cast<MemRefType>(getLhs().getType());
  auto rhs = cast<MemRefType>(getRhs().getType());
  auto acc = cast<MemRefType>(getAcc().getType());
  for (MemRefType t : {lhs, rhs, acc})
    if (t.getRank() != 2 || !t.hasStaticShape())
      return emitOpError("tiles are statically shaped 2-D buffers, got ") << t;
  if (lhs.getDimSize(1) != rhs.getDimSize(0) ||
      lhs.getDimSize(0) != acc.getDimSize(0) ||
      rhs.getDimSize(1) != acc.getDimSize(1))
    return emitOpError("tile shapes do not compose: ")
           << lhs << " x " << rhs << " -> " << acc;
  Type a = lhs.getElementType(), b = rhs.getElementType(),
       c = acc.getElementType();
  bool f16 = a.isF16() && b.isF16() && c.isF32();
  bool i8 = a.isInteger(8) && b.isInteger(8) && c.isInteger(32);
  if (!f16 && !i8)
    return emitOpError("the matrix unit multiplies f16 x f16 -> f32 or "
                       "i8 x i8 -> i32, got ")
           << a << " x " << b << " -> " << c;
  return success();
}

LogicalResult VectorOp::verify() {
  if (getBody().front().getNumArguments() != 0)
    return emitOpError("body takes no arguments");
  return success();
}

#define GET_OP_CLASSES
#include "deltanet/Dialect/NPU/IR/NPUOps.cpp.inc"
