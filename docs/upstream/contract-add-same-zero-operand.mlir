// Minimal upstream reproducer (LLVM/MLIR 22.1, Debian build): vector.contract's
// CanonicalizeContractAdd miscompiles when the contraction's lhs or rhs is the
// same SSA value as its zero accumulator.
//
//   mlir-opt contract-add-same-zero-operand.mlir --canonicalize
//
// Expected: %r = (0 * %d + 0) + %d = %d, i.e. `return %arg0` (or an add of a
// contraction of the zero constant).
// Actual:
//   %0 = vector.contract {...} %arg0, %arg0, %arg0 : ... into vector<4x4xf32>
//   return %0
// that is %d * %d + %d.
//
// Cause (mlir/lib/Dialect/Vector/IR/VectorOps.cpp, CanonicalizeContractAdd):
// the fold `add(contract(a, b, zero), d) -> contract(a, b, d)` clones the
// contraction with an IRMapping `zero -> d`. IRMapping maps the *value*, so
// every operand that is that value is replaced, `a` or `b` too. Constants are
// uniqued per type and value (the greedy driver's OperationFolder), so any
// contraction whose zero accumulator and one of whose operands fold to the
// same zero splat hits it. Fix: clone without the mapping and set only the
// accumulator operand (e.g. `newContraction.getAccMutable().assign(d)`), or
// return `d` when an operand is the zero constant. Disable with
// --canonicalize="disable-patterns=CanonicalizeContractAdd<mlir::arith::AddFOp>"
// (AddIOp: same code).
//
// Found in deltanet-mlir: a 1 x 1 x 1 register tile of a batched matmul
// whose lhs (a 1 x 1 strictly lower mask, all zeros) and zero-filled
// accumulator folded to the same dense<0.0> : vector<1x1x1xf32>.
func.func @f(%d: vector<4x4xf32>) -> vector<4x4xf32> {
  %zero = arith.constant dense<0.0> : vector<4x4xf32>
  %c = vector.contract {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %zero, %d, %zero : vector<4x4xf32>, vector<4x4xf32> into vector<4x4xf32>
  %r = arith.addf %c, %d : vector<4x4xf32>
  return %r : vector<4x4xf32>
}
