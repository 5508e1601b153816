//===- TargetInfo.cpp - The "gpu" target's tri_inv defaults ---------------===//
//
// What the target-neutral lowering needs to know about NVIDIA GPUs.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/TargetInfo.h"

#include "deltanet/Codegen/Common/TargetInfo.h"

using namespace mlir;
using namespace mlir::deltanet;

namespace {
class GPUTargetInfo final : public TargetInfo {
public:
  llvm::StringRef getName() const override { return "gpu"; }

  /// f32 / bf16 / f16 operands (f32 FMAs), and INT8: the merges' products
  /// quantised as on the CPU (i8 x i8 -> i32 SIMT multiply-adds; the
  /// diagonal blocks in f32).
  bool supportsPrecision(TriInvPrecision) const override { return true; }

  /// 4 x 4 blocks (exact with one Neumann factor, then four batched merge
  /// levels: 13 barrier-separated phases). H200, 16384 64 x 64 matrices,
  /// batched levels (docs/GPU.md, session 6, run 2): f32 / bf16 0.300 /
  /// 0.314 ms for blocks of 4, 0.322 / 0.286 for 2, 0.325 / 0.296 for 1;
  /// in run 1 (before the fused copies) 0.35 / 0.36 for 8 and 0.60 / 0.69
  /// for 16. f32 (the attention's) decides; small blocks are also the more
  /// accurate (5.4e-8 vs 9.3e-7 for 16 on correlated keys).
  int64_t getDefaultTriInvBlockSize(TriInvPrecision) const override {
    return 4;
  }

  /// bf16 matrices: blocks of 2. H200, same call (docs/GPU.md, session 7),
  /// 16384 matrices with the default checked 16-byte accesses: bf16 0.216
  /// ms with blocks of 2 against 0.275 with 4 (f32: 0.235 vs 0.250; f32
  /// keeps 4, the attention's tri_inv, whose buffers need no check, was
  /// faster with 4 in session 6: 0.255 vs 0.271 with aligned accesses).
  int64_t getDefaultTriInvBlockSize(TriInvPrecision precision,
                                    Type elementType) const override {
    return elementType.isBF16() ? 2 : getDefaultTriInvBlockSize(precision);
  }

  /// The batch is spread over thread blocks before the lowering: no loop.
  int64_t getPreferredTriInvBatchTile() const override { return 0; }

  /// One thread block inverts one matrix: each level's merges must be one
  /// batched product spread over all threads (H200: a loop over the pairs
  /// made the inverse 2.2x slower, docs/GPU.md).
  bool mergesTriInvLevelsBatched() const override { return true; }

  /// The scan's update reads k transposed and v_new decayed: one phase and
  /// C x K exps per chunk less, no shared copy of the decayed k^T
  /// (docs/GPU.md, session 8).
  bool foldsScanDecayIntoValues() const override { return true; }
};
} // namespace

void mlir::deltanet::registerGPUTargetInfo() {
  registerTargetInfo(std::make_unique<GPUTargetInfo>());
}
