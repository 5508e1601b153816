//===- MemRefCall.h - Call compiled functions on dense arrays ---*- C++ -*-===//
//
// Builds the memref descriptors of MLIR's C interface from dense row-major
// arrays, calls `_mlir_ciface_*` wrappers, and says who owns the results.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_RUNTIME_MEMREFCALL_H
#define DELTANET_RUNTIME_MEMREFCALL_H

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace mlir {
namespace deltanet {

/// A dense row-major array passed to a compiled function as a memref.
struct DenseArray {
  void *data;
  std::vector<int64_t> shape;
};

/// A memref a compiled function returned, of any rank and element type.
struct ReturnedMemRef {
  void *allocated = nullptr;
  void *aligned = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  /// Whether the caller owns `allocated` (malloc'ed by the callee for this
  /// result) and must free() it. Otherwise the buffer is a global, one of
  /// the inputs, or an earlier result of the same call: copy what you need.
  bool owned = false;
};

/// Calls `packed`, an ExecutionEngine-packed `_mlir_ciface_<name>` wrapper
/// (`ExecutionEngine::lookupPacked`), with identity-layout memref
/// descriptors of `args`, and decodes its results, whose ranks are
/// `resultRanks` (one result: returned directly; several: one struct).
std::vector<ReturnedMemRef> callPacked(void (*packed)(void **),
                                       const std::vector<DenseArray> &args,
                                       const std::vector<int64_t> &resultRanks);

/// Decides `owned` for `results` of a call on `args`, in place (see
/// ReturnedMemRef::owned).
void markOwnership(std::vector<ReturnedMemRef> &results,
                   const std::vector<DenseArray> &args);

/// An identity-layout descriptor of a dense row-major array, for callers
/// of typed `_mlir_ciface_*` function pointers.
template <typename T, int Rank>
StridedMemRefType<T, Rank> makeMemRef(T *data,
                                      const std::array<int64_t, Rank> &sizes) {
  StridedMemRefType<T, Rank> ref;
  ref.basePtr = ref.data = data;
  ref.offset = 0;
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    ref.sizes[i] = sizes[i];
    ref.strides[i] = stride;
    stride *= sizes[i];
  }
  return ref;
}

/// Frees a result that a typed call returned, unless it aliases `input`
/// (the callee may return an input or a global as is).
template <typename T, int Rank>
void releaseResult(StridedMemRefType<T, Rank> &result, const void *input) {
  if (result.basePtr && result.basePtr != input &&
      reinterpret_cast<uintptr_t>(result.basePtr) != 0xdeadbeef)
    free(result.basePtr);
  result.basePtr = result.data = nullptr;
}

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_RUNTIME_MEMREFCALL_H
