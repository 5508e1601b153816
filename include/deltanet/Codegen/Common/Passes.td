//===- Passes.td - Codegen passes of every target ----------*- tablegen -*-===//
//
// Declares the codegen passes that every deltanet target uses.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_COMMON_PASSES_TD
#define DELTANET_CODEGEN_COMMON_PASSES_TD

include "mlir/Pass/PassBase.td"

def DeltaNetProtectFunctionInputs
    : Pass<"deltanet-protect-function-inputs", "::mlir::ModuleOp"> {
  let summary = "Mark the tensor arguments of public functions read-only";
  let description = [{
    One-shot bufferization across function boundaries treats function
    arguments as writable unless they carry `bufferization.writable = false`,
    so a loop that starts from an input (a state scan from the initial
    state) may update the caller's buffer in place. This pass adds
    `bufferization.writable = false` to every tensor argument of every public
    function definition that has no such attribute yet: callers (C, C++,
    Python) keep their inputs, and bufferization copies where needed.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

#endif // DELTANET_CODEGEN_COMMON_PASSES_TD
