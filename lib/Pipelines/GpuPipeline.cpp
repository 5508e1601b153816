//===- GpuPipeline.cpp - deltanet ops to NVVM kernels and LLVM host code --===//
//
// Builds and registers --deltanet-gpu-pipeline from upstream passes and ours.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Pipelines/GpuPipeline.h"

#include "deltanet/Codegen/GPU/Passes.h"
#include "deltanet/Codegen/Common/GuardedCanonicalizer.h"
#include "deltanet/Codegen/Common/TargetInfo.h"
#include "deltanet/Codegen/GPU/TargetInfo.h"
#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

using namespace mlir;
using namespace mlir::deltanet;

/// ptxas where MLIR's NVVM target looks for it: in $CUDA_ROOT, $CUDA_HOME or
/// $CUDA_PATH (bin/), or on PATH.
static bool havePtxas() {
  if (llvm::sys::findProgramByName("ptxas"))
    return true;
  for (const char *root : {(const char *)getenv("CUDA_ROOT"),
                           (const char *)getenv("CUDA_HOME"),
                           (const char *)getenv("CUDA_PATH")}) {
    if (!root || !*root)
      continue;
    llvm::SmallString<128> path(root);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return true;
  }
  return false;
}

llvm::Error
mlir::deltanet::verifyGpuPipelineOptions(const GpuPipelineOptions &options) {
  StringRef format = options.format;
  if (format != "isa" && format != "bin" && format != "fatbin")
    return llvm::createStringError(
        "format must be isa, bin or fatbin, got '" + format + "'");
  StringRef chip = options.chip;
  if (!chip.starts_with("sm_"))
    return llvm::createStringError("chip must be sm_XY, got '" + chip + "'");
  if (format != "isa" && !havePtxas())
    return llvm::createStringError(
        "format=" + format +
        " needs ptxas (on PATH, or in $CUDA_ROOT/bin); "
        "format=isa embeds PTX that the driver compiles at load");
  if (options.reductionStep < 0)
    return llvm::createStringError(
        "reduction-step must be >= 0 (0: scalar loops), got " +
        std::to_string(options.reductionStep));
  if (options.scanValueTile < -1)
    return llvm::createStringError(
        "scan-value-tile must be >= -1 (0: one block per sequence, -1: "
        "chosen from the shape), got " +
        std::to_string(options.scanValueTile));
  if (options.recurrentValueTile < 0)
    return llvm::createStringError(
        "recurrent-value-tile must be >= 0 (0: whole heads), got " +
        std::to_string(options.recurrentValueTile));
  if (options.tensorCoresMinReduction < 0)
    return llvm::createStringError(
        "tensor-cores-min-reduction must be >= 0, got " +
        std::to_string(options.tensorCoresMinReduction));
  if (StringRef(options.tensorCoresWarpTiling) != "rows" &&
      StringRef(options.tensorCoresWarpTiling) != "min-loads")
    return llvm::createStringError(
        "tensor-cores-warp-tiling must be rows or min-loads, got '" +
        options.tensorCoresWarpTiling + "'");
  if (options.sharedRowPadding < 0)
    return llvm::createStringError(
        "shared-row-padding must be >= 0, got " +
        std::to_string(options.sharedRowPadding));
  if (options.sharedNarrowRowBytes < 32 ||
      options.sharedNarrowRowBytes % 32 != 0)
    return llvm::createStringError(
        "shared-narrow-row-bytes must be a positive multiple of 32, got " +
        std::to_string(options.sharedNarrowRowBytes));
  if (options.globalAlignment < 0 ||
      (options.globalAlignment > 0 &&
       !llvm::isPowerOf2_64(options.globalAlignment)))
    return llvm::createStringError(
        "global-alignment must be 0 or a power of two, got " +
        std::to_string(options.globalAlignment));
  StringRef versioning = options.alignmentVersioning;
  if (versioning != "kernel" && versioning != "phase")
    return llvm::createStringError(
        "alignment-versioning must be kernel or phase, got '" + versioning +
        "'");
  if (options.maxVersionedOps < 0)
    return llvm::createStringError(
        "max-versioned-ops must be >= 0, got " +
        std::to_string(options.maxVersionedOps));
  if (options.prefetchTransposedPadding < -1)
    return llvm::createStringError(
        "prefetch-transposed-padding must be >= -1, got " +
        std::to_string(options.prefetchTransposedPadding));
  if (options.prefetchMaxBytes < 0)
    return llvm::createStringError(
        "prefetch-max-bytes must be >= 0, got " +
        std::to_string(options.prefetchMaxBytes));
  if (options.chunkPrecision == TriInvPrecision::I8)
    return llvm::createStringError(
        "chunk-precision=i8 is not offered on the GPU (f32, bf16, f16: the "
        "stage products on mma.sync)");
  // Malformed entries are the lowering pass's error (the same parser).
  llvm::Expected<ChunkStagePrecisions> stagePrecisions =
      parseChunkStagePrecisions(options.chunkPrecision,
                                options.chunkStagePrecision);
  if (!stagePrecisions)
    return llvm::createStringError(
        "chunk-stage-precision: " + llvm::toString(stagePrecisions.takeError()));
  if (stagePrecisions->uses(TriInvPrecision::I8))
    return llvm::createStringError(
        "chunk-stage-precision: i8 is not offered on the GPU (f32, bf16, "
        "f16: the stage products on mma.sync)");
  if (options.scanMmaChainWarps < 0 ||
      !llvm::is_contained({0, 1, 2, 4, 8}, int64_t(options.scanMmaChainWarps)))
    return llvm::createStringError(
        "scan-mma-chain-warps must be 0 (chosen), 1, 2, 4 or 8, got " +
        std::to_string(options.scanMmaChainWarps));
  if (options.scanMmaChainKeySplit < 0 || options.scanMmaChainKeySplit > 2)
    return llvm::createStringError(
        "scan-mma-chain-key-split must be 0 (chosen), 1 or 2, got " +
        std::to_string(options.scanMmaChainKeySplit));
  if (options.outputMmaChainValueTile < 0 ||
      options.outputMmaChainValueTile % 16 != 0)
    return llvm::createStringError(
        "output-mma-chain-value-tile must be 0 (chosen) or a positive "
        "multiple of 16, got " +
        std::to_string(options.outputMmaChainValueTile));
  if (options.threads <= 0 || options.threads % 32 != 0 ||
      options.threads > 1024)
    return llvm::createStringError(
        "threads must be a multiple of 32 in [32, 1024], got " +
        std::to_string(options.threads));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// The pipeline's options as the passes' (the one place mapping them)
//===----------------------------------------------------------------------===//

DeltaNetGpuDistributeToBlocksOptions
GpuPipelineOptions::getDistributeToBlocksOptions() const {
  DeltaNetGpuDistributeToBlocksOptions pass;
  pass.scanValueTile = scanValueTile;
  pass.recurrentValueTile = recurrentValueTile;
  pass.fuseChunkPrologue = fuseChunkPrologue;
  // `none` (the pipeline's spelling of an empty list): every kernel gets
  // `threads`.
  for (const std::string &entry : kernelThreads)
    if (entry != "none")
      pass.kernelThreads.push_back(entry);
  return pass;
}

DeltaNetGpuLowerChunkStateScanToMmaChainOptions
GpuPipelineOptions::getLowerChunkStateScanToMmaChainOptions() const {
  DeltaNetGpuLowerChunkStateScanToMmaChainOptions pass;
  pass.warps = scanMmaChainWarps;
  pass.keySplit = scanMmaChainKeySplit;
  pass.keyFromSource = scanMmaChainKeyFromSource;
  pass.stagedStores = scanMmaChainStagedStores;
  pass.movmatrixStores = scanMmaChainMovmatrixStores;
  pass.stages = scanMmaChainStages;
  return pass;
}

DeltaNetGpuLowerChunkOutputToMmaChainOptions
GpuPipelineOptions::getLowerChunkOutputToMmaChainOptions() const {
  DeltaNetGpuLowerChunkOutputToMmaChainOptions pass;
  pass.valueTile = outputMmaChainValueTile;
  return pass;
}

DeltaNetGpuFuseIntoBlocksOptions
GpuPipelineOptions::getFuseIntoBlocksOptions() const {
  DeltaNetGpuFuseIntoBlocksOptions pass;
  pass.gathers = fuseGathers;
  pass.gatherLayouts = fuseGatherLayouts;
  pass.scatters = fuseScatter;
  return pass;
}

DeltaNetGpuPromoteBlockTemporariesOptions
GpuPipelineOptions::getPromoteBlockTemporariesOptions() const {
  DeltaNetGpuPromoteBlockTemporariesOptions pass;
  pass.rowPadding = sharedRowPadding;
  pass.narrowRowBytes = sharedNarrowRowBytes;
  return pass;
}

DeltaNetGpuMatmulsToMmaSyncOptions
GpuPipelineOptions::getMatmulsToMmaSyncOptions() const {
  DeltaNetGpuMatmulsToMmaSyncOptions pass;
  pass.threads = threads;
  pass.minReduction = tensorCoresMinReduction;
  pass.stageOperandBytes = tensorCoresStageBytes;
  pass.zeroInitAccumulators = tensorCoresZeroInit;
  pass.stageFromProducer = tensorCoresStageFromProducer;
  pass.warpTiling = tensorCoresWarpTiling;
  pass.chainProducts = tensorCoresChainProducts;
  pass.foldAccumulatorProducers = tensorCoresFoldAccumulatorProducers;
  pass.foldAccumulatorConsumers = tensorCoresFoldAccumulatorConsumers;
  pass.foldAccumulatorCopies = tensorCoresFoldAccumulatorCopies;
  pass.markCarriedAccumulators = tensorCoresCarryAccumulators;
  pass.accumulatorRowPadding = tensorCoresAccumulatorRowPadding;
  pass.int8 = tensorCoresInt8;
  pass.ldmatrix = tensorCoresLdmatrix;
  return pass;
}

DeltaNetGpuPrefetchLoopOperandsOptions
GpuPipelineOptions::getPrefetchLoopOperandsOptions() const {
  DeltaNetGpuPrefetchLoopOperandsOptions pass;
  pass.threads = threads;
  pass.maxBytes = prefetchMaxBytes;
  pass.rowPadding = sharedRowPadding;
  pass.transposedPadding = prefetchTransposedPadding;
  // Arguments only under a promise: with checked alignment the host-side
  // test versions vector accesses, not these copies (the scan reads only
  // the program's own buffers anyway).
  pass.globalAlignment = checkGlobalAlignment ? 0 : int64_t(globalAlignment);
  return pass;
}

DeltaNetGpuMapToThreadsOptions
GpuPipelineOptions::getMapToThreadsOptions() const {
  DeltaNetGpuMapToThreadsOptions pass;
  pass.threads = threads;
  pass.reductionStep = reductionStep;
  return pass;
}

DeltaNetGpuWorkgroupAllocsToDynamicSharedOptions
GpuPipelineOptions::getWorkgroupAllocsToDynamicSharedOptions() const {
  DeltaNetGpuWorkgroupAllocsToDynamicSharedOptions pass;
  pass.reuse = sharedMemoryReuse;
  return pass;
}

DeltaNetGpuAnnotateVectorAlignmentOptions
GpuPipelineOptions::getAnnotateVectorAlignmentOptions() const {
  DeltaNetGpuAnnotateVectorAlignmentOptions pass;
  pass.globalAlignment = globalAlignment;
  pass.checkGlobalAlignment = checkGlobalAlignment;
  pass.versioning = alignmentVersioning;
  pass.maxVersionedOps = maxVersionedOps;
  return pass;
}

void mlir::deltanet::buildGpuPipeline(OpPassManager &pm,
                                      const GpuPipelineOptions &options) {
  // The attention op into stages, every batched op one thread block per
  // matrix / chunk / head, then the target-neutral lowering to linalg on
  // tensors (inside a block loop: one element's chain).
  registerGPUTargetInfo();
  // The summary becomes the chunk op's stages on the augmented state here,
  // before the distribution, so that its stages get blocks like the chunk
  // op's (addDeltaNetToLinalgPasses would decompose it after).
  pm.addPass(createDeltaNetDecomposeGatedDeltaRuleSummary());
  pm.addPass(createDeltaNetDecomposeChunkGatedDeltaRule());
  // 16-bit intermediates decided while the stages still read each other
  // directly (after the distribution they read block slices); the run in
  // addDeltaNetToLinalgPasses then finds nothing left to narrow.
  addNarrowStageIntermediatesPass(pm, *lookupTargetInfo("gpu"),
                                  options.chunkPrecision,
                                  options.chunkStagePrecision,
                                  options.narrowScanU);
  // A 16-bit state scan as its own kernel, the state in mma.sync registers
  // (tensor cores only; on by default, off with scan-mma-chain=false).
  if (options.scanMmaChain && options.tensorCores)
    pm.addNestedPass<func::FuncOp>(
        createDeltaNetGpuLowerChunkStateScanToMmaChain(
            options.getLowerChunkStateScanToMmaChainOptions()));
  // A 16-bit output stage as its own kernel, q k^T chained into (.) v_new
  // in mma.sync registers (tensor cores only; on by default, off with
  // output-mma-chain=false).
  if (options.outputMmaChain && options.tensorCores)
    pm.addNestedPass<func::FuncOp>(
        createDeltaNetGpuLowerChunkOutputToMmaChain(
            options.getLowerChunkOutputToMmaChainOptions()));
  // A 16-bit chunk prologue (gated K K^T, inverse, WY) as its own kernel,
  // each warp's rows of the C x C matrices in mma.sync registers (tensor
  // cores only; on by default, off with prologue-mma-chain=false).
  // The inverse's products follow tri-inv-precision (f32: split 16-bit
  // high / low operands).
  if (options.prologueMmaChain && options.tensorCores) {
    DeltaNetGpuLowerChunkPrologueToMmaChainOptions prologue;
    prologue.inversePrecision = options.triInvPrecision;
    pm.addNestedPass<func::FuncOp>(
        createDeltaNetGpuLowerChunkPrologueToMmaChain(prologue));
  }
  pm.addPass(
      createDeltaNetGpuDistributeToBlocks(options.getDistributeToBlocksOptions()));
  addDeltaNetToLinalgPasses(pm, options, *lookupTargetInfo("gpu"),
                            options.chunkPrecision,
                            options.chunkStagePrecision);
  // Gathers recomputed by the blocks that read them, the output's scatter
  // done by the blocks that produce it: fewer kernels, no f32 round trips.
  if (options.fuseGathers || options.fuseScatter)
    pm.addPass(
        createDeltaNetGpuFuseIntoBlocks(options.getFuseIntoBlocksOptions()));
  pm.addPass(createDeltaNetGpuDistributeLinalgToBlocks());
  pm.addPass(createDeltaNetGpuFuseElementwise());
  pm.addPass(createGuardedCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.sinkAccumulatorProducers)
    pm.addPass(createDeltaNetGpuSinkAccumulatorProducers());
  // Results assembled in the destination (device memory) where possible,
  // the remaining temporaries in shared memory. Inits that CSE merged are
  // untied first: two results computed into one shared fill were
  // miscomputed by bufferization (deltanet-gpu-untie-shared-inits).
  pm.addPass(createDeltaNetGpuUntieSharedInits());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(createDeltaNetGpuPromoteBlockTemporaries(
      options.getPromoteBlockTemporariesOptions()));

  // Tensors -> buffers: a block's temporaries in shared memory; results
  // written into the destination arguments.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // State scans carry tensors through loops inside kernels.
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createConvertBufferizationToMemRefPass());
  // CSE first: the two subviews of each scf.forall result slice (the
  // destination and the parallel insert) become one, and the canonicalizer
  // then drops the copy of that slice onto itself (otherwise a real copy,
  // with a barrier, once per chunk in the state scan).
  pm.addPass(createCSEPass());
  pm.addPass(createGuardedCanonicalizerPass());

  // Matmuls of the blocks on tensor cores: warp loops of mma.sync (mapped
  // to threads with the other loops by deltanet-gpu-map-to-threads).
  if (options.tensorCores)
    pm.addNestedPass<func::FuncOp>(
        createDeltaNetGpuMatmulsToMmaSync(options.getMatmulsToMmaSyncOptions()));
  // The state scan's per-chunk operands copied to shared memory with
  // cp.async one chunk ahead (overlapping the chunk's other phases).
  if (options.prefetchLoopOperands)
    pm.addNestedPass<func::FuncOp>(createDeltaNetGpuPrefetchLoopOperands(
        options.getPrefetchLoopOperandsOptions()));
  // Block loops -> gpu.launch, linalg ops spread over threads, shared
  // memory packed into the launch's dynamic shared memory.
  pm.addNestedPass<func::FuncOp>(
      createDeltaNetGpuMapToThreads(options.getMapToThreadsOptions()));
  // The state scan's S kept in the update's accumulator registers across
  // chunks (the fragments marked by the tensor-core pass).
  if (options.tensorCores && options.tensorCoresCarryAccumulators)
    pm.addPass(createDeltaNetGpuCarryAccumulators());
  if (options.prefetchLoopOperands)
    pm.addPass(createDeltaNetGpuDropBarriersAfterAsyncCopies());
  // Upstream: the barriers that separate no conflicting pair of memory
  // accesses go (the thread mapping puts one after every thread loop, e.g.
  // between the state scan's independent copy of S and staging of w). Run
  // while every shared temporary is its own allocation: after the packing
  // into one dynamic shared buffer, all of them would alias.
  if (options.eliminateBarriers)
    pm.addNestedPass<func::FuncOp>(createGpuEliminateBarriers());
  pm.addPass(createDeltaNetGpuWorkgroupAllocsToDynamicShared(
      options.getWorkgroupAllocsToDynamicSharedOptions()));
  pm.addNestedPass<func::FuncOp>(createDeltaNetGpuHostAllocsToDevice());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createGuardedCanonicalizerPass());
  // Per-thread vector code: n-D transfers unrolled to 1-D, then loads,
  // stores and FMAs.
  pm.addPass(createDeltaNetGpuLowerVectors());
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll().setTargetRank(1)));
  pm.addPass(createDeltaNetGpuLowerVectors());
  pm.addPass(createGuardedCanonicalizerPass());
  // The canonicalizer folds a chain of inserts of one vector's elements back
  // into an n-D vector.shape_cast (the transposed i8 operands of an INT8
  // tri_inv's i8 x i8 -> i32 products: vector<4xi8> to vector<4x1xi8>),
  // which the LLVM conversion cannot lower: lowered again here (a no-op
  // for the f32 / bf16 kernels: their PTX is unchanged).
  pm.addPass(createDeltaNetGpuLowerVectors());
  pm.addPass(createDeltaNetGpuAnnotateVectorAlignment(
      options.getAnnotateVectorAlignmentOptions()));
  pm.addPass(createCSEPass());
  pm.addPass(createLowerAffinePass());
  // Upstream: constants used by a launch are cloned into it (the outlining
  // would otherwise pass each as a kernel parameter, opaque to LLVM).
  if (options.sinkIndexComputations)
    pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  // Launches, allocations and copies on one stream with tokens (the
  // synchronous forms are not lowered by gpu-to-llvm).
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());

  // bf16 mma.sync to NVVM ourselves: upstream's nvgpu-to-nvvm rejects bf16
  // operands (deltanet-gpu-lower-bf16-mma-sync says what it lacks).
  pm.addNestedPass<gpu::GPUModuleOp>(createDeltaNetGpuLowerBf16MmaSync());
  // Upstream: NVVM, host LLVM, kernels serialised and embedded.
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  nvvm.cubinFeatures = options.features;
  nvvm.cubinFormat = options.format;
  nvvm.optLevel = 3;
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}

void mlir::deltanet::registerDeltaNetGpuPipeline() {
  registerDeltaNetCodegenGPUPasses();
  registerPassPipeline(
      "deltanet-gpu-pipeline",
      "Compile deltanet ops (destination-passing functions on device "
      "memrefs) to LLVM host code with embedded NVVM kernels",
      [](OpPassManager &pm, StringRef optionsText,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        StringRef anchor = pm.getOpAnchorName();
        if (anchor != ModuleOp::getOperationName())
          return errorHandler("deltanet-gpu-pipeline runs on 'builtin.module', "
                              "not on '" +
                              anchor + "'");
        GpuPipelineOptions options;
        if (failed(options.parseFromString(optionsText)))
          return failure();
        if (llvm::Error error = verifyGpuPipelineOptions(options))
          return errorHandler("deltanet-gpu-pipeline: " +
                              llvm::toString(std::move(error)));
        buildGpuPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const ::mlir::detail::PassOptions &)>
             optionHandler) { optionHandler(GpuPipelineOptions()); });
}
