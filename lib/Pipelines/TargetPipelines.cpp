//===- TargetPipelines.cpp - The pipeline of each target, by name ---------===//
//
// Maps a target name ("cpu", "gpu") to its pipeline and its options, for the
// runtime and the bindings, which take the target as data.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Pipelines/Pipelines.h"

#include "deltanet/Pipelines/GpuPipeline.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::deltanet;

namespace {
/// Parses `text` as the options of `Options` and adds the pipeline that
/// `build` makes of them.
template <typename Options> std::string printDefaults() {
  std::string text;
  llvm::raw_string_ostream os(text);
  Options().print(os);
  return text;
}
} // namespace

std::vector<std::string> mlir::deltanet::getPipelineTargets() {
  return {"cpu", "gpu"};
}

LogicalResult mlir::deltanet::buildTargetPipeline(OpPassManager &pm,
                                                  StringRef target,
                                                  StringRef options,
                                                  llvm::raw_ostream &errors) {
  if (target == "cpu") {
    CpuPipelineOptions cpuOptions;
    if (failed(cpuOptions.parseFromString(options, errors)) ||
        failed(verifyCpuPipelineOptions(cpuOptions, errors)))
      return failure();
    buildCpuPipeline(pm, cpuOptions);
    return success();
  }
  if (target == "gpu") {
    GpuPipelineOptions gpuOptions;
    if (failed(gpuOptions.parseFromString(options, errors)))
      return failure();
    if (llvm::Error error = verifyGpuPipelineOptions(gpuOptions)) {
      errors << "deltanet-gpu-pipeline: " << llvm::toString(std::move(error));
      return failure();
    }
    buildGpuPipeline(pm, gpuOptions);
    return success();
  }
  errors << "unknown target '" << target << "' (targets with a pipeline: "
         << llvm::join(getPipelineTargets(), ", ") << ")";
  return failure();
}

std::string mlir::deltanet::printTargetPipelineOptions(StringRef target) {
  if (target == "cpu")
    return printDefaults<CpuPipelineOptions>();
  if (target == "gpu")
    return printDefaults<GpuPipelineOptions>();
  return "";
}
