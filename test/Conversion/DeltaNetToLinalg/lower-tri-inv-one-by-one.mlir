// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=1" | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=0 strategy=neumann" | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=forward-substitution residual-steps=1" | FileCheck %s

// A 1 x 1 unit lower-triangular matrix is the identity and its own inverse:
// every strategy, precision and residual step count gives a fill of ones in
// the input's element type, with no products (their 1 x 1 x 1 register tiles
// in batch tiles of 1 with residual steps were miscompiled to zeros on the
// CPU: test/python/test_tri_inv.py's one-by-one case).

// CHECK-LABEL: func.func @residual_steps
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ONE]] : f32) outs(%{{.*}} : tensor<{{.*}}1x1xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: return
func.func @residual_steps(%a: tensor<3x1x1xf32>) -> tensor<3x1x1xf32> {
  %x = deltanet.tri_inv %a {residual_steps = 2 : i64} : tensor<3x1x1xf32>
  return %x : tensor<3x1x1xf32>
}

// CHECK-LABEL: func.func @f16_dynamic_batch
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f16
// CHECK: linalg.fill ins(%[[ONE]] : f16) outs(%{{.*}} : tensor<{{.*}}1x1xf16>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: return
func.func @f16_dynamic_batch(%a: tensor<?x1x1xf16>) -> tensor<?x1x1xf16> {
  %x = deltanet.tri_inv %a : tensor<?x1x1xf16>
  return %x : tensor<?x1x1xf16>
}
