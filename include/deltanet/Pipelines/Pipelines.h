//===- Pipelines.h - deltanet pass pipelines --------------------*- C++ -*-===//
//
// Declares the end-to-end pass pipelines that compile deltanet programs for
// each target, and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_PIPELINES_PIPELINES_H
#define DELTANET_PIPELINES_PIPELINES_H

#include "deltanet/Codegen/CPU/CodegenOptions.h"
#include "deltanet/Pipelines/TriInvPipelineOptions.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir {
class OpPassManager;
namespace deltanet {

/// Whether the host CPU executes AVX512_VNNI `vpdpbusd` on 512, 256 and 128
/// bits (avx512vnni and avx512vl): the default of `int8-dot-products`.
bool hostHasAVX512VNNI();

/// Options of `--deltanet-cpu-pipeline`: the tri_inv options,
/// chunk-precision, the thread count, the dot-product instructions and the
/// calling convention of the results.
struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions>,
                            public TriInvPipelineOptions,
                            public ChunkPipelineOptions {
  PassOptions::Option<int64_t> numThreads{
      *this, "num-threads",
      llvm::cl::desc(
          "Threads: 1 (default) = serial code without a runtime dependency; "
          "N > 1 = heads and tri_inv matrix tiles on N OpenMP threads; 0 = "
          "the OpenMP runtime's choice (OMP_NUM_THREADS, else every core). "
          "Results are bitwise identical for every value; N != 1 needs "
          "libomp at run time"),
      llvm::cl::init(CPUCodegenOptions().numThreads)};
  PassOptions::Option<bool> bf16DotProducts{
      *this, "bf16-dot-products",
      llvm::cl::desc(
          "bf16 x bf16 -> f32 matmuls (tri-inv-precision=bf16) as AVX512_BF16 "
          "dot products (vdpbf16ps) instead of f32 FMAs on widened operands; "
          "the code needs a CPU with AVX512_BF16. Results differ from the "
          "default in the last bits (pair sums in the instruction's order, "
          "denormals flushed). Off by default, also on AVX512_BF16 hosts: "
          "measured slower than the widened FMAs (tri_inv C = 64: 5.8 vs "
          "4.8 us per matrix; chunk op H = 4: 0.93-0.98x; docs/Performance.md, "
          "session 7)"),
      llvm::cl::init(CPUCodegenOptions().bf16DotProducts)};
  PassOptions::Option<bool> int8DotProducts{
      *this, "int8-dot-products",
      llvm::cl::desc(
          "i8 x i8 -> i32 matmuls (tri-inv-precision=i8) as AVX512_VNNI "
          "vpdpbusd (4 byte products per lane) instead of pairwise i16 "
          "multiply-adds (vpdpwssd / vpmaddwd); the same i32 results. The "
          "code needs a CPU with AVX512_VNNI and AVX512VL. Default: on where "
          "the host has them (the pipeline compiles for the host)"),
      llvm::cl::init(hostHasAVX512VNNI())};
  PassOptions::Option<bool> resultsToOutParams{
      *this, "results-to-out-params",
      llvm::cl::desc(
          "Destination-passing at the function boundary: every memref result "
          "becomes an argument appended after the inputs, a caller-provided "
          "buffer of the result's shape (identity layout, not aliasing an "
          "input) that the function writes whole (upstream "
          "buffer-results-to-out-params, its allocations hoisted: the "
          "outputs are computed in the caller's buffers, no malloc per "
          "call). Off by default: the JIT, C API and Python callers expect "
          "returned results"),
      llvm::cl::init(CPUCodegenOptions().resultsToOutParams)};
  PassOptions::Option<bool> prefetchGatherRows{
      *this, "prefetch-gather-rows",
      llvm::cl::desc(
          "Run deltanet-cpu-prefetch-gather-rows: the chunk loop's next q / "
          "k / v rows prefetched inside its largest products (chunk op "
          "1.01-1.09x faster, bitwise identical; docs/Performance.md, "
          "session 16). On by default; off to measure without it"),
      llvm::cl::init(CPUCodegenOptions().prefetchGatherRows)};
  PassOptions::Option<int64_t> maxStackScratchBytes{
      *this, "max-stack-scratch-bytes",
      llvm::cl::desc(
          "Scratch buffers allocated once per call (after upstream "
          "buffer-loop-hoisting) of at most this many bytes go on the stack "
          "instead of the heap (upstream promote-buffers-to-stack; never "
          "inside a loop or a parallel region); 0: none. The default holds "
          "the blocked tri_inv's merge temporaries up to C = 128 in batch "
          "tiles of 1 matrix (the f32 default), C = 64 in tiles of 4 (1.32x "
          "/ 1.16x faster at C = 32 / 64 than on the heap; docs/"
          "Performance.md, session 17). The caller's thread needs that much "
          "stack"),
      llvm::cl::init(CPUCodegenOptions().maxStackScratchBytes)};

  /// The codegen half of these options.
  CPUCodegenOptions getCodegenOptions() const;
};

/// Checks the values the option parser accepts but the pipeline does not
/// (num-threads < 0, max-stack-scratch-bytes < 0), with a message on
/// `errors`.
LogicalResult verifyCpuPipelineOptions(const CpuPipelineOptions &options,
                                       llvm::raw_ostream &errors);

/// Adds the passes that lower deltanet ops on tensors to the LLVM dialect
/// for the host CPU: addDeltaNetToLinalgPasses for the "cpu" target, then
/// buildCPUCodegenPassPipeline.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Registers the pipelines (`--deltanet-cpu-pipeline`,
/// `--deltanet-npu-pipeline`).
void registerDeltaNetPipelines();

//===----------------------------------------------------------------------===//
// Pipelines by target name (what the runtime, the C API and Python use)
//===----------------------------------------------------------------------===//

/// The targets that have an end-to-end pipeline ("cpu").
std::vector<std::string> getPipelineTargets();

/// Adds the pipeline of `target` to `pm` (anchored on builtin.module) with
/// `options`, its pipeline options as text (`tri-inv-strategy=neumann ...`).
/// An unknown target or a bad option is a failure with a message on
/// `errors`.
LogicalResult buildTargetPipeline(OpPassManager &pm, llvm::StringRef target,
                                  llvm::StringRef options,
                                  llvm::raw_ostream &errors);

/// The options of `target`'s pipeline with their defaults, as MLIR prints
/// them (`{tri-inv-batch-tile=-1 tri-inv-block-size=0 ...}`); empty for an
/// unknown target.
std::string printTargetPipelineOptions(llvm::StringRef target);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_PIPELINES_PIPELINES_H
