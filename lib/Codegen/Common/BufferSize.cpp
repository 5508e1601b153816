//===- BufferSize.cpp - Bytes of a statically shaped buffer ---------------===//
//
// Implements getStaticBufferBytes.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/Common/BufferSize.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

std::optional<int64_t> mlir::deltanet::getStaticBufferBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t elementBytes =
      llvm::divideCeil(type.getElementTypeBitWidth(), uint64_t{8});
  return type.getNumElements() * elementBytes;
}
