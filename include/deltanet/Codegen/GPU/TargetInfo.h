//===- TargetInfo.h - The "gpu" target's tri_inv defaults -------*- C++ -*-===//
//
// Registers the TargetInfo of NVIDIA GPUs (--deltanet-gpu-pipeline).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_GPU_TARGETINFO_H
#define DELTANET_CODEGEN_GPU_TARGETINFO_H

namespace mlir {
namespace deltanet {

void registerGPUTargetInfo();

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_GPU_TARGETINFO_H
