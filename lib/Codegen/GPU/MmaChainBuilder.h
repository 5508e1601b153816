//===- MmaChainBuilder.h - Fragment helpers of hand-written mma chains ----===//
//
// Internal to the passes that build a gpu.launch whose products keep their
// operands in mma.sync registers (deltanet-gpu-lower-chunk-state-scan-to-
// mma-chain, deltanet-gpu-lower-chunk-output-to-mma-chain): index
// arithmetic, a lane's coordinates, cp.async copies of a chunk into shared
// memory, ldmatrix / mma.sync creation and FlashAttention-2's accumulator ->
// A fragment conversion, all target-generic m16n8k16 (bf16 / f16).
//
// Fragment coordinates (lane = 4 * group + quad): an accumulator fragment
// (vector<2x2xf32>) holds rows group and group + 8, columns 2 * quad + {0,
// 1}; the A fragment (vector<4x2xE>) rows group / group + 8 of columns
// 2 * quad + {0, 1} and 8 + 2 * quad + {0, 1}; the B fragment
// (vector<2x2xE>) column group, rows 2 * quad + {0, 1} and 8 + 2 * quad +
// {0, 1} -- nvgpu::getLaneIdAndValueIdToOperandCoord's maps, written out.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_LIB_CODEGEN_GPU_MMACHAINBUILDER_H
#define DELTANET_LIB_CODEGEN_GPU_MMACHAINBUILDER_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>

namespace mlir {
namespace deltanet {

/// Threads per warp.
constexpr int64_t kChainWarpSize = 32;
/// Dynamic shared memory of one block on sm_90 (227 KiB).
constexpr int64_t kChainMaxSharedBytes = 232448;

/// The helpers, on one builder and location, for a block of `warps` warps
/// whose products are m16n8k16 on `element` (bf16 / f16) operands.
struct MmaChainBuilder {
  OpBuilder &b;
  Location loc;
  Type element;
  int64_t warps;
  // Lane coordinates (setUpLaneIds) and the block's sequence (the leading
  // index of copyChunk's sources).
  Value thread, lane, group, quad, warp, seq;
  // m16n8 f32 accumulator, m16n8k16 A and B fragments (setFragmentTypes).
  VectorType acc, aFrag, bFrag;

  MmaChainBuilder(OpBuilder &b, Location loc, Type element, int64_t warps)
      : b(b), loc(loc), element(element), warps(warps) {}

  Value idx(int64_t v);
  Value add(Value x, Value y);
  Value add(Value x, int64_t c) { return c ? add(x, idx(c)) : x; }
  Value mul(Value x, int64_t c);
  Value div(Value x, int64_t c);
  Value rem(Value x, int64_t c);

  /// thread = `threadX`; lane, group, quad and warp from it.
  void setUpLaneIds(Value threadX);
  /// acc, aFrag, bFrag for `element`.
  void setFragmentTypes();

  /// Which piece the threads past a staged tile's last piece copy again
  /// (the same bytes written twice): one of the last row's (the row index
  /// clamped, the columns wrap) or the last piece itself.
  enum class ExtraThreads { RepeatLastRow, RepeatLastPiece };

  /// The staging loop of every chain: a `rows` x `width` tile cut into
  /// pieces of `perPiece` elements, row-major, spread over the block's
  /// threads (thread t takes pieces t, t + threads, ...); `body(row, col)`
  /// builds the copy of the piece whose first element is (row, col) of the
  /// tile (the caller's source indices; cp.async or element copies).
  void forEachPiece(int64_t rows, int64_t width, int64_t perPiece,
                    ExtraThreads extra,
                    function_ref<void(Value row, Value col)> body);
  /// Elements of `memref`'s type in one 16-byte piece.
  static int64_t elementsPer16Bytes(Value memref);
  /// One cp.async of `elements` elements (16 bytes, bypassing L1) from
  /// src[srcIndices] to dst[dstIndices]; its token appended to `tokens`.
  void asyncCopy(Value dst, ValueRange dstIndices, Value src,
                 ValueRange srcIndices, int64_t elements,
                 SmallVector<Value> &tokens);
  /// cp.async copies (16 bytes each, spread over the block's threads) of
  /// `rows` x `width` elements of chunk `chunk` of `src` ([M][NC][rows][..],
  /// from column `srcCol0`; or [M][NC][width] when `rows` is 0) into slot
  /// `slot` of `dst` ([2][rows][..] or [2][width]).
  void copyChunk(Value src, Value dst, Value chunk, Value slot, int64_t rows,
                 int64_t width, Value srcCol0, SmallVector<Value> &tokens);
  /// One cp.async group of `tokens`, waited for (all complete).
  void waitForCopies(ValueRange tokens);

  /// The m16n8k16 A fragment of accumulator fragments `lo` (columns 0-7)
  /// and `hi` (8-15), rounded to 16 bits, negated if asked (exact).
  Value aFromAccumulators(Value lo, Value hi, bool negate);
  /// Registers `first`, `first + 1` of an ldmatrix result as a B fragment.
  Value bFragment(Value loaded, int64_t first);
  /// ldmatrix of `tiles` 8x8 tiles (x1 / x2 / x4), transposed if asked.
  Value ldmatrix(Value buf, ValueRange indices, int64_t tiles, bool trans);
  /// c + a * bOperand, m16n8k16.
  Value mma(Value a, Value bOperand, Value c);
  /// A workgroup (shared memory) buffer of `shape` x `type`.
  Value workgroupAlloc(ArrayRef<int64_t> shape, Type type);
};

/// The checks every chain opens with: why `op` keeps the generic path (a
/// dynamic operand shape; `sixteenBit`, its operand or result `name`, not
/// bf16 / f16; `op` already inside a kernel or block loop), or "" with
/// `element` set to `sixteenBit`'s element type.
std::string chainPreconditionFailure(Operation *op, Value sixteenBit,
                                     StringRef name, Type &element);
/// Whether every one of `buffers` starts at a multiple of 16 bytes
/// (cp.async's requirement; run-time i1); null without buffers.
Value allSixteenByteAligned(OpBuilder &b, Location loc, ValueRange buffers);

/// The launch's view of an operand tensor: a read-only buffer of its shape.
Value readOnlyBufferOf(OpBuilder &b, Location loc, Value tensor);
/// A new buffer of `result`'s tensor shape and type, for the launch to fill.
Value allocBufferFor(OpBuilder &b, Location loc, Value result);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_LIB_CODEGEN_GPU_MMACHAINBUILDER_H
