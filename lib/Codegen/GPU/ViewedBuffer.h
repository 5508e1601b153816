//===- ViewedBuffer.h - The buffer a memref view reads or writes -*- C++ -*-===//
//
// Internal to the GPU codegen passes (MatmulsToMmaSync, AccumulatorEpilogue,
// CarryAccumulators): they compare the buffers that two accesses reach through
// subviews, reshapes and casts, and ask whether a view is in shared memory.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_LIB_CODEGEN_GPU_VIEWEDBUFFER_H
#define DELTANET_LIB_CODEGEN_GPU_VIEWEDBUFFER_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"

namespace mlir::deltanet {

/// The buffer that `value` views: upstream's memref::skipViewLikeOps
/// (subviews, reshapes and casts all implement ViewLikeOpInterface), or
/// `value` itself when it is not a memref.
inline Value getViewedBuffer(Value value) {
  if (auto memref = dyn_cast<TypedValue<BaseMemRefType>>(value))
    return memref::skipViewLikeOps(memref);
  return value;
}

/// True if `value` is a memref in shared (workgroup) memory (upstream's
/// gpu::GPUDialect::hasWorkgroupMemoryAddressSpace on its type).
inline bool inWorkgroupMemory(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type);
}

} // namespace mlir::deltanet

#endif // DELTANET_LIB_CODEGEN_GPU_VIEWEDBUFFER_H
