//===- TargetInfo.cpp - The NPU target's TargetInfo -----------------------===//
//
// Defaults of the NPU-like target: precisions, block sizes, batch tile.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/NPU/TargetInfo.h"

#include "deltanet/Codegen/Common/TargetInfo.h"

using namespace mlir;
using namespace mlir::deltanet;

namespace {
class NPUTargetInfo final : public TargetInfo {
public:
  llvm::StringRef getName() const override { return "npu"; }

  /// fp16 and int8 run on the matrix unit; f32 matmuls run on the vector
  /// unit (the presets' matrix units have no f32); bf16 is in neither
  /// preset.
  bool supportsPrecision(TriInvPrecision precision) const override {
    return precision != TriInvPrecision::BF16;
  }

  /// As on the CPU: 16 x 16 blocks keep the Neumann powers small; INT8 needs
  /// 4 x 4 (docs/TriInvTolerance.md). Larger matrix-unit tiles would prefer
  /// 32 x 32 blocks for speed (docs/NPU.md measures both).
  int64_t getDefaultTriInvBlockSize(TriInvPrecision precision) const override {
    return precision == TriInvPrecision::I8 ? 4 : 16;
  }

  /// 16 matrices per tile: forward substitution's rows of 16 matrices fill
  /// the vector pipeline (docs/NPU.md).
  int64_t getPreferredTriInvBatchTile() const override { return 16; }
};
} // namespace

void mlir::deltanet::registerNPUTargetInfo() {
  registerTargetInfo(std::make_unique<NPUTargetInfo>());
}
