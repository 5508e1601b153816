// RUN: deltanet-opt %s --canonicalize | FileCheck %s --check-prefix=UPSTREAM
// RUN: deltanet-opt %s --canonicalize="disable-patterns=CanonicalizeContractAdd<mlir::arith::AddFOp>,CanonicalizeContractAdd<mlir::arith::AddIOp>" | FileCheck %s --check-prefix=GUARDED

// Pins the upstream miscompile that lib/Codegen/Common/GuardedCanonicalizer.cpp
// guards against (reproducer: docs/upstream/contract-add-same-zero-operand.mlir):
// vector.contract's CanonicalizeContractAdd folds add(contract(0, d, 0), d)
// into contract(d, d, d) = d * d + d instead of d, as its IRMapping from the
// zero accumulator to d also remaps the lhs, the same zero constant. The
// UPSTREAM lines fail once upstream fixes it (then the guard can go); the
// GUARDED lines fail if the pattern's debug labels change (then the guard
// would disable nothing).

// UPSTREAM-LABEL: func.func @same_zero_lhs_and_acc_f32
// UPSTREAM-SAME: (%[[D:.*]]: vector<4x4xf32>)
// UPSTREAM: vector.contract {{.*}} %[[D]], %[[D]], %[[D]]
// GUARDED-LABEL: func.func @same_zero_lhs_and_acc_f32
// GUARDED-SAME: (%[[D:.*]]: vector<4x4xf32>)
// GUARDED: %[[ZERO:.*]] = arith.constant dense<0.000000e+00>
// GUARDED: %[[C:.*]] = vector.contract {{.*}} %[[ZERO]], %[[D]], %[[ZERO]]
// GUARDED: arith.addf %[[C]], %[[D]]
func.func @same_zero_lhs_and_acc_f32(%d: vector<4x4xf32>) -> vector<4x4xf32> {
  %zero = arith.constant dense<0.0> : vector<4x4xf32>
  %c = vector.contract {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %zero, %d, %zero : vector<4x4xf32>, vector<4x4xf32> into vector<4x4xf32>
  %r = arith.addf %c, %d : vector<4x4xf32>
  return %r : vector<4x4xf32>
}

// UPSTREAM-LABEL: func.func @same_zero_rhs_and_acc_i32
// UPSTREAM-SAME: (%[[D:.*]]: vector<4x4xi32>)
// UPSTREAM: vector.contract {{.*}} %[[D]], %[[D]], %[[D]]
// GUARDED-LABEL: func.func @same_zero_rhs_and_acc_i32
// GUARDED-SAME: (%[[D:.*]]: vector<4x4xi32>)
// GUARDED: %[[ZERO:.*]] = arith.constant dense<0>
// GUARDED: %[[C:.*]] = vector.contract {{.*}} %[[D]], %[[ZERO]], %[[ZERO]]
// GUARDED: arith.addi %[[C]], %[[D]]
func.func @same_zero_rhs_and_acc_i32(%d: vector<4x4xi32>) -> vector<4x4xi32> {
  %zero = arith.constant dense<0> : vector<4x4xi32>
  %c = vector.contract {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %d, %zero, %zero : vector<4x4xi32>, vector<4x4xi32> into vector<4x4xi32>
  %r = arith.addi %c, %d : vector<4x4xi32>
  return %r : vector<4x4xi32>
}
