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

  /// f32 / bf16 / f16 operands (f32 FMAs); no INT8 path on the GPU yet.
  bool supportsPrecision(TriInvPrecision precision) const override {
    return precision != TriInvPrecision::I8;
  }

  /// 4 x 4 blocks: every stage of the inverse is one barrier-separated
  /// phase of the block, and small blocks need fewer, cheaper phases than
  /// 16 x 16 ones (H200: 0.40 vs 0.62 ms for 16384 64 x 64 f32 matrices),
  /// and are more accurate (docs/GPU.md).
  int64_t getDefaultTriInvBlockSize(TriInvPrecision) const override {
    return 4;
  }

  /// The batch is spread over thread blocks before the lowering: no loop.
  int64_t getPreferredTriInvBatchTile() const override { return 0; }
};
} // namespace

void mlir::deltanet::registerGPUTargetInfo() {
  registerTargetInfo(std::make_unique<GPUTargetInfo>());
}
