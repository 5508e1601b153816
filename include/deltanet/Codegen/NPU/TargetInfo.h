//===- TargetInfo.h - The NPU target's TargetInfo ---------------*- C++ -*-===//
//
// Declares the registration of the NPU-like target ("npu").
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_NPU_TARGETINFO_H
#define DELTANET_CODEGEN_NPU_TARGETINFO_H

namespace mlir {
namespace deltanet {

/// Registers the TargetInfo of the NPU-like target under the name "npu".
void registerNPUTargetInfo();

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_NPU_TARGETINFO_H
