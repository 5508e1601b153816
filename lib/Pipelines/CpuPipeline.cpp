//===- CpuPipeline.cpp - deltanet ops on tensors to LLVM for the CPU ------===//
//
// Builds and registers --deltanet-cpu-pipeline: the target-neutral lowering
// followed by the CPU codegen pipeline.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Pipelines/Pipelines.h"

#include "deltanet/Pipelines/NpuPipeline.h"

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "deltanet/Codegen/CPU/TargetInfo.h"
#include "deltanet/Codegen/Common/TargetInfo.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::deltanet;

bool mlir::deltanet::hostHasAVX512VNNI() {
  llvm::StringMap<bool, llvm::MallocAllocator> features =
      llvm::sys::getHostCPUFeatures();
  return features.lookup("avx512vnni") && features.lookup("avx512vl");
}

LogicalResult
mlir::deltanet::verifyCpuPipelineOptions(const CpuPipelineOptions &options,
                                         llvm::raw_ostream &errors) {
  if (options.numThreads < 0) {
    errors << "deltanet-cpu-pipeline: num-threads must be >= 0 (0 = "
              "OMP_NUM_THREADS), got "
           << static_cast<int64_t>(options.numThreads);
    return failure();
  }
  if (options.maxStackScratchBytes < 0) {
    errors << "deltanet-cpu-pipeline: max-stack-scratch-bytes must be >= 0 "
              "(0 = no scratch on the stack), got "
           << static_cast<int64_t>(options.maxStackScratchBytes);
    return failure();
  }
  return success();
}

CPUCodegenOptions CpuPipelineOptions::getCodegenOptions() const {
  CPUCodegenOptions codegen;
  codegen.numThreads = numThreads;
  codegen.bf16DotProducts = bf16DotProducts;
  codegen.int8DotProducts = int8DotProducts;
  codegen.resultsToOutParams = resultsToOutParams;
  codegen.prefetchGatherRows = prefetchGatherRows;
  codegen.maxStackScratchBytes = maxStackScratchBytes;
  return codegen;
}

void mlir::deltanet::buildCpuPipeline(OpPassManager &pm,
                                      const CpuPipelineOptions &options) {
  registerCPUTargetInfo();
  // Heads (and, with several threads, tri_inv matrix tiles) in an
  // scf.forall: one head's working set at a time, in parallel with threads.
  DeltaNetCpuParallelizeHeadsOptions parallel;
  if (options.numThreads != 1)
    parallel.matrixTile =
        options.triInvBatchTile < 0
            ? lookupTargetInfo("cpu")->getPreferredTriInvBatchTile()
            : options.triInvBatchTile;
  // Variable-length ops first become ops on a padded batch of sequences,
  // whose (sequence, head) pairs are then distributed like any batch.
  pm.addPass(createDeltaNetUnpackVarlenGatedDeltaRule());
  pm.addPass(createDeltaNetCpuParallelizeHeads(parallel));
  // Chunk attention per chunk: the stages' tensors are per-chunk workspaces
  // instead of whole-sequence ones (MBs per head, which fell out of cache
  // and, freed and allocated again by every head, were page-faulted in
  // again on every call, worst on OpenMP worker threads).
  DeltaNetDecomposeChunkGatedDeltaRuleOptions decompose;
  decompose.chunkLoop = true;
  pm.addPass(createDeltaNetDecomposeChunkGatedDeltaRule(decompose));
  addDeltaNetToLinalgPasses(pm, options, *lookupTargetInfo("cpu"),
                            options.chunkPrecision,
                            options.chunkStagePrecision);
  buildCPUCodegenPassPipeline(pm, options.getCodegenOptions());
}

void mlir::deltanet::registerDeltaNetPipelines() {
  // Every target's pipeline is registered here (the C API and the Python
  // extension call this one function).
  registerDeltaNetNpuPipeline();
  // Registered by hand rather than with PassPipelineRegistration so that a
  // pipeline nested under another op (func.func(deltanet-cpu-pipeline)) is
  // an error instead of a fatal error while adding its module passes.
  registerPassPipeline(
      "deltanet-cpu-pipeline",
      "Compile deltanet ops on tensors to the LLVM dialect for the host CPU",
      [](OpPassManager &pm, StringRef optionsText,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        StringRef anchor = pm.getOpAnchorName();
        if (anchor != ModuleOp::getOperationName())
          return errorHandler("deltanet-cpu-pipeline runs on 'builtin.module', "
                              "not on '" +
                              anchor + "'");
        CpuPipelineOptions options;
        if (failed(options.parseFromString(optionsText)))
          return failure();
        std::string message;
        llvm::raw_string_ostream os(message);
        if (failed(verifyCpuPipelineOptions(options, os)))
          return errorHandler(message);
        buildCpuPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const ::mlir::detail::PassOptions &)>
             optionHandler) { optionHandler(CpuPipelineOptions()); });
}
