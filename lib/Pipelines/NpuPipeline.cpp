//===- NpuPipeline.cpp - deltanet ops on tensors to C for an NPU ----------===//
//
// Builds and registers --deltanet-npu-pipeline: the deltanet lowering, the
// npu mapping and the EmitC conversion (print C with mlir-translate
// --mlir-to-cpp).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Pipelines/NpuPipeline.h"

#include "deltanet/Codegen/Common/Passes.h"
#include "deltanet/Codegen/Common/GuardedCanonicalizer.h"
#include "deltanet/Codegen/Common/TargetInfo.h"
#include "deltanet/Codegen/NPU/Passes.h"
#include "deltanet/Codegen/NPU/TargetInfo.h"
#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
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

void mlir::deltanet::buildNpuPipeline(OpPassManager &pm,
                                      const NpuPipelineOptions &options) {
  registerNPUTargetInfo();
  const TargetInfo &target = *lookupTargetInfo("npu");
  // The chunk stages first, so that their f32 matmuls get f16 operands (the
  // matrix unit has no f32) before tri_inv's matmuls exist (those follow
  // tri-inv-precision; f32 ones run on the vector unit). Forward
  // substitution is lowered here, in place on buffers; the shared lowering
  // then finds the stages done and lowers the other tri_inv strategies.
  pm.addPass(createDeltaNetDecomposeChunkGatedDeltaRule());
  pm.addPass(createDeltaNetLowerChunkStages());
  pm.addPass(createDeltaNetNpuDemoteMatmuls());
  DeltaNetNpuLowerForwardSubstitutionOptions rows;
  rows.strategy = options.triInvStrategy;
  rows.precision = options.triInvPrecision;
  rows.batchTile = options.triInvBatchTile < 0
                       ? target.getPreferredTriInvBatchTile()
                       : int64_t(options.triInvBatchTile);
  pm.addPass(createDeltaNetNpuLowerForwardSubstitution(rows));
  addDeltaNetToLinalgPasses(pm, options, target);
  // Mark the operand casts of tri_inv's matmuls (done while moving data).
  DeltaNetNpuDemoteMatmulsOptions markOnly;
  markOnly.demote = false;
  pm.addPass(createDeltaNetNpuDemoteMatmuls(markOnly));

  // Tensors -> buffers; results become out-parameters (the C entry point
  // takes its output buffers), intermediates are hoisted out of loops.
  pm.addPass(createDeltaNetProtectFunctionInputs());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  // Results are computed in (local) buffers and copied out once, rather
  // than using the global out-parameter as scratch.
  outParams.hoistStaticAllocs = false;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createGuardedCanonicalizerPass());
  if (options.hoistBuffers)
    pm.addNestedPass<func::FuncOp>(
        bufferization::createBufferLoopHoistingPass());

  // Buffers -> npu ops (matrix unit, vector unit, DMA).
  DeltaNetNpuMapToUnitsOptions map;
  map.target = options.target;
  map.doubleBuffer = options.doubleBuffer;
  pm.addPass(createDeltaNetNpuMapToUnits(map));

  // Vector-unit bodies -> loops; views folded into loads/stores, or into
  // reinterpret_casts for npu operands; then EmitC.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createFoldMemRefAliasOpsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // floordivsi/ceildivsi from view folding: plain arith for EmitC.
  pm.addPass(arith::createArithExpandOpsPass());
  pm.addPass(createGuardedCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createDeltaNetNpuToEmitC());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGuardedCanonicalizerPass());
}

void mlir::deltanet::registerDeltaNetNpuPipeline() {
  registerPassPipeline(
      "deltanet-npu-pipeline",
      "Compile deltanet ops on tensors to EmitC (C) for an NPU-like target "
      "whose runtime counts cycles per unit",
      [](OpPassManager &pm, StringRef optionsText,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        StringRef anchor = pm.getOpAnchorName();
        if (anchor != ModuleOp::getOperationName())
          return errorHandler("deltanet-npu-pipeline runs on 'builtin.module', "
                              "not on '" +
                              anchor + "'");
        NpuPipelineOptions options;
        if (failed(options.parseFromString(optionsText)))
          return failure();
        buildNpuPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const ::mlir::detail::PassOptions &)>
             optionHandler) { optionHandler(NpuPipelineOptions()); });
}
