//===- Diagnostics.cpp - Diagnostics as compiler-style text ---------------===//
//
// Implements printDiagnostic for the JIT, the C API and the Python package.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Runtime/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

using namespace mlir;

void mlir::deltanet::printDiagnostic(llvm::raw_ostream &os,
                                     const Diagnostic &diag) {
  auto printOne = [&](const Diagnostic &d) {
    Location loc = d.getLocation();
    if (auto range = loc->findInstanceOf<FileLineColRange>())
      os << range.getFilename().getValue() << ":" << range.getStartLine() << ":"
         << range.getStartColumn();
    else
      os << loc;
    switch (d.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << ": error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << ": warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << ": note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << ": remark: ";
      break;
    }
    os << d << "\n";
  };
  printOne(diag);
  for (const Diagnostic &note : diag.getNotes())
    printOne(note);
}
