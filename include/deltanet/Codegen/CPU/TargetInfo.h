//===- TargetInfo.h - The CPU target's TargetInfo ---------------*- C++ -*-===//
//
// Declares the registration of the host CPU target ("cpu").
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_CPU_TARGETINFO_H
#define DELTANET_CODEGEN_CPU_TARGETINFO_H

namespace mlir {
namespace deltanet {

/// Registers the TargetInfo of the host CPU under the name "cpu".
void registerCPUTargetInfo();

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_CPU_TARGETINFO_H
