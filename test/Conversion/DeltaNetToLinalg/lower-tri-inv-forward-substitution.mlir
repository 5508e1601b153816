// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=forward-substitution batch-tile=0" --canonicalize --cse | FileCheck %s

// Row i of X is -L[i, :i] X[:i, :i], one row per iteration of a loop that
// carries X; only the already solved top-left corner is read.

// CHECK-LABEL: func.func @forward_substitution
// CHECK-SAME: (%[[A:.*]]: tensor<?x32x32xf32>)
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[N:.*]] = tensor.dim %[[A]]
// CHECK: %[[NEGL:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<?x32x32xf32>)
// CHECK:   arith.negf
// CHECK:   arith.cmpi ugt
// CHECK: %[[I:.*]] = linalg.generic
// CHECK:   arith.cmpi eq
// CHECK: scf.for %[[IV:.*]] = %[[C1]] to %[[C32]] step %[[C1]] iter_args(%[[X:.*]] = %[[I]])
// CHECK:   %[[ROW:.*]] = tensor.extract_slice %[[NEGL]][0, %[[IV]], 0] [%[[N]], 1, %[[IV]]] [1, 1, 1]
// CHECK:   %[[TOP:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [%[[N]], %[[IV]], %[[IV]]] [1, 1, 1]
// CHECK:   %[[ACC:.*]] = tensor.extract_slice %[[X]][0, %[[IV]], 0] [%[[N]], 1, %[[IV]]] [1, 1, 1]
// CHECK:   %[[NEW:.*]] = linalg.batch_matmul ins(%[[ROW]], %[[TOP]] : tensor<?x1x?xf32>, tensor<?x?x?xf32>) outs(%[[ACC]] : tensor<?x1x?xf32>)
// CHECK:   %[[UPD:.*]] = tensor.insert_slice %[[NEW]] into %[[X]][0, %[[IV]], 0] [%[[N]], 1, %[[IV]]] [1, 1, 1]
// CHECK:   scf.yield %[[UPD]]
func.func @forward_substitution(%a: tensor<?x32x32xf32>) -> tensor<?x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<?x32x32xf32>
  return %x : tensor<?x32x32xf32>
}
