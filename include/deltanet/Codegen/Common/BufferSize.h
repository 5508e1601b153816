//===- BufferSize.h - Bytes of a statically shaped buffer -------*- C++ -*-===//
//
// The number of bytes a statically shaped memref occupies once lowered,
// shared by the passes that decide where a buffer lives (stack or heap,
// packed with others, cached or prefetched).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_COMMON_BUFFERSIZE_H
#define DELTANET_CODEGEN_COMMON_BUFFERSIZE_H

#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>

namespace mlir {
namespace deltanet {

/// The bytes of a buffer of `type` as the memref-to-LLVM lowering allocates
/// it (each element rounded up to whole bytes: an i1 takes one), or nullopt
/// when the shape is dynamic or the element type has no bit width (index,
/// vectors, structs).
std::optional<int64_t> getStaticBufferBytes(MemRefType type);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_COMMON_BUFFERSIZE_H
