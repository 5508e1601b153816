// RUN: deltanet-opt %s --linalg-generalize-named-ops --deltanet-cpu-interchange-reductions | FileCheck %s

// batch_matmul loops (b, i, j, k) become (b, i, k, j): the output's
// unit-stride dimension is innermost.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
func.func @batch_matmul(%a: memref<4x8x16xf32>, %b: memref<4x16x32xf32>, %c: memref<4x8x32xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<4x8x16xf32>, memref<4x16x32xf32>) outs(%c : memref<4x8x32xf32>)
  return
}

// Elementwise ops have no reduction: untouched.
// CHECK-LABEL: func.func @elementwise
// CHECK: iterator_types = ["parallel", "parallel"]
func.func @elementwise(%a: memref<8x16xf32>, %c: memref<8x16xf32>) {
  linalg.copy ins(%a : memref<8x16xf32>) outs(%c : memref<8x16xf32>)
  return
}

// A reduction into a scalar output has no unit-stride output dimension.
// CHECK-LABEL: func.func @full_reduction
// CHECK: iterator_types = ["reduction"]
func.func @full_reduction(%a: memref<16xf32>, %c: memref<f32>) {
  linalg.reduce ins(%a : memref<16xf32>) outs(%c : memref<f32>) dimensions = [0]
    (%x: f32, %acc: f32) {
      %s = arith.addf %x, %acc : f32
      linalg.yield %s : f32
    }
  return
}
