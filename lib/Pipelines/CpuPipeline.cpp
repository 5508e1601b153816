//===- CpuPipeline.cpp - deltanet ops on tensors to LLVM for the CPU ------===//
//
// Builds and registers --deltanet-cpu-pipeline from upstream passes and ours.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Pipelines/Pipelines.h"

#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::deltanet;

void mlir::deltanet::buildCpuPipeline(OpPassManager &pm,
                                      const CpuPipelineOptions &options) {
  // deltanet -> linalg/tensor/scf: attention ops into stages, stages and
  // tri_inv into linalg.
  pm.addPass(createDeltaNetDecomposeChunkGatedDeltaRule());
  pm.addPass(createDeltaNetLowerChunkStages());
  pm.addPass(createDeltaNetLowerRecurrentGatedDeltaRule());
  DeltaNetLowerTriInvOptions triInv;
  triInv.strategy = options.triInvStrategy;
  triInv.blockSize = options.triInvBlockSize;
  triInv.order = options.triInvOrder;
  triInv.residualSteps = options.triInvResidualSteps;
  triInv.batchTile = options.triInvBatchTile;
  triInv.precision = options.triInvPrecision;
  triInv.quantGranularity = options.triInvQuantGranularity;
  triInv.tolerance = options.triInvTolerance;
  pm.addPass(createDeltaNetLowerTriInv(triInv));
  pm.addPass(createDeltaNetLowerQuantization());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // INT8 matmuls as pairwise multiply-adds (vpdpwssd where the CPU has
  // VNNI); static float batched matmuls: one row per iteration as a vector
  // contraction.
  pm.addPass(createDeltaNetCpuVectorizeIntegerMatmuls());
  pm.addPass(createDeltaNetCpuVectorizeMatmuls());
  pm.addPass(createCanonicalizerPass());

  // Tensors -> buffers, across function boundaries with identity layouts
  // so that `llvm.emit_c_interface` functions take plain memrefs; callers'
  // input buffers are never written.
  pm.addPass(createDeltaNetProtectFunctionInputs());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Loops carrying tensors (state scans) may yield new buffers.
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());

  // Buffers -> loops, unit-stride loops innermost.
  pm.addNestedPass<func::FuncOp>(createDeltaNetCpuCopiesToLinalg());
  pm.addNestedPass<func::FuncOp>(createLinalgGeneralizeNamedOpsPass());
  pm.addNestedPass<func::FuncOp>(createDeltaNetCpuInterchangeReductions());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());

  // Vectors, loops and memrefs -> LLVM; contractions as outer products
  // (FMAs along the unit-stride output row).
  // Fully unrolled: no per-iteration stack temporaries inside loops.
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addNestedPass<func::FuncOp>(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addNestedPass<func::FuncOp>(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering =
      vector::VectorContractLowering::OuterProduct;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::deltanet::registerDeltaNetPipelines() {
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
        buildCpuPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const ::mlir::detail::PassOptions &)>
             optionHandler) { optionHandler(CpuPipelineOptions()); });
}
