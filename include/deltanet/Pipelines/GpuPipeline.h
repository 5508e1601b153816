//===- GpuPipeline.h - --deltanet-gpu-pipeline ------------------*- C++ -*-===//
//
// Options and builder of the pipeline that compiles deltanet programs for
// NVIDIA GPUs (kernels as PTX or cubin embedded in LLVM host code).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_PIPELINES_GPUPIPELINE_H
#define DELTANET_PIPELINES_GPUPIPELINE_H

#include "deltanet/Pipelines/TriInvPipelineOptions.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/Error.h"

namespace mlir {
class OpPassManager;
namespace deltanet {

/// Options of `--deltanet-gpu-pipeline`; the tri_inv options are the shared
/// `tri-inv-<name>` ones (the GPU's defaults: TargetInfo "gpu").
struct GpuPipelineOptions : public PassPipelineOptions<GpuPipelineOptions>,
                            public TriInvPipelineOptions {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("NVIDIA GPU architecture (sm_XY)"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features", llvm::cl::desc("PTX features (+ptxNN)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Embedded kernel format: isa (PTX, compiled by the driver "
                     "at load; needs no CUDA toolkit), bin (cubin) or fatbin "
                     "(both need ptxas)"),
      llvm::cl::init("isa")};
  PassOptions::Option<int64_t> threads{
      *this, "threads", llvm::cl::desc("Threads per block"),
      llvm::cl::init(128)};
  PassOptions::Option<bool> eliminateBarriers{
      *this, "eliminate-barriers",
      llvm::cl::desc("Erase the barriers after thread loops that order no "
                     "conflicting memory accesses (upstream "
                     "gpu-eliminate-barriers; off by default: 1% on the "
                     "attention, and the decode and tri_inv kernels it "
                     "changes were not run on a GPU with it)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> tensorCoresZeroInit{
      *this, "tensor-cores-zero-init",
      llvm::cl::desc("Tensor-core products after a zero fill of their "
                     "accumulator start from zero registers, the fill erased "
                     "(deltanet-gpu-matmuls-to-mma-sync zero-init-accumulators)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tensorCoresStageFromProducer{
      *this, "tensor-cores-stage-from-producer",
      llvm::cl::desc("An operand staged in shared memory is written there by "
                     "its producer in the same block, then copied to device "
                     "memory (deltanet-gpu-matmuls-to-mma-sync "
                     "stage-from-producer)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> prefetchLoopOperands{
      *this, "prefetch-loop-operands",
      llvm::cl::desc("A block loop's per-iteration device operands (the state "
                     "scan's w, k, u, g of a chunk) staged in shared memory "
                     "one iteration ahead with cp.async "
                     "(deltanet-gpu-prefetch-loop-operands)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> prefetchMaxBytes{
      *this, "prefetch-max-bytes",
      llvm::cl::desc("New shared memory per block loop for prefetched "
                     "operands that had no staging buffer "
                     "(deltanet-gpu-prefetch-loop-operands max-bytes)"),
      llvm::cl::init(65536)};
  PassOptions::Option<int64_t> prefetchTransposedPadding{
      *this, "prefetch-transposed-padding",
      llvm::cl::desc("Row padding (elements) of a prefetched buffer read by "
                     "columns (the scan's k, for the decayed k^T): 1 avoids "
                     "bank conflicts (4-byte copies; the scan 1% faster on the "
                     "H200, within noise); -1: shared-row-padding "
                     "(deltanet-gpu-prefetch-loop-operands transposed-padding)"),
      llvm::cl::init(-1)};
  PassOptions::Option<bool> fuseGathers{
      *this, "fuse-gathers",
      llvm::cl::desc("Blocks read their chunk of q / k / v / beta from the "
                     "bf16 arguments and widen it themselves instead of "
                     "reading f32 copies made by gather kernels "
                     "(deltanet-gpu-fuse-into-blocks gathers)"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> fuseGatherLayouts{
      *this, "fuse-gather-layouts",
      llvm::cl::desc("Which gathered tiles are gathered straight into the "
                     "layout their reader needs: all, no-broadcast, matmul, "
                     "none (deltanet-gpu-fuse-into-blocks gather-layouts)"),
      llvm::cl::init("no-broadcast")};
  PassOptions::Option<bool> fuseScatter{
      *this, "fuse-scatter",
      llvm::cl::desc("The output stage writes o in its final layout and "
                     "element type instead of an f32 copy scattered by its "
                     "own kernel (deltanet-gpu-fuse-into-blocks scatters)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> sinkAccumulatorProducers{
      *this, "sink-accumulator-producers",
      llvm::cl::desc("A matmul producing another matmul's accumulator in a "
                     "block is computed right before it: shorter "
                     "shared-memory lifetimes "
                     "(deltanet-gpu-sink-accumulator-producers)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> scanValueTile{
      *this, "scan-value-tile",
      llvm::cl::desc("State columns per thread block of the chunk state scan "
                     "(0: one block per sequence; -1: chosen from the shape, "
                     "the largest of 32, 16, 8 giving >= 64 blocks)"),
      llvm::cl::init(-1)};
  PassOptions::Option<int64_t> recurrentValueTile{
      *this, "recurrent-value-tile",
      llvm::cl::desc("State columns per thread block of the recurrent op "
                     "(0: one block per batch and value head; whole heads "
                     "measured fastest for decode on the H200)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> reductionStep{
      *this, "reduction-step",
      llvm::cl::desc("Iterations per vectorised step of a thread's tile "
                     "with more than 1024 iterations and a long reduction "
                     "(0: scalar loops; deltanet-gpu-map-to-threads)"),
      llvm::cl::init(256)};
  PassOptions::Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("f32 matmuls of the blocks with K >= "
                     "tensor-cores-min-reduction on tf32 tensor cores "
                     "(nvgpu.mma.sync; deltanet-gpu-matmuls-to-mma-sync); "
                     "false: all SIMT FMAs"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> tensorCoresMinReduction{
      *this, "tensor-cores-min-reduction",
      llvm::cl::desc("Matmuls with a shorter reduction stay SIMT (default "
                     "64: the inverse's merges, too inaccurate in tf32)"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> tensorCoresStageBytes{
      *this, "tensor-cores-stage-bytes",
      llvm::cl::desc("Tensor-core matmul operands in device memory of at "
                     "most this many bytes are staged in shared memory by "
                     "the block first (0: fragments read from device "
                     "memory)"),
      llvm::cl::init(49152)};
  PassOptions::Option<int64_t> sharedRowPadding{
      *this, "shared-row-padding",
      llvm::cl::desc("Elements added to each row of shared-memory "
                     "temporaries whose rows are a multiple of 32 words "
                     "(bank conflicts of tensor-core fragment loads; "
                     "deltanet-gpu-promote-block-temporaries)"),
      llvm::cl::init(4)};
  PassOptions::Option<int64_t> globalAlignment{
      *this, "global-alignment",
      llvm::cl::desc("Byte alignment of the entry points' device buffers "
                     "that the aligned kernels assume (0 or a power of "
                     "two): 16 gives 16-byte global loads / stores where "
                     "offsets allow. Checked at run time unless "
                     "check-global-alignment=false "
                     "(deltanet-gpu-annotate-vector-alignment)"),
      llvm::cl::init(16)};
  PassOptions::Option<bool> checkGlobalAlignment{
      *this, "check-global-alignment",
      llvm::cl::desc("Check global-alignment at run time: the host tests "
                     "the buffers' addresses and each access that relies "
                     "on them branches to a scalar form when they are less "
                     "aligned (false: the caller promises the alignment; a "
                     "less aligned buffer faults)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> sharedMemoryReuse{
      *this, "shared-memory-reuse",
      llvm::cl::desc("Let shared-memory temporaries with disjoint lifetimes "
                     "share bytes"),
      llvm::cl::init(true)};
};

/// Checks option values that the pass options cannot (format, chip, the
/// availability of ptxas for bin/fatbin).
llvm::Error verifyGpuPipelineOptions(const GpuPipelineOptions &options);

/// Adds the passes that compile deltanet ops (in destination-passing
/// functions on device memrefs) to LLVM host code with embedded kernels.
void buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options);

/// Registers `--deltanet-gpu-pipeline` and the GPU code generation passes.
void registerDeltaNetGpuPipeline();

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_PIPELINES_GPUPIPELINE_H
