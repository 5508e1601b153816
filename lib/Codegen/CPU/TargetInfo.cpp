//===- TargetInfo.cpp - The CPU target's TargetInfo -----------------------===//
//
// Defaults of the host CPU target: block sizes, batch tile, precisions.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/TargetInfo.h"

#include "deltanet/Codegen/Common/TargetInfo.h"
#include "mlir/IR/BuiltinTypeInterfaces.h"

using namespace mlir;
using namespace mlir::deltanet;

namespace {
class CPUTargetInfo final : public TargetInfo {
public:
  llvm::StringRef getName() const override { return "cpu"; }

  /// f32 runs on the FMA units; bf16/f16 operands are widened to f32
  /// (rounded first, accumulation f32); i8 runs as pairwise i16
  /// multiply-adds (vpdpwssd with VNNI, vpmaddwd on AVX2).
  bool supportsPrecision(TriInvPrecision) const override { return true; }

  /// f32: 4 x 4 blocks. Since the merges skip their zero quadrants and
  /// write in place, the 16 x 16 blocks' Neumann products (on 14 / 12 /
  /// 8-wide bands: 40 K of the 104 K multiply-adds at C = 64) cost more
  /// than the extra merge levels: AOT, cache-resident, thread CPU time,
  /// same run (docs/Performance.md, session 8): C = 16 / 32 / 64 / 128
  /// 0.15 / 0.55 / 2.37 / 12.6 us with 4, 0.17 / 0.58 / 2.43 / 12.7 with
  /// 8, 0.35 / 0.97 / 3.13 / 13.7 with 16; and more accurate (correlated
  /// keys, C = 128: 8.1e-8 vs 2.0e-6). bf16 / f16 keep 16 (their diagonal
  /// blocks are f32 already, keepsTriInvDiagonalBlocksF32; not remeasured).
  /// INT8 keeps 4 x 4, the block size its tolerance rows were calibrated
  /// with (TriInvTolerance.cpp): with the diagonal blocks solved in f32 an
  /// explicit block size of 16 is as accurate and faster
  /// (docs/Performance.md, session 7), but the default waits for the
  /// table's recalibration. A tolerance-driven f32 lowering keeps the
  /// table's calibrated 16 (LowerTriInv.cpp, effectiveBlockSize).
  int64_t getDefaultTriInvBlockSize(TriInvPrecision precision) const override {
    return precision == TriInvPrecision::I8 || precision == TriInvPrecision::F32
               ? 4
               : 16;
  }

  bool keepsTriInvDiagonalBlocksF32() const override { return true; }

  /// 16 matrices of 64 x 64 f32 are 256 KiB per intermediate: a tile's
  /// working set stays in the L2 cache instead of streaming the batch
  /// through memory once per matmul. (The tile of the thread distribution,
  /// deltanet-cpu-parallelize-heads; the lowering refines it below.)
  int64_t getPreferredTriInvBatchTile() const override { return 16; }

  /// The matmul strategies (blocked, Neumann): 4 matrices, 64 KiB per
  /// 64 x 64 intermediate, so the blocks a product reads were mostly
  /// written by the previous op on the same few matrices (L1 / near L2)
  /// instead of 256 KiB intermediates streamed through the L2 once per
  /// matmul. Session 7, AOT, cache-resident batch, thread CPU time, same
  /// run: blocked 1.13x (C = 32), 1.11x (C = 64), 1.15x (C = 128) over
  /// tiles of 16 (docs/Performance.md "Session 7"). Blocked with float
  /// matmuls: 1 matrix, since its temporaries are hoisted (session 17) the
  /// loops over a tile's matrices around every small product cost more
  /// than they saved: 1.16x / 1.0x / 1.04-1.11x at C = 32 / 64 / 128 over
  /// tiles of 4, bf16 1.03x at C = 64; INT8 keeps 4 (1.07x slower with 1;
  /// docs/Performance.md, session 18). Forward substitution: see
  /// forwardSubstitutionBatchTile.
  int64_t
  getPreferredTriInvBatchTileFor(TriInvStrategy strategy,
                                 TriInvPrecision precision,
                                 int64_t matrixSize) const override {
    if (strategy == TriInvStrategy::ForwardSubstitution)
      return forwardSubstitutionBatchTile(matrixSize);
    if (strategy == TriInvStrategy::Blocked &&
        precision != TriInvPrecision::I8)
      return 1;
    return 4;
  }

  /// Forward substitution reads rows 0..i-1 of every matrix of its tile
  /// for each row i, so a tile whose X outgrows the 48 KiB L1D is streamed
  /// from the L2 once per row (C = 32 in tiles of 16: 64 KiB, and the 16
  /// matrices' row k, 4 KiB apart, all in the same two sets of a 12-way
  /// L1D), and runs at whatever speed the L2 of the moment has (medians
  /// 0.59-1.22 us per matrix over processes). Tiles of at most 32 KiB of
  /// f32 X and at most 8 matrices (the register tile's) stay in the L1D:
  /// 8 / 8 / 2 / 1 matrices at C = 16 / 32 / 64 / 128, 1.4x / 2.0x / 2.2x /
  /// 1.6x faster than tiles of 16 (AOT, same run, medians), bitwise
  /// identical (docs/Performance.md, session 19). Unknown sizes keep 16.
  static int64_t forwardSubstitutionBatchTile(int64_t matrixSize) {
    if (ShapedType::isDynamic(matrixSize) || matrixSize <= 0)
      return 16;
    int64_t tile = 8;
    while (tile > 1 && tile * matrixSize * matrixSize * 4 > 32 * 1024)
      tile /= 2;
    return tile;
  }

  /// 16: a block row is one 512-bit f32 vector; at C = 64 the exact Neumann
  /// product then does 154 block products instead of the bands' 1.55 M
  /// multiply-adds (631 K), see LowerTriInv.cpp.
  int64_t getTriInvNeumannBlockSize() const override { return 16; }

  /// 32: exact series on 32 x 32 windows and one merge per doubling. AOT,
  /// cache-resident, thread CPU time, same run (docs/Performance.md,
  /// session 8): C = 64 6.5 us with windows of 32 against 14.0 for the
  /// whole 64 x 64 series (631 K multiply-adds); C = 128 34.8 us with 32,
  /// 104 with 64, 293 for the whole series (4.37 M; the AOT driver's
  /// inputs make the high powers denormal: 19.5 / 35.3 / 85 us with
  /// flush-to-zero). C = 32 is one window: the series as before.
  int64_t getTriInvNeumannMaxSeriesSize() const override { return 32; }

  /// 32: the width of the f32 register tile (deltanet-cpu-vectorize-matmuls
  /// `cols`), each block one K loop over 2 AVX-512 vectors per matrix
  /// (docs/Performance.md, session 16).
  int64_t getTriInvForwardSubstitutionColumnBlock() const override {
    return 32;
  }

  /// The recurrent op's token loop is bound by its passes over each head's
  /// 64 KiB state (L2, not L1): one read (both readouts as a two-row matmul
  /// in registers) and one in-place update instead of four passes.
  bool fusesRecurrentReadouts() const override { return true; }

  /// The f32 register tiles' rows (VectorizeMatmuls): 8-row tiles of the
  /// triangular products, each with its own K range (at C = 64: 36 of 64 K
  /// on average, 0.44x fewer multiply-adds in three of the chunk's nine
  /// products).
  int64_t getChunkTriangularRowTile() const override { return 8; }

  /// The f32 register tiles' columns: at C = 64, rows 0-31 of `K K^T` and
  /// `Q K^T` need columns 0-31 only (3/4 of the multiply-adds).
  int64_t getChunkTriangularResultBlock() const override { return 32; }

  /// The vectorised row ops evaluated a row's `exp(g)` in every lane (8
  /// vector exps per 128-wide row instead of one), and the scan's decayed
  /// `k^T` read k transposed, one scalar at a time (4.5% of the chunk op).
  bool computesChunkDecayFactorsOnce() const override { return true; }

  /// The in-place decay of the state made bufferization copy it (a 64 KiB
  /// memcpy per chunk and head, 3-9% of the chunk op).
  bool decaysChunkStateOutOfPlace() const override { return true; }
};
} // namespace

void mlir::deltanet::registerCPUTargetInfo() {
  registerTargetInfo(std::make_unique<CPUTargetInfo>());
}
