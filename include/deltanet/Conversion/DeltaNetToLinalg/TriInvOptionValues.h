//===- TriInvOptionValues.h - Spellings of the tri_inv enums ----*- C++ -*-===//
//
// The command-line spellings of the tri_inv option enums, shared by the
// pass (Passes.td) and every pipeline, so that they cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CONVERSION_DELTANETTOLINALG_TRIINVOPTIONVALUES_H
#define DELTANET_CONVERSION_DELTANETTOLINALG_TRIINVOPTIONVALUES_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "llvm/Support/CommandLine.h"

namespace mlir {
namespace deltanet {

inline auto triInvStrategyOptionValues() {
  return llvm::cl::values(
      clEnumValN(TriInvStrategy::Blocked, "blocked",
                 "exact Neumann diagonal blocks and matmul merges (default)"),
      clEnumValN(TriInvStrategy::Neumann, "neumann",
                 "(truncated) Neumann product with band trimming"),
      clEnumValN(TriInvStrategy::ForwardSubstitution, "forward-substitution",
                 "exact row-by-row forward substitution"));
}

inline auto triInvPrecisionOptionValues() {
  return llvm::cl::values(
      clEnumValN(TriInvPrecision::F32, "f32", "f32 operands"),
      clEnumValN(TriInvPrecision::BF16, "bf16",
                 "bf16 operands, f32 accumulation"),
      clEnumValN(TriInvPrecision::F16, "f16", "f16 operands, f32 accumulation"),
      clEnumValN(TriInvPrecision::I8, "i8",
                 "symmetric INT8 operands, i32 accumulation, rescaled to "
                 "f32"));
}

inline auto quantGranularityOptionValues() {
  return llvm::cl::values(
      clEnumValN(QuantGranularity::Row, "row",
                 "one scale per row of the left and per column of the right "
                 "operand (default)"),
      clEnumValN(QuantGranularity::Matrix, "matrix", "one scale per matrix"));
}

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CONVERSION_DELTANETTOLINALG_TRIINVOPTIONVALUES_H
