// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-untie-shared-inits | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-untie-shared-inits --eliminate-empty-tensors \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   | FileCheck %s --check-prefix=BUF

// The shape of deltanet.wy_repr inside a GPU block after CSE: w = T a and
// u = T b are matmuls into ONE zero fill. Without the pass, bufferization
// computed u in w's destination slice, then copied w over it and copied
// that (w) into u's destination: both results were w. Each matmul must get
// its own fill and be computed in its own destination.
// CHECK-LABEL: func.func @two_results_one_fill
// CHECK: scf.forall
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<1x8x4xf32>
// CHECK: %[[F1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E1]] : tensor<1x8x4xf32>)
// CHECK: %[[W:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x8x8xf32>, tensor<1x8x4xf32>) outs(%[[F1]] : tensor<1x8x4xf32>)
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<1x8x4xf32>
// CHECK: %[[F2:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E2]] : tensor<1x8x4xf32>)
// CHECK: %[[U:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x8x8xf32>, tensor<1x8x4xf32>) outs(%[[F2]] : tensor<1x8x4xf32>)
// CHECK: tensor.parallel_insert_slice %[[W]]
// CHECK: tensor.parallel_insert_slice %[[U]]

// After bufferization: w accumulates in a slice of the first destination,
// u in a slice of the second; the only copies are each slice onto itself
// (the parallel inserts, folded later), nothing is copied between them.
// BUF-LABEL: func.func @two_results_one_fill
// BUF-SAME: %[[WD:[a-z0-9_]+]]: memref<2x8x4xf32>, %[[UD:[a-z0-9_]+]]: memref<2x8x4xf32>)
// BUF: scf.forall (%[[I:.*]]) in (2)
// BUF-NOT: memref.copy
// BUF: %[[WS:.*]] = memref.subview %[[WD]][%[[I]], 0, 0]
// BUF-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[WS]] :
// BUF-NEXT: linalg.batch_matmul ins({{.*}}) outs(%[[WS]] :
// BUF-NEXT: %[[US:.*]] = memref.subview %[[UD]][%[[I]], 0, 0]
// BUF-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[US]] :
// BUF-NEXT: linalg.batch_matmul ins({{.*}}) outs(%[[US]] :
// BUF-NEXT: %[[WS2:.*]] = memref.subview %[[WD]][%[[I]], 0, 0]
// BUF-NEXT: memref.copy %[[WS]], %[[WS2]]
// BUF-NEXT: %[[US2:.*]] = memref.subview %[[UD]][%[[I]], 0, 0]
// BUF-NEXT: memref.copy %[[US]], %[[US2]]
// BUF: } {mapping = [#gpu.block<x>]}
func.func @two_results_one_fill(%t: tensor<2x8x8xf32>, %a: tensor<2x8x4xf32>, %b: tensor<2x8x4xf32>,
                                %wd: tensor<2x8x4xf32>, %ud: tensor<2x8x4xf32>) -> (tensor<2x8x4xf32>, tensor<2x8x4xf32>) {
  %cst = arith.constant 0.0 : f32
  %r:2 = scf.forall (%i) in (2) shared_outs(%ow = %wd, %ou = %ud) -> (tensor<2x8x4xf32>, tensor<2x8x4xf32>) {
    %ts = tensor.extract_slice %t[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<2x8x8xf32> to tensor<1x8x8xf32>
    %as = tensor.extract_slice %a[%i, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<1x8x4xf32>
    %bs = tensor.extract_slice %b[%i, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<1x8x4xf32>
    %e = tensor.empty() : tensor<1x8x4xf32>
    %f = linalg.fill ins(%cst : f32) outs(%e : tensor<1x8x4xf32>) -> tensor<1x8x4xf32>
    %w = linalg.batch_matmul ins(%ts, %as : tensor<1x8x8xf32>, tensor<1x8x4xf32>) outs(%f : tensor<1x8x4xf32>) -> tensor<1x8x4xf32>
    %u = linalg.batch_matmul ins(%ts, %bs : tensor<1x8x8xf32>, tensor<1x8x4xf32>) outs(%f : tensor<1x8x4xf32>) -> tensor<1x8x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %w into %ow[%i, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<1x8x4xf32> into tensor<2x8x4xf32>
      tensor.parallel_insert_slice %u into %ou[%i, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<1x8x4xf32> into tensor<2x8x4xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r#0, %r#1 : tensor<2x8x4xf32>, tensor<2x8x4xf32>
}

// -----

// A single destination use, and non-destination uses, are left alone.
// CHECK-LABEL: func.func @single_use
// CHECK-COUNT-1: tensor.empty
// CHECK-COUNT-1: linalg.fill
// CHECK-NOT: tensor.empty
// CHECK-NOT: linalg.fill
// BUF-LABEL: func.func @single_use
func.func @single_use(%t: tensor<8x8xf32>, %a: tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x4xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<8x4xf32>) -> tensor<8x4xf32>
  %m = linalg.matmul ins(%t, %a : tensor<8x8xf32>, tensor<8x4xf32>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m, %f : tensor<8x4xf32>, tensor<8x4xf32>
}
