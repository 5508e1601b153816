// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=forward-substitution batch-tile=0" --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=forward-substitution batch-tile=0 target=gpu" --canonicalize --cse | FileCheck %s --check-prefix=WIDTH

// Row i of X is e_i - L[i, :i] X[:i, :], one row per iteration of a loop
// that carries X (initially I) and a scratch row. X is unit lower
// triangular (X[k, j] = 0 for j > k), so a product may run over static
// columns: only its reduction is dynamic, which the CPU vectorises. The
// CPU (TargetInfo::getTriInvForwardSubstitutionColumnBlock = 32) computes
// each row per block J of 32 columns with j0 < i, as
// e_i[J] - L[i, j0:i] X[j0:i, J]: the rows k < j0 of X[:, J] are zero, so
// the reduction starts at j0 (K = i - j0). Each product accumulates onto
// e_i[J] in the scratch row and is then inserted into X (writing into X
// while reading X[:i] would make bufferization copy X[:i] every row).

// CHECK-LABEL: func.func @forward_substitution
// CHECK-SAME: (%[[A:.*]]: tensor<?x64x64xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[N:.*]] = tensor.dim %[[A]]
// CHECK: %[[NEGL:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<?x64x64xf32>)
// CHECK:   arith.negf
// CHECK:   arith.cmpi ugt
// CHECK: %[[I:.*]] = linalg.generic
// CHECK:   arith.cmpi eq
// CHECK: %[[SCRATCH:.*]] = tensor.empty(%[[N]]) : tensor<?x1x32xf32>
// CHECK: scf.for %[[IV:.*]] = %[[C1]] to %[[C64]] step %[[C1]] iter_args(%[[X0:.*]] = %[[I]], %[[S0:.*]] = %[[SCRATCH]])
// CHECK:   scf.for %[[J0:.*]] = %[[C0]] to %[[IV]] step %[[C32]] iter_args(%[[X:.*]] = %[[X0]], %[[S:.*]] = %[[S0]])
// CHECK:     %[[K:.*]] = arith.subi %[[IV]], %[[J0]] : index
// CHECK:     %[[ROW:.*]] = tensor.extract_slice %[[NEGL]][0, %[[IV]], %[[J0]]] [%[[N]], 1, %[[K]]] [1, 1, 1]
// CHECK:     %[[TOP:.*]] = tensor.extract_slice %[[X]][0, %[[J0]], %[[J0]]] [%[[N]], %[[K]], 32] [1, 1, 1]
// CHECK:     %[[E:.*]] = linalg.generic {{.*}} outs(%[[S]] : tensor<?x1x32xf32>)
// CHECK:       %[[COL:.*]] = arith.addi %[[J0]], %{{.*}} : index
// CHECK:       arith.cmpi eq, %[[COL]], %[[IV]] : index
// CHECK:     %[[NEW:.*]] = linalg.batch_matmul ins(%[[ROW]], %[[TOP]] : tensor<?x1x?xf32>, tensor<?x?x32xf32>) outs(%[[E]] : tensor<?x1x32xf32>)
// CHECK:     %[[UPD:.*]] = tensor.insert_slice %[[NEW]] into %[[X]][0, %[[IV]], %[[J0]]] [%[[N]], 1, 32] [1, 1, 1]
// CHECK:     scf.yield %[[UPD]], %[[NEW]]

// Targets without a column block: one product over the whole width.
// WIDTH-LABEL: func.func @forward_substitution
// WIDTH: scf.for %[[IV:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[X:.*]] = %{{.*}}, %[[S:.*]] = %{{.*}})
// WIDTH-NOT: scf.for
// WIDTH:   %[[ROW:.*]] = tensor.extract_slice %{{.*}}[0, %[[IV]], 0] [%{{.*}}, 1, %[[IV]]] [1, 1, 1]
// WIDTH:   %[[TOP:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [%{{.*}}, %[[IV]], 64] [1, 1, 1]
// WIDTH:   %[[E:.*]] = linalg.generic {{.*}} outs(%[[S]] : tensor<?x1x64xf32>)
// WIDTH:   %[[NEW:.*]] = linalg.batch_matmul ins(%[[ROW]], %[[TOP]] : tensor<?x1x?xf32>, tensor<?x?x64xf32>) outs(%[[E]] : tensor<?x1x64xf32>)
// WIDTH:   tensor.insert_slice %[[NEW]] into %[[X]][0, %[[IV]], 0] [%{{.*}}, 1, 64] [1, 1, 1]
func.func @forward_substitution(%a: tensor<?x64x64xf32>) -> tensor<?x64x64xf32> {
  %x = deltanet.tri_inv %a : tensor<?x64x64xf32>
  return %x : tensor<?x64x64xf32>
}
