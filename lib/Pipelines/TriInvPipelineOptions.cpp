//===- TriInvPipelineOptions.cpp - The target-neutral pipeline half -------===//
//
// Maps the pipelines' tri_inv options to the pass's and adds the passes
// every target runs before its codegen.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Pipelines/TriInvPipelineOptions.h"

#include "deltanet/Codegen/Common/GuardedCanonicalizer.h"
#include "deltanet/Codegen/Common/TargetInfo.h"
#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::deltanet;

DeltaNetLowerTriInvOptions
TriInvPipelineOptions::getLowerTriInvOptions(const TargetInfo &target) const {
  DeltaNetLowerTriInvOptions options;
  options.strategy = triInvStrategy;
  options.blockSize = triInvBlockSize;
  options.order = triInvOrder;
  options.residualSteps = triInvResidualSteps;
  options.batchTile = triInvBatchTile;
  options.precision = triInvPrecision;
  options.quantGranularity = triInvQuantGranularity;
  options.lowPrecisionMergesFrom = triInvLowPrecisionMergesFrom;
  options.quantizeMergesOnce = triInvQuantizeMergesOnce;
  options.tolerance = triInvTolerance;
  options.target = target.getName().str();
  return options;
}

void mlir::deltanet::addNarrowStageIntermediatesPass(
    OpPassManager &pm, const TargetInfo &target, TriInvPrecision chunkPrecision,
    ArrayRef<std::string> chunkStagePrecision, bool narrowU) {
  DeltaNetNarrowStageIntermediatesOptions narrow;
  narrow.foldScanDecayIntoValues = target.foldsScanDecayIntoValues();
  narrow.narrowU = narrowU;
  narrow.precision = chunkPrecision;
  narrow.stagePrecision.assign(chunkStagePrecision.begin(),
                               chunkStagePrecision.end());
  pm.addPass(createDeltaNetNarrowStageIntermediates(narrow));
}

void mlir::deltanet::addDeltaNetToLinalgPasses(
    OpPassManager &pm, const TriInvPipelineOptions &options,
    const TargetInfo &target, TriInvPrecision chunkPrecision,
    ArrayRef<std::string> chunkStagePrecision) {
  pm.addPass(createDeltaNetUnpackVarlenGatedDeltaRule());
  pm.addPass(createDeltaNetDecomposeGatedDeltaRuleSummary());
  pm.addPass(createDeltaNetDecomposeChunkGatedDeltaRule());
  addNarrowStageIntermediatesPass(pm, target, chunkPrecision,
                                  chunkStagePrecision);
  DeltaNetLowerChunkStagesOptions stages;
  stages.foldScanDecayIntoValues = target.foldsScanDecayIntoValues();
  stages.precision = chunkPrecision;
  stages.stagePrecision.assign(chunkStagePrecision.begin(),
                               chunkStagePrecision.end());
  stages.triangularRowTile = target.getChunkTriangularRowTile();
  stages.triangularResultBlock = target.getChunkTriangularResultBlock();
  stages.decayFactorsOnce = target.computesChunkDecayFactorsOnce();
  stages.stateDecayOutOfPlace = target.decaysChunkStateOutOfPlace();
  pm.addPass(createDeltaNetLowerChunkStages(stages));
  pm.addPass(createDeltaNetLowerComposeSummaries());
  DeltaNetLowerRecurrentGatedDeltaRuleOptions recurrent;
  recurrent.fuseReadouts = target.fusesRecurrentReadouts();
  pm.addPass(createDeltaNetLowerRecurrentGatedDeltaRule(recurrent));
  pm.addPass(createDeltaNetLowerTriInv(options.getLowerTriInvOptions(target)));
  pm.addPass(createDeltaNetLowerQuantization());
  pm.addPass(createGuardedCanonicalizerPass());
  pm.addPass(createCSEPass());
}
