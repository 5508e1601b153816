//===- CodegenOptions.h - Choices of the CPU codegen pipeline ---*- C++ -*-===//
//
// The options buildCPUCodegenPassPipeline takes, with their defaults (the
// single place they are declared).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_CPU_CODEGENOPTIONS_H
#define DELTANET_CODEGEN_CPU_CODEGENOPTIONS_H

#include <cstdint>

namespace mlir {
namespace deltanet {

/// The choices buildCPUCodegenPassPipeline takes from the CPU pipeline's
/// options. CpuPipelineOptions documents each one to users and takes its
/// default from here, except int8-dot-products (on where the host has
/// AVX512_VNNI).
struct CPUCodegenOptions {
  /// != 1: scf.forall loops (deltanet-cpu-parallelize-heads) become OpenMP
  /// parallel loops with that many threads (0: the OpenMP runtime's choice,
  /// i.e. OMP_NUM_THREADS or every core); the code then needs libomp.
  int64_t numThreads = 1;
  /// bf16 x bf16 -> f32 matmuls as AVX512_BF16 dot products (`vdpbf16ps`,
  /// deltanet-cpu-vectorize-bf16-matmuls) instead of f32 FMAs on widened
  /// operands; the code then needs a CPU with AVX512_BF16.
  bool bf16DotProducts = false;
  /// i8 x i8 -> i32 matmuls as AVX512_VNNI `vpdpbusd` (4 byte products per
  /// lane) instead of pairwise multiply-adds; the code then needs a CPU
  /// with AVX512_VNNI and AVX512VL.
  bool int8DotProducts = false;
  /// memref results become caller-provided out-param arguments (upstream
  /// buffer-results-to-out-params right after bufferization, allocations
  /// of the results hoisted into the arguments).
  bool resultsToOutParams = false;
  /// deltanet-cpu-prefetch-gather-rows runs (the chunk loop's next input
  /// rows prefetched inside its largest products).
  bool prefetchGatherRows = true;
  /// Function-level scratch buffers of at most this many bytes go on the
  /// stack (upstream promote-buffers-to-stack); 0: none. 16 KiB holds the
  /// blocked tri_inv's largest merge temporary at C = 128 in the f32 batch
  /// tiles of 1 matrix (64 x 64 f32), at C = 64 in tiles of 4 (INT8); 64 KiB
  /// ones (C = 128, tiles of 4) gained <= 4% on the stack (session 17).
  int64_t maxStackScratchBytes = 16 * 1024;
};

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_CPU_CODEGENOPTIONS_H
