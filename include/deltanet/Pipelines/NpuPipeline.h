//===- NpuPipeline.h - deltanet ops to C for an NPU-like target -*- C++ -*-===//
//
// Declares --deltanet-npu-pipeline and its options.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_PIPELINES_NPUPIPELINE_H
#define DELTANET_PIPELINES_NPUPIPELINE_H

#include "deltanet/Pipelines/TriInvPipelineOptions.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace deltanet {

/// Options of `--deltanet-npu-pipeline`: the target preset, buffering, and
/// the shared tri_inv options (`tri-inv-*`; the precision defaults to f16
/// here: the matrix units take fp16 and int8, f32 matmuls run on the vector
/// unit).
struct NpuPipelineOptions : public PassPipelineOptions<NpuPipelineOptions>,
                            public TriInvPipelineOptions {
  NpuPipelineOptions() {
    triInvPrecision.setInitialValue(TriInvPrecision::F16);
  }

  PassOptions::Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Target preset when the module has no npu.target "
                     "attribute: mobile (Hexagon class) or datacenter "
                     "(Ascend class)"),
      llvm::cl::init("mobile")};
  PassOptions::Option<bool> doubleBuffer{
      *this, "double-buffer",
      llvm::cl::desc("Double-buffer matrix-unit tiles where two fit"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> hoistBuffers{
      *this, "hoist-buffers",
      llvm::cl::desc("Hoist intermediate buffers out of loops (false: every "
                     "batch tile gets fresh buffers, so tiles can overlap)"),
      llvm::cl::init(true)};
};

/// Adds the passes that compile deltanet ops on tensors to EmitC for an
/// NPU-like target: the deltanet lowering to linalg (chunk-stage matmuls
/// with f16 operands, forward substitution in place on buffers),
/// bufferization, mapping to npu ops, loops, EmitC.
void buildNpuPipeline(OpPassManager &pm, const NpuPipelineOptions &options);

/// Registers `--deltanet-npu-pipeline`.
void registerDeltaNetNpuPipeline();

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_PIPELINES_NPUPIPELINE_H
