// RUN: deltanet-opt %s --deltanet-cpu-vectorize-transposes --split-input-file | FileCheck %s
// RUN: not deltanet-opt %s --deltanet-cpu-vectorize-transposes=tile=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// A transpose of the two innermost dims: 16 x 16 blocks, each one row read,
// the shuffle network (4 rounds of 16 two-source shuffles) and one write,
// instead of the scalar loop LLVM turned into 16-lane gathers.
// CHECK-LABEL: func.func @inner
// CHECK-NOT: linalg.transpose
// CHECK: scf.for
// CHECK: scf.for {{.*}} step %{{.*}}
// CHECK: scf.for
// CHECK: %[[IN:.*]] = tensor.extract_slice %{{.*}} [1, 16, 16] [1, 1, 1] : tensor<1x32x16xf32> to tensor<1x16x16xf32>
// CHECK: %[[V:.*]] = vector.transfer_read %[[IN]]{{.*}} : tensor<1x16x16xf32>, vector<1x16x16xf32>
// CHECK: vector.shape_cast %[[V]] : vector<1x16x16xf32> to vector<16x16xf32>
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK-NOT: vector.shuffle
// CHECK: vector.transfer_write {{.*}} : vector<1x16x16xf32>, tensor<1x16x16xf32>
func.func @inner(%k: tensor<1x32x16xf32>) -> tensor<1x16x32xf32> {
  %e = tensor.empty() : tensor<1x16x32xf32>
  %t = linalg.transpose ins(%k : tensor<1x32x16xf32>) outs(%e : tensor<1x16x32xf32>) permutation = [0, 2, 1]
  return %t : tensor<1x16x32xf32>
}

// -----

// Two transposes of one tensor reached through different unit-dim reshapes
// (the chunk op's gated K K^T and state scan): one transpose remains.
// CHECK-LABEL: func.func @same_tensor
// CHECK-COUNT-64: vector.shuffle
// CHECK-NOT: vector.shuffle
// CHECK: return %[[R:.*]], %[[R]]
func.func @same_tensor(%x: tensor<1x1x1x32x16xf32>) -> (tensor<1x16x32xf32>, tensor<1x16x32xf32>) {
  %a = tensor.collapse_shape %x [[0, 1, 2], [3], [4]] : tensor<1x1x1x32x16xf32> into tensor<1x32x16xf32>
  %b4 = tensor.collapse_shape %x [[0], [1, 2], [3], [4]] : tensor<1x1x1x32x16xf32> into tensor<1x1x32x16xf32>
  %b = tensor.extract_slice %b4[0, 0, 0, 0] [1, 1, 32, 16] [1, 1, 1, 1] : tensor<1x1x32x16xf32> to tensor<1x32x16xf32>
  %e = tensor.empty() : tensor<1x16x32xf32>
  %ta = linalg.transpose ins(%a : tensor<1x32x16xf32>) outs(%e : tensor<1x16x32xf32>) permutation = [0, 2, 1]
  %tb = linalg.transpose ins(%b : tensor<1x32x16xf32>) outs(%e : tensor<1x16x32xf32>) permutation = [0, 2, 1]
  return %ta, %tb : tensor<1x16x32xf32>, tensor<1x16x32xf32>
}

// -----

// Left alone: dims that are not multiples of the tile, an outer dim moved,
// other element types.
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x24x16xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<16x2x16xf32>) {{.*}} permutation = [1, 0, 2]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x32x16xbf16>)
// CHECK-NOT: vector.
func.func @left_alone(%a: tensor<1x24x16xf32>, %b: tensor<16x2x16xf32>, %c: tensor<1x32x16xbf16>)
    -> (tensor<1x16x24xf32>, tensor<2x16x16xf32>, tensor<1x16x32xbf16>) {
  %ea = tensor.empty() : tensor<1x16x24xf32>
  %ta = linalg.transpose ins(%a : tensor<1x24x16xf32>) outs(%ea : tensor<1x16x24xf32>) permutation = [0, 2, 1]
  %eb = tensor.empty() : tensor<2x16x16xf32>
  %tb = linalg.transpose ins(%b : tensor<16x2x16xf32>) outs(%eb : tensor<2x16x16xf32>) permutation = [1, 0, 2]
  %ec = tensor.empty() : tensor<1x16x32xbf16>
  %tc = linalg.transpose ins(%c : tensor<1x32x16xbf16>) outs(%ec : tensor<1x16x32xbf16>) permutation = [0, 2, 1]
  return %ta, %tb, %tc : tensor<1x16x24xf32>, tensor<2x16x16xf32>, tensor<1x16x32xbf16>
}

// BAD: error: deltanet-cpu-vectorize-transposes: tile must be >= 1, got 0
