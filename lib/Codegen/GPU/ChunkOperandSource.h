//===- ChunkOperandSource.h - The source of a gathered chunk operand ------===//
//
// Internal to the passes that build mma chains (LowerChunkStateScanToMmaChain,
// LowerChunkOutputToMmaChain, LowerChunkPrologueToMmaChain): the chunk-wise
// decomposition hands a chunk stage its operands through per-chunk gathers,
// linalg.generic copies of the function inputs (the chunk gather reads
// [B, T, H(, D)] into [B, HV, NC, C(, D)] at token c * C + t and key head
// hv / (HV / H), possibly converting the element), whose leading dims a
// collapse_shape merges into the stage's chunk dim. A chain reads the input
// where the gather reads it, so that the gather kernel disappears. This is
// the one analysis of where such an operand comes from; each chain then
// applies its own conditions (layout, element type, exactness).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_LIB_CODEGEN_GPU_CHUNKOPERANDSOURCE_H
#define DELTANET_LIB_CODEGEN_GPU_CHUNKOPERANDSOURCE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineMap.h"

#include <string>

namespace mlir {
namespace deltanet {

/// How an elementwise copy's body maps its input element to its result.
enum class ElementCopy {
  /// Not a copy: the body does more than extf / truncf its input.
  None,
  /// The elements unchanged: `yield in`, or `truncf(extf(in))` back to the
  /// input's type (the pipeline's 16-bit copy of a narrowed gather).
  Exact,
  /// A chain of extf / truncf into another type.
  Converted,
};

/// `op`'s kind of copy: all-parallel, one input and one init with an
/// identity map, a body that is a chain of extf / truncf from the input to
/// the yield; None otherwise.
ElementCopy elementCopyOf(linalg::GenericOp op);

/// Where a chunk operand's elements are read.
struct ChunkOperandSource {
  /// The copy's input; the operand itself where `copy` is null.
  Value tensor;
  /// The elementwise copy the operand is (a collapse_shape of); null when
  /// the operand is read as itself.
  linalg::GenericOp copy;
  /// The copy's map of its input: the copy's result coordinates ->
  /// `tensor`'s indices.
  AffineMap map;
  /// The copy's dims merged into the operand's leading (chunk) dim: the
  /// collapse_shape's first group, or the operand's dim 0 without one.
  SmallVector<int64_t> chunkShape;
  /// How the copy converts the elements (Exact without a copy).
  ElementCopy elements = ElementCopy::Exact;
  /// With the decomposition's chunk gather (static [B, T, H(, D)] ->
  /// [B, HV, NC, C(, D)], T >= NC * C, reading (b, c * C + t,
  /// hv / headRatio(, d))): HV / H, HV and NC; 0 otherwise.
  int64_t headRatio = 0, valueHeads = 0, chunksPerSequence = 0;

  bool isChunkGather() const { return headRatio > 0; }
  /// `tensor`'s element type.
  Type sourceElement() const;
};

/// `operand` read through an elementwise copy (directly, or through a
/// collapse_shape that merges leading dims only); otherwise the operand
/// itself (`copy` null), with the reason in `why` when given.
ChunkOperandSource traceChunkOperand(Value operand, std::string *why = nullptr);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_LIB_CODEGEN_GPU_CHUNKOPERANDSOURCE_H
