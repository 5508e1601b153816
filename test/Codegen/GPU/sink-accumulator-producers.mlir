// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-sink-accumulator-producers | FileCheck %s

// The output stage's shape: carried = (q * 2) S computed first, then the
// intra-chunk product P v accumulated onto it. The carried product, its
// scaled q and its zero fill (with an empty tensor of its own: the shared
// one is cloned) move right before the accumulating matmul; the order of
// the intra-chunk ops and every op's operands are unchanged.
// CHECK-LABEL: func.func @sink_carried
// CHECK: scf.forall
// CHECK: %[[SCORES:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x8x4xf32>, tensor<1x4x8xf32>)
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[SCORES]]
// CHECK: %[[QS:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<1x8x4xf32>)
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x8x3xf32>
// CHECK: %[[FILL:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[EMPTY]] : tensor<1x8x3xf32>)
// CHECK: %[[CARRIED:.*]] = linalg.batch_matmul ins(%[[QS]], %{{.*}} : tensor<1x8x4xf32>, tensor<1x4x3xf32>) outs(%[[FILL]]
// CHECK: linalg.batch_matmul ins(%[[P]], %{{.*}} : tensor<1x8x8xf32>, tensor<1x8x3xf32>) outs(%[[CARRIED]]
#id = affine_map<(n, i, j) -> (n, i, j)>
func.func @sink_carried(%q: tensor<4x8x4xf32>, %kt: tensor<4x4x8xf32>, %v: tensor<4x8x3xf32>, %s: tensor<4x4x3xf32>) -> tensor<4x8x3xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x8x3xf32>
  %r = scf.forall (%i) in (4) shared_outs(%o = %init) -> (tensor<4x8x3xf32>) {
    %qi = tensor.extract_slice %q[%i, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<4x8x4xf32> to tensor<1x8x4xf32>
    %kti = tensor.extract_slice %kt[%i, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<4x4x8xf32> to tensor<1x4x8xf32>
    %vi = tensor.extract_slice %v[%i, 0, 0] [1, 8, 3] [1, 1, 1] : tensor<4x8x3xf32> to tensor<1x8x3xf32>
    %si = tensor.extract_slice %s[%i, 0, 0] [1, 4, 3] [1, 1, 1] : tensor<4x4x3xf32> to tensor<1x4x3xf32>
    %e = tensor.empty() : tensor<1x8x3xf32>
    %eq = tensor.empty() : tensor<1x8x4xf32>
    %qs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%qi : tensor<1x8x4xf32>) outs(%eq : tensor<1x8x4xf32>) {
    ^bb0(%a: f32, %b: f32):
      %m = arith.addf %a, %a : f32
      linalg.yield %m : f32
    } -> tensor<1x8x4xf32>
    %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x3xf32>) -> tensor<1x8x3xf32>
    %carried = linalg.batch_matmul ins(%qs, %si : tensor<1x8x4xf32>, tensor<1x4x3xf32>) outs(%fill : tensor<1x8x3xf32>) -> tensor<1x8x3xf32>
    %es = tensor.empty() : tensor<1x8x8xf32>
    %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<1x8x8xf32>) -> tensor<1x8x8xf32>
    %scores = linalg.batch_matmul ins(%qi, %kti : tensor<1x8x4xf32>, tensor<1x4x8xf32>) outs(%fs : tensor<1x8x8xf32>) -> tensor<1x8x8xf32>
    %p = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%scores : tensor<1x8x8xf32>) outs(%es : tensor<1x8x8xf32>) {
    ^bb0(%a: f32, %b: f32):
      %m = arith.mulf %a, %a : f32
      linalg.yield %m : f32
    } -> tensor<1x8x8xf32>
    %out = linalg.batch_matmul ins(%p, %vi : tensor<1x8x8xf32>, tensor<1x8x3xf32>) outs(%carried : tensor<1x8x3xf32>) -> tensor<1x8x3xf32>
    %unused = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x3xf32>) -> tensor<1x8x3xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %out into %o[%i, 0, 0] [1, 8, 3] [1, 1, 1] : tensor<1x8x3xf32> into tensor<4x8x3xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<4x8x3xf32>
}

// -----

// Outside block loops nothing moves.
// CHECK-LABEL: func.func @host_level_stays
// CHECK: %[[C:.*]] = linalg.batch_matmul
// CHECK: linalg.generic
// CHECK: linalg.batch_matmul {{.*}} outs(%[[C]]
#id = affine_map<(n, i, j) -> (n, i, j)>
func.func @host_level_stays(%a: tensor<1x8x4xf32>, %b: tensor<1x4x8xf32>, %c: tensor<1x8x8xf32>) -> tensor<1x8x8xf32> {
  %carried = linalg.batch_matmul ins(%a, %b : tensor<1x8x4xf32>, tensor<1x4x8xf32>) outs(%c : tensor<1x8x8xf32>) -> tensor<1x8x8xf32>
  %e = tensor.empty() : tensor<1x8x8xf32>
  %p = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x8x8xf32>) outs(%e : tensor<1x8x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %m = arith.mulf %x, %x : f32
    linalg.yield %m : f32
  } -> tensor<1x8x8xf32>
  %out = linalg.batch_matmul ins(%p, %c : tensor<1x8x8xf32>, tensor<1x8x8xf32>) outs(%carried : tensor<1x8x8xf32>) -> tensor<1x8x8xf32>
  return %out : tensor<1x8x8xf32>
}
