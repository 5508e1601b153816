//===- GpuPipeline.h - --deltanet-gpu-pipeline ------------------*- C++ -*-===//
//
// Options and builder of the pipeline that compiles deltanet programs for
// NVIDIA GPUs (kernels as PTX or cubin embedded in LLVM host code).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_PIPELINES_GPUPIPELINE_H
#define DELTANET_PIPELINES_GPUPIPELINE_H

#include "deltanet/Codegen/GPU/Passes.h"
#include "deltanet/Pipelines/TriInvPipelineOptions.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/Error.h"

namespace mlir {
class OpPassManager;
namespace deltanet {

/// Options of `--deltanet-gpu-pipeline`; the tri_inv options are the shared
/// `tri-inv-<name>` ones (the GPU's defaults: TargetInfo "gpu"), and
/// `chunk-precision` the shared one (ChunkPipelineOptions).
///
/// Each option that sets a pass option is declared here once, as the
/// pipeline's spelling of it: its meaning is documented on the pass
/// (deltanet/Codegen/GPU/Passes.td, named in the description), its default
/// is read from the pass's ODS-generated options struct unless the pipeline
/// chooses another one (said next to it), and the `get<Pass>Options()`
/// members below are the one place that maps them to the passes
/// (test/Pipelines/gpu-pipeline-options-match-passes.mlir checks that every
/// option reaches its passes). The other options are the pipeline's own.
struct GpuPipelineOptions : public PassPipelineOptions<GpuPipelineOptions>,
                            public TriInvPipelineOptions,
                            public ChunkPipelineOptions {
  //===--------------------------------------------------------------------===//
  // The pipeline's own options (target, kernel format, which passes run)
  //===--------------------------------------------------------------------===//
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
      *this, "threads",
      llvm::cl::desc("Threads per block of the kernels that kernel-threads "
                     "does not list (deltanet-gpu-map-to-threads, "
                     "-matmuls-to-mma-sync and -prefetch-loop-operands "
                     "threads; the pipeline's default: 128)"),
      llvm::cl::init(128)};
  PassOptions::Option<bool> sinkIndexComputations{
      *this, "sink-index-computations",
      llvm::cl::desc("Run upstream gpu-launch-sink-index-computations before "
                     "the kernel outlining: constants (loop bounds, strides, "
                     "shared-memory offsets, masks' index vectors) defined "
                     "above a gpu.launch are cloned into its body instead of "
                     "becoming kernel parameters, so that LLVM folds them "
                     "(known trip counts, no divisions by parameters); "
                     "upstream's outlining no longer sinks them itself"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> eliminateBarriers{
      *this, "eliminate-barriers",
      llvm::cl::desc("Erase the barriers after thread loops that order no "
                     "conflicting memory accesses (upstream "
                     "gpu-eliminate-barriers; off by default: 1% on the "
                     "attention in session 7, and its fix for threads=256 "
                     "(shared bytes reused only across a barrier) was not "
                     "rerun on the H200, docs/GPU.md)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("Matmuls of the blocks with K >= "
                     "tensor-cores-min-reduction on tensor cores "
                     "(deltanet-gpu-matmuls-to-mma-sync: f32 operands as "
                     "tf32 m16n8k8, bf16 / f16 as m16n8k16); false: all "
                     "SIMT FMAs"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> scanMmaChain{
      *this, "scan-mma-chain",
      llvm::cl::desc("Run deltanet-gpu-lower-chunk-state-scan-to-mma-chain: "
                     "a 16-bit state scan (chunk-precision / "
                     "chunk-stage-precision bf16 or f16) as one kernel whose "
                     "warps carry the transposed state in mma.sync "
                     "registers (f32 scans and tensor-cores=false are "
                     "unaffected; measured faster on an H200 at both "
                     "shapes, docs/GPU.md)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> scanMmaChainWarps{
      *this, "scan-mma-chain-warps",
      llvm::cl::desc("deltanet-gpu-lower-chunk-state-scan-to-mma-chain warps "
                     "(0: chosen from the shape)"),
      llvm::cl::init(DeltaNetGpuLowerChunkStateScanToMmaChainOptions().warps)};
  PassOptions::Option<int64_t> scanMmaChainKeySplit{
      *this, "scan-mma-chain-key-split",
      llvm::cl::desc("deltanet-gpu-lower-chunk-state-scan-to-mma-chain "
                     "key-split (0: 2 where K allows)"),
      llvm::cl::init(
          DeltaNetGpuLowerChunkStateScanToMmaChainOptions().keySplit)};
  PassOptions::Option<bool> outputMmaChain{
      *this, "output-mma-chain",
      llvm::cl::desc("Run deltanet-gpu-lower-chunk-output-to-mma-chain: a "
                     "16-bit output stage (chunk-precision / "
                     "chunk-stage-precision bf16 or f16) as one kernel whose "
                     "warps chain q k^T into (.) v_new in mma.sync "
                     "registers (f32 stages and tensor-cores=false are "
                     "unaffected; measured faster on an H200 at both shapes, "
                     "docs/GPU.md)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> outputMmaChainValueTile{
      *this, "output-mma-chain-value-tile",
      llvm::cl::desc("deltanet-gpu-lower-chunk-output-to-mma-chain "
                     "value-tile (0: chosen from the shape)"),
      llvm::cl::init(
          DeltaNetGpuLowerChunkOutputToMmaChainOptions().valueTile)};
  PassOptions::Option<bool> prologueMmaChain{
      *this, "prologue-mma-chain",
      llvm::cl::desc("Run deltanet-gpu-lower-chunk-prologue-to-mma-chain: "
                     "a 16-bit chunk prologue (gated K K^T, inverse, WY; "
                     "chunk-precision / chunk-stage-precision bf16 or f16) "
                     "as one kernel whose warps keep their rows in mma.sync "
                     "registers, the cumulative decays computed in it (f32 "
                     "prologues and tensor-cores=false are unaffected; "
                     "measured faster on an H200 at both shapes, "
                     "docs/GPU.md)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> narrowScanU{
      *this, "narrow-scan-u",
      llvm::cl::desc("deltanet-narrow-stage-intermediates narrow-u: wy_repr's "
                     "u stored in the 16-bit type of the state scan that "
                     "reads it (half its bytes; v_new from the rounded u, "
                     "as fla; changes the numerics)"),
      llvm::cl::init(DeltaNetNarrowStageIntermediatesOptions().narrowU)};
  PassOptions::Option<bool> scanMmaChainKeyFromSource{
      *this, "scan-mma-chain-k-from-source",
      llvm::cl::desc("deltanet-gpu-lower-chunk-state-scan-to-mma-chain "
                     "k-from-source (k staged from the gather's input, the "
                     "gather gone)"),
      llvm::cl::init(
          DeltaNetGpuLowerChunkStateScanToMmaChainOptions().keyFromSource)};
  PassOptions::Option<bool> scanMmaChainStagedStores{
      *this, "scan-mma-chain-staged-stores",
      llvm::cl::desc("deltanet-gpu-lower-chunk-state-scan-to-mma-chain "
                     "staged-stores (states / v_new in 16-byte rows)"),
      llvm::cl::init(
          DeltaNetGpuLowerChunkStateScanToMmaChainOptions().stagedStores)};
  PassOptions::Option<bool> scanMmaChainMovmatrixStores{
      *this, "scan-mma-chain-movmatrix-stores",
      llvm::cl::desc("deltanet-gpu-lower-chunk-state-scan-to-mma-chain "
                     "movmatrix-stores (states / v_new in 8-byte pieces of "
                     "whole 32-byte sectors, transposed in registers)"),
      llvm::cl::init(
          DeltaNetGpuLowerChunkStateScanToMmaChainOptions().movmatrixStores)};
  PassOptions::Option<int64_t> scanMmaChainStages{
      *this, "scan-mma-chain-stages",
      llvm::cl::desc("deltanet-gpu-lower-chunk-state-scan-to-mma-chain "
                     "stages (slots of the staged chunks: stages - 1 chunks' "
                     "copies in flight)"),
      llvm::cl::init(
          DeltaNetGpuLowerChunkStateScanToMmaChainOptions().stages)};
  PassOptions::Option<bool> prefetchLoopOperands{
      *this, "prefetch-loop-operands",
      llvm::cl::desc("Run deltanet-gpu-prefetch-loop-operands (the state "
                     "scan's per-chunk operands staged in shared memory one "
                     "chunk ahead with cp.async)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> sinkAccumulatorProducers{
      *this, "sink-accumulator-producers",
      llvm::cl::desc("Run deltanet-gpu-sink-accumulator-producers (shorter "
                     "shared-memory lifetimes)"),
      llvm::cl::init(true)};

  //===--------------------------------------------------------------------===//
  // Pass options, pipeline spelling (meaning: the pass's documentation)
  //===--------------------------------------------------------------------===//
  // deltanet-gpu-distribute-to-blocks
  PassOptions::Option<int64_t> scanValueTile{
      *this, "scan-value-tile",
      llvm::cl::desc("deltanet-gpu-distribute-to-blocks scan-value-tile (the "
                     "pipeline's default: -1, chosen from the shape)"),
      llvm::cl::init(-1)};
  PassOptions::Option<bool> fuseChunkPrologue{
      *this, "fuse-chunk-prologue",
      llvm::cl::desc("deltanet-gpu-distribute-to-blocks fuse-chunk-prologue"),
      llvm::cl::init(
          DeltaNetGpuDistributeToBlocksOptions().fuseChunkPrologue)};
  PassOptions::ListOption<std::string> kernelThreads{
      *this, "kernel-threads",
      llvm::cl::desc("deltanet-gpu-distribute-to-blocks kernel-threads "
                     "(KIND=N: threads per block by kernel, the others "
                     "`threads`; `none`, the pipeline's default: no entry. "
                     "H200, large attention shape, same process: the output "
                     "stage at 256 threads with the others at 128 ran 0.390 "
                     "ms vs 0.362 at 128 (session 10), although with one "
                     "count of 256 for every kernel it had run 0.320 vs 0.361 "
                     "(session 9); docs/GPU.md)"),
      llvm::cl::list_init<std::string>({"none"})};
  PassOptions::Option<int64_t> recurrentValueTile{
      *this, "recurrent-value-tile",
      llvm::cl::desc("deltanet-gpu-distribute-to-blocks recurrent-value-tile "
                     "(whole heads measured fastest for decode on the H200)"),
      llvm::cl::init(
          DeltaNetGpuDistributeToBlocksOptions().recurrentValueTile)};
  // deltanet-gpu-fuse-into-blocks (not run when both are false)
  PassOptions::Option<bool> fuseGathers{
      *this, "fuse-gathers",
      llvm::cl::desc("deltanet-gpu-fuse-into-blocks gathers"),
      llvm::cl::init(DeltaNetGpuFuseIntoBlocksOptions().gathers)};
  PassOptions::Option<std::string> fuseGatherLayouts{
      *this, "fuse-gather-layouts",
      llvm::cl::desc("deltanet-gpu-fuse-into-blocks gather-layouts (all, "
                     "no-broadcast, matmul, none)"),
      llvm::cl::init(DeltaNetGpuFuseIntoBlocksOptions().gatherLayouts)};
  PassOptions::Option<bool> fuseScatter{
      *this, "fuse-scatter",
      llvm::cl::desc("deltanet-gpu-fuse-into-blocks scatters"),
      llvm::cl::init(DeltaNetGpuFuseIntoBlocksOptions().scatters)};
  // deltanet-gpu-promote-block-temporaries, -prefetch-loop-operands
  PassOptions::Option<int64_t> sharedRowPadding{
      *this, "shared-row-padding",
      llvm::cl::desc("deltanet-gpu-promote-block-temporaries and "
                     "-prefetch-loop-operands row-padding (the pipeline's "
                     "default: 4, against bank conflicts of tensor-core "
                     "fragment loads)"),
      llvm::cl::init(4)};
  PassOptions::Option<int64_t> sharedNarrowRowBytes{
      *this, "shared-narrow-row-bytes",
      llvm::cl::desc("deltanet-gpu-promote-block-temporaries "
                     "narrow-row-bytes"),
      llvm::cl::init(
          DeltaNetGpuPromoteBlockTemporariesOptions().narrowRowBytes)};
  // deltanet-gpu-matmuls-to-mma-sync
  PassOptions::Option<int64_t> tensorCoresMinReduction{
      *this, "tensor-cores-min-reduction",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync min-reduction"),
      llvm::cl::init(DeltaNetGpuMatmulsToMmaSyncOptions().minReduction)};
  PassOptions::Option<int64_t> tensorCoresStageBytes{
      *this, "tensor-cores-stage-bytes",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync stage-operand-bytes "
                     "(the pipeline's default: 49152, staged)"),
      llvm::cl::init(49152)};
  PassOptions::Option<bool> tensorCoresZeroInit{
      *this, "tensor-cores-zero-init",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync zero-init-accumulators"),
      llvm::cl::init(
          DeltaNetGpuMatmulsToMmaSyncOptions().zeroInitAccumulators)};
  PassOptions::Option<bool> tensorCoresStageFromProducer{
      *this, "tensor-cores-stage-from-producer",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync stage-from-producer"),
      llvm::cl::init(DeltaNetGpuMatmulsToMmaSyncOptions().stageFromProducer)};
  PassOptions::Option<std::string> tensorCoresWarpTiling{
      *this, "tensor-cores-warp-tiling",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync warp-tiling (rows, "
                     "min-loads)"),
      llvm::cl::init(DeltaNetGpuMatmulsToMmaSyncOptions().warpTiling)};
  PassOptions::Option<bool> tensorCoresChainProducts{
      *this, "tensor-cores-chain-products",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync chain-products"),
      llvm::cl::init(DeltaNetGpuMatmulsToMmaSyncOptions().chainProducts)};
  PassOptions::Option<bool> tensorCoresFoldAccumulatorProducers{
      *this, "tensor-cores-fold-accumulator-producers",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync fold-accumulator-producers"),
      llvm::cl::init(
          DeltaNetGpuMatmulsToMmaSyncOptions().foldAccumulatorProducers)};
  PassOptions::Option<bool> tensorCoresFoldAccumulatorConsumers{
      *this, "tensor-cores-fold-accumulator-consumers",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync fold-accumulator-consumers "
                     "(the pipeline's default: false; with the kernels' "
                     "constants sunk, the output stage ran 0.485 ms folded "
                     "and chained vs 0.362 ms neither, H200, large shape; "
                     "docs/GPU.md, session 9 status)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> tensorCoresFoldAccumulatorCopies{
      *this, "tensor-cores-fold-accumulator-copies",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync fold-accumulator-copies"),
      llvm::cl::init(
          DeltaNetGpuMatmulsToMmaSyncOptions().foldAccumulatorCopies)};
  PassOptions::Option<int64_t> tensorCoresAccumulatorRowPadding{
      *this, "tensor-cores-accumulator-row-padding",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync accumulator-row-padding"),
      llvm::cl::init(
          DeltaNetGpuMatmulsToMmaSyncOptions().accumulatorRowPadding)};
  PassOptions::Option<bool> tensorCoresInt8{
      *this, "tensor-cores-int8",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync int8 (tri-inv-"
                     "precision=i8: the quantised products with M, N, K "
                     "multiples of 16, 8, 32 on s8 mma.sync m16n8k32)"),
      llvm::cl::init(DeltaNetGpuMatmulsToMmaSyncOptions().int8)};
  PassOptions::Option<bool> tensorCoresLdmatrix{
      *this, "tensor-cores-ldmatrix",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync ldmatrix (16-bit "
                     "fragments in shared memory read with ldmatrix; false: "
                     "per-element loads)"),
      llvm::cl::init(DeltaNetGpuMatmulsToMmaSyncOptions().ldmatrix)};
  PassOptions::Option<bool> tensorCoresCarryAccumulators{
      *this, "tensor-cores-carry-accumulators",
      llvm::cl::desc("deltanet-gpu-matmuls-to-mma-sync "
                     "mark-carried-accumulators and "
                     "deltanet-gpu-carry-accumulators after the thread "
                     "mapping (the state scan's S kept in the update's "
                     "accumulator registers across chunks)"),
      llvm::cl::init(true)};
  // deltanet-gpu-prefetch-loop-operands
  PassOptions::Option<int64_t> prefetchMaxBytes{
      *this, "prefetch-max-bytes",
      llvm::cl::desc("deltanet-gpu-prefetch-loop-operands max-bytes"),
      llvm::cl::init(DeltaNetGpuPrefetchLoopOperandsOptions().maxBytes)};
  PassOptions::Option<int64_t> prefetchTransposedPadding{
      *this, "prefetch-transposed-padding",
      llvm::cl::desc("deltanet-gpu-prefetch-loop-operands transposed-padding"),
      llvm::cl::init(
          DeltaNetGpuPrefetchLoopOperandsOptions().transposedPadding)};
  // deltanet-gpu-map-to-threads
  PassOptions::Option<int64_t> reductionStep{
      *this, "reduction-step",
      llvm::cl::desc("deltanet-gpu-map-to-threads reduction-step"),
      llvm::cl::init(DeltaNetGpuMapToThreadsOptions().reductionStep)};
  // deltanet-gpu-workgroup-allocs-to-dynamic-shared
  PassOptions::Option<bool> sharedMemoryReuse{
      *this, "shared-memory-reuse",
      llvm::cl::desc("deltanet-gpu-workgroup-allocs-to-dynamic-shared reuse"),
      llvm::cl::init(DeltaNetGpuWorkgroupAllocsToDynamicSharedOptions().reuse)};
  // deltanet-gpu-annotate-vector-alignment (and -prefetch-loop-operands
  // when not checked)
  PassOptions::Option<int64_t> globalAlignment{
      *this, "global-alignment",
      llvm::cl::desc("deltanet-gpu-annotate-vector-alignment global-alignment "
                     "(the pipeline's default: 16, 16-byte global accesses)"),
      llvm::cl::init(16)};
  PassOptions::Option<bool> checkGlobalAlignment{
      *this, "check-global-alignment",
      llvm::cl::desc("deltanet-gpu-annotate-vector-alignment "
                     "check-global-alignment (false: the caller promises "
                     "global-alignment; a less aligned buffer faults)"),
      llvm::cl::init(
          DeltaNetGpuAnnotateVectorAlignmentOptions().checkGlobalAlignment)};
  PassOptions::Option<std::string> alignmentVersioning{
      *this, "alignment-versioning",
      llvm::cl::desc("deltanet-gpu-annotate-vector-alignment versioning "
                     "(kernel: an aligned and an element-aligned kernel per "
                     "launch, chosen on the host; phase: inside the kernel)"),
      llvm::cl::init(DeltaNetGpuAnnotateVectorAlignmentOptions().versioning)};
  PassOptions::Option<int64_t> maxVersionedOps{
      *this, "max-versioned-ops",
      llvm::cl::desc("deltanet-gpu-annotate-vector-alignment "
                     "max-versioned-ops (alignment-versioning=phase: the "
                     "largest phase versioned as a whole)"),
      llvm::cl::init(
          DeltaNetGpuAnnotateVectorAlignmentOptions().maxVersionedOps)};

  //===--------------------------------------------------------------------===//
  // The passes' options from these (GpuPipeline.cpp)
  //===--------------------------------------------------------------------===//
  DeltaNetGpuDistributeToBlocksOptions getDistributeToBlocksOptions() const;
  DeltaNetGpuLowerChunkStateScanToMmaChainOptions
  getLowerChunkStateScanToMmaChainOptions() const;
  DeltaNetGpuLowerChunkOutputToMmaChainOptions
  getLowerChunkOutputToMmaChainOptions() const;
  DeltaNetGpuFuseIntoBlocksOptions getFuseIntoBlocksOptions() const;
  DeltaNetGpuPromoteBlockTemporariesOptions
  getPromoteBlockTemporariesOptions() const;
  DeltaNetGpuMatmulsToMmaSyncOptions getMatmulsToMmaSyncOptions() const;
  DeltaNetGpuPrefetchLoopOperandsOptions getPrefetchLoopOperandsOptions() const;
  DeltaNetGpuMapToThreadsOptions getMapToThreadsOptions() const;
  DeltaNetGpuWorkgroupAllocsToDynamicSharedOptions
  getWorkgroupAllocsToDynamicSharedOptions() const;
  DeltaNetGpuAnnotateVectorAlignmentOptions
  getAnnotateVectorAlignmentOptions() const;
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
