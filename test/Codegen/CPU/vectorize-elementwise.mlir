// RUN: deltanet-opt %s --deltanet-cpu-vectorize-elementwise --canonicalize | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-vectorize-elementwise="max-row-length=8" --canonicalize | FileCheck %s --check-prefix=SHORT
// RUN: not deltanet-opt %s --deltanet-cpu-vectorize-elementwise="max-row-length=0" 2>&1 | FileCheck %s --check-prefix=BAD

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// A mask on the indices (tri_inv's I - L): loops over matrices and rows,
// each row one vector; the column index is a vector.step, the row index a
// broadcast scalar.
// CHECK-LABEL: func.func @mask
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK:   scf.for %{{.*}} = %c0 to %c16 step %c1
// CHECK-NOT: scf.for
// CHECK:     vector.transfer_read {{.*}} vector<1x1x16xf32>
// CHECK:     vector.step : vector<16xindex>
// CHECK:     arith.cmpi ugt, %{{.*}}, %{{.*}} : vector<1x1x16xindex>
// CHECK:     arith.negf %{{.*}} : vector<1x1x16xf32>
// CHECK:     arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<1x1x16xi1>, vector<1x1x16xf32>
// CHECK:     vector.transfer_write {{.*}} : vector<1x1x16xf32>, tensor<1x1x16xf32>
// CHECK-NOT: linalg.generic
// SHORT-LABEL: func.func @mask
// SHORT: linalg.generic
// SHORT-NOT: vector.transfer_read
// BAD: error: deltanet-cpu-vectorize-elementwise: max-row-length must be >= 1, got 0
func.func @mask(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<4x16x16xf32>) outs(%e : tensor<4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %below = arith.cmpi ugt, %i, %j : index
    %n = arith.negf %in : f32
    %v = arith.select %below, %n, %zero : f32
    linalg.yield %v : f32
  } -> tensor<4x16x16xf32>
  return %r : tensor<4x16x16xf32>
}

// An in-place update reading its output (tri_inv's X += X L^2k).
// CHECK-LABEL: func.func @add_into
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<1x1x14xf32>
// CHECK-NOT: linalg.generic
func.func @add_into(%x: tensor<4x14x14xf32>, %acc: tensor<4x14x14xf32>) -> tensor<4x14x14xf32> {
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<4x14x14xf32>) outs(%acc : tensor<4x14x14xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<4x14x14xf32>
  return %r : tensor<4x14x14xf32>
}

// A dynamic outer dimension (a dynamic tri_inv batch) is tiled by 1 like the
// static ones: every row is a static vector (main before session 6 left it
// to scalar loops).
// CHECK-LABEL: func.func @dynamic_batch
// CHECK: tensor.dim %{{.*}}, %c0 : tensor<?x16x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %dim{{.*}} step %c1
// CHECK:   scf.for %{{.*}} = %c0 to %c16 step %c1
// CHECK:     vector.transfer_read {{.*}} : tensor<1x1x16xf32>, vector<1x1x16xf32>
// CHECK:     arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<1x1x16xi1>, vector<1x1x16xf32>
// CHECK:     vector.transfer_write {{.*}} : vector<1x1x16xf32>, tensor<1x1x16xf32>
// CHECK-NOT: linalg.generic
func.func @dynamic_batch(%a: tensor<?x16x16xf32>) -> tensor<?x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %b = tensor.dim %a, %c0 : tensor<?x16x16xf32>
  %e = tensor.empty(%b) : tensor<?x16x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<?x16x16xf32>) outs(%e : tensor<?x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %below = arith.cmpi ugt, %i, %j : index
    %n = arith.negf %in : f32
    %v = arith.select %below, %n, %zero : f32
    linalg.yield %v : f32
  } -> tensor<?x16x16xf32>
  return %r : tensor<?x16x16xf32>
}

// Not elementwise (a transposed read), a reduction, or a dynamic innermost
// dimension (no static row vector): left alone.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: vector.transfer_read
func.func @left_alone(%a: tensor<4x16x16xf32>, %d: tensor<16x?xf32>) -> (tensor<4x16x16xf32>, tensor<4x16xf32>, tensor<16x?xf32>) {
  %e = tensor.empty() : tensor<4x16x16xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2, d1)>, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<4x16x16xf32>) outs(%e : tensor<4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x16x16xf32>
  %e2 = tensor.empty() : tensor<4x16xf32>
  %s = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a : tensor<4x16x16xf32>) outs(%e2 : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.addf %in, %out : f32
    linalg.yield %v : f32
  } -> tensor<4x16xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%d : tensor<16x?xf32>) {
  ^bb0(%out: f32):
    %v = arith.negf %out : f32
    linalg.yield %v : f32
  } -> tensor<16x?xf32>
  return %t, %s, %n : tensor<4x16x16xf32>, tensor<4x16xf32>, tensor<16x?xf32>
}
