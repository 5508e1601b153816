//===- Diagnostics.h - Diagnostics as compiler-style text -------*- C++ -*-===//
//
// Prints MLIR diagnostics as `file:line:col: severity: message` lines, the
// form the JIT, the C API and the Python package report errors in.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_RUNTIME_DIAGNOSTICS_H
#define DELTANET_RUNTIME_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir {
namespace deltanet {

/// Prints `diag` and its notes as `file:line:col: severity: message` lines
/// (other locations are printed as MLIR prints them).
void printDiagnostic(llvm::raw_ostream &os, const Diagnostic &diag);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_RUNTIME_DIAGNOSTICS_H
