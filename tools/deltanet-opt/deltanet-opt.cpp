//===- deltanet-opt.cpp - MLIR optimizer driver with deltanet -------------===//
//
// mlir-opt with the upstream dialects, passes and extensions plus deltanet's.
//
//===----------------------------------------------------------------------===//

#include "deltanet/InitDeltaNet.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::deltanet::registerDeltaNetPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::deltanet::registerDeltaNetDialect(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "deltanet optimizer driver\n", registry));
}
