//===- deltanet-opt.cpp - MLIR optimizer driver with deltanet -------------===//
//
// mlir-opt with the upstream dialects, passes and extensions plus deltanet's.
//
//===----------------------------------------------------------------------===//

#include "deltanet/InitDeltaNet.h"
#include "deltanet/Pipelines/GpuPipeline.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::deltanet::registerDeltaNetPassesAndPipelines();
  mlir::deltanet::registerDeltaNetGpuPipeline();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::deltanet::registerDeltaNetDialect(registry);
  // gpu-module-to-binary (--deltanet-gpu-pipeline) translates kernels.
  mlir::registerAllToLLVMIRTranslations(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "deltanet optimizer driver\n", registry));
}
