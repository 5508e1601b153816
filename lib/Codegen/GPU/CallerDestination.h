//===- CallerDestination.h - Results computed in the caller's buffer ----===//
//
// Internal to the hand-written GPU chains (deltanet-gpu-lower-chunk-*-to-mma-
// chain): a result tensor whose only reader copies it into a function
// argument (`bufferization.materialize_in_destination ... restrict writable`,
// optionally through one tensor.expand_shape) can be computed in that
// argument's memory instead of a fresh buffer that one-shot bufferization
// then copies (a device-to-device memcpy per call).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_LIB_CODEGEN_GPU_CALLERDESTINATION_H
#define DELTANET_LIB_CODEGEN_GPU_CALLERDESTINATION_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {

/// The copy of a result into the caller's buffer, and the reshape between.
struct CallerDestination {
  bufferization::MaterializeInDestinationOp fill;
  /// Null when the result itself is materialized.
  tensor::ExpandShapeOp expand;

  explicit operator bool() const { return static_cast<bool>(fill); }

  /// The argument's memory in the result's shape (collapsed back where the
  /// result was expanded).
  Value buffer(OpBuilder &b, Location loc) const;
  /// Erases the copy and the reshape (the result then has no reader).
  void erase(RewriterBase &rewriter) const;
};

/// `result`'s caller destination: `result` (or its one tensor.expand_shape)
/// has one reader, a materialize_in_destination `restrict writable` into a
/// block argument (a function's memref argument) that has no other use.
/// Empty otherwise.
CallerDestination findCallerDestination(Value result);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_LIB_CODEGEN_GPU_CALLERDESTINATION_H
