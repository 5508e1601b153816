//===- TargetInfo.h - What the lowering asks of a target --------*- C++ -*-===//
//
// The small interface through which target-neutral lowerings query
// target-dependent defaults, and the registry of targets.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_COMMON_TARGETINFO_H
#define DELTANET_CODEGEN_COMMON_TARGETINFO_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mlir {
namespace deltanet {

/// What a deltanet target tells the target-neutral lowering, in the style
/// of Triton's `TargetInfoBase`: defaults that depend on the machine (its
/// matrix-unit tile, its caches) and which matmul precisions it has. Each
/// target implements it once in its Codegen folder and registers it; the
/// lowering finds it by name (`deltanet-lower-tri-inv{target=cpu}`).
class TargetInfo {
public:
  virtual ~TargetInfo();

  /// The name pipelines, the runtime and the Python API use ("cpu").
  virtual llvm::StringRef getName() const = 0;

  /// Whether matmuls whose operands have `precision` (accumulating in f32,
  /// or i32 for i8) can run on this target.
  virtual bool supportsPrecision(TriInvPrecision precision) const = 0;

  /// Side of the diagonal blocks of the blocked tri_inv when neither the op
  /// nor the options give one (a power of two).
  virtual int64_t
  getDefaultTriInvBlockSize(TriInvPrecision precision) const = 0;

  /// The same for a matrix of `elementType` (its storage type, e.g. bf16
  /// read and written while the products run in `precision`). Default: the
  /// precision's.
  virtual int64_t getDefaultTriInvBlockSize(TriInvPrecision precision,
                                            Type elementType) const {
    return getDefaultTriInvBlockSize(precision);
  }

  /// Matrices per tile of the tri_inv batch loop when the options ask for
  /// the target's preference (0 = the whole batch at once).
  virtual int64_t getPreferredTriInvBatchTile() const = 0;

  /// The preferred tile for tri_invs of `matrixSize` x `matrixSize`
  /// matrices (ShapedType::kDynamic if unknown) lowered with `strategy` and
  /// matmuls in `precision` (what deltanet-lower-tri-inv uses): by default
  /// the strategy-independent one.
  virtual int64_t getPreferredTriInvBatchTileFor(TriInvStrategy strategy,
                                                 TriInvPrecision,
                                                 int64_t matrixSize) const {
    return getPreferredTriInvBatchTile();
  }

  /// Whether the blocked tri_inv merges every pair of a level at once: one
  /// batched product per level (the pairs a parallel dimension of each
  /// contraction, read through block-diagonal indexing maps) instead of one
  /// `scf.for` over the pairs. A GPU block spreads each op over its threads,
  /// so a loop over pairs serialises them into barrier-separated phases of
  /// a few busy threads; a CPU core wants the loop (small working set, the
  /// code bit-for-bit as measured). Default: the loop.
  virtual bool mergesTriInvLevelsBatched() const { return false; }

  /// Whether a blocked tri_inv with bf16, f16 or i8 matmuls keeps the
  /// Neumann products of its small diagonal blocks in f32 and rounds (or
  /// quantises) only the merges' operands. On a CPU those bands (14 x 14 and
  /// smaller at block 16) are too small to amortise the conversions and the
  /// dot-product packing, and in f32 the int8 error of their cancelling
  /// powers is gone, so int8 can use the f32 block size. Default: every
  /// matmul in the requested precision (matrix units without f32).
  virtual bool keepsTriInvDiagonalBlocksF32() const { return false; }

  /// Side of the square blocks whose known-zero pattern the Neumann
  /// strategy's products skip (`L^p` vanishes on the blocks whose every
  /// element has `i - j < p`): each product computes only its non-zero
  /// blocks, with static block shapes that vectorise. 0 (the default): one
  /// product per power over the whole band `L^p[p:, :C-p]`, as the
  /// tolerance rule table was measured.
  virtual int64_t getTriInvNeumannBlockSize() const { return 0; }

  /// Largest diagonal window on which the Neumann strategy evaluates an
  /// exact series; larger matrices are solved as exact series on their
  /// diagonal windows of this size merged pairwise by two matmuls per pair
  /// (`X21 = -X22 (L21 X11)`, the blocked strategy's merge), which is exact
  /// as well: the product form's `O(C^3 log C)` multiply-adds grow past any
  /// other strategy's with C (at C = 128, 12x forward substitution's), and
  /// so do the powers of L that cancel in f32.
  /// Truncated series (an order below the exact one, the tolerance rule
  /// table's choices) stay whole-matrix series. Only with block-triangular
  /// products (getTriInvNeumannBlockSize > 0). 0 (the default): no limit.
  virtual int64_t getTriInvNeumannMaxSeriesSize() const { return 0; }

  /// Column block of the forward-substitution strategy's rows: row i is
  /// computed per block of this many columns J = [j0, j0 + w), j0 < i, as
  /// e_i[J] - L[i, j0:i] X[j0:i, J] (X[k, J] = 0 for k < j0: the reduction
  /// starts at the block's first column, about half the multiply-adds of
  /// the whole width), the largest divisor of C not above it. 0 (the
  /// default): one product over the whole static width C per row.
  virtual int64_t getTriInvForwardSubstitutionColumnBlock() const { return 0; }

  /// Whether the chunk state scan decays v_new's rows
  /// (`S += k^T (v_new exp(g_last - g))`, one elementwise op giving v_new
  /// and its decayed copy) instead of a decayed, transposed copy of k
  /// (`S += (k exp(g_last - g))^T v_new`). Same math, other rounding. A GPU
  /// block saves a barrier-separated phase, C x K exps per chunk and the
  /// shared buffer of the decayed k^T; the CPU keeps the calibrated form
  /// (bit-identical output). Default: the decayed k.
  virtual bool foldsScanDecayIntoValues() const { return false; }

  /// Rows per tile of the chunk stages' products whose left operand is
  /// lower triangular (the WY products `T (beta k)`, `T (beta v)` and the
  /// attention's `A v_new`): each tile of rows `[r0, r0 + r)` multiplies only
  /// the first `r0 + r` columns of its rows (the others are zeros), a static
  /// K per tile, `C (C + r) / 2` instead of `C^2` multiply-adds per output
  /// column; the same sums (up to the order of exact zeros). Should match
  /// the target's register tile rows. 0 (the default): whole products.
  virtual int64_t getChunkTriangularRowTile() const { return 0; }

  /// Rows per block of the chunk stages' products of which only the lower
  /// triangle is used (gated `K K^T`, the attention scores `Q K^T`): block
  /// `[r0, r0 + b)` computes only its columns `[0, r0 + b)`, the rest of its
  /// rows are zeros (never read unmasked). Should be a multiple of the
  /// target's register tile columns. 0 (the default): whole products.
  virtual int64_t getChunkTriangularResultBlock() const { return 0; }

  /// Whether the chunk stages compute their per-row decay factors
  /// (`beta exp(g)`, `exp(g) scale`, `exp(g_last - g)`) once per row as a
  /// `[N, C]` tensor broadcast along the row, and the state scan's decayed
  /// `k^T` as the columns of `k^T` times them, instead of in every element
  /// (a vectorised row op evaluates a row's `exp` once per lane). The same
  /// values. Default: per element (the form the GPU fuses into its tiles).
  virtual bool computesChunkDecayFactorsOnce() const { return false; }

  /// Whether the chunk state scan writes `exp(g_last) S` to a new tensor
  /// instead of decaying S in place: the chunk's output reads S after the
  /// update, so in place needs a copy of S per chunk (bufferization's).
  /// Default: in place (the form the GPU's scan lowering matches).
  virtual bool decaysChunkStateOutOfPlace() const { return false; }

  /// Whether the recurrent op reads each head's state once per token (both
  /// readouts as one two-row batched matmul) and updates it once in place,
  /// instead of four passes (decay, S^T k, rank-1 update, S^T q). Rounds
  /// differently (the readout of the updated state is expanded).
  virtual bool fusesRecurrentReadouts() const { return false; }
};

/// Registers `target` under its name; a second registration of the same
/// name keeps the first. Thread-safe.
void registerTargetInfo(std::unique_ptr<TargetInfo> target);

/// The target registered as `name`, or null.
const TargetInfo *lookupTargetInfo(llvm::StringRef name);

/// The registered names, comma-separated, for diagnostics.
std::string getRegisteredTargetNames();

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_COMMON_TARGETINFO_H
