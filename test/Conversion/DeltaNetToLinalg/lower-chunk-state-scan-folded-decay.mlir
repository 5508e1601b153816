// RUN: deltanet-opt %s --deltanet-lower-chunk-stages | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-chunk-stages=fold-scan-decay-into-values=true | FileCheck %s --check-prefix=FOLD

// The state scan's update S = exp(g_last) S + (k exp(g_last - g))^T v_new.
// By default (the CPU's form, TargetInfo::foldsScanDecayIntoValues false)
// a decayed, transposed copy of k ([M, K, C], C x K exps per chunk) feeds a
// plain batch_matmul. With fold-scan-decay-into-values (the GPU's) one
// elementwise op gives v_new and its decayed rows v_new exp(g_last - g)
// (C x V exps), and the update is a batch_matmul reading k transposed
// through its indexing map: S += k^T (v_new exp(g_last - g)).
// CHECK-LABEL: func.func @scan
// CHECK: scf.for
// CHECK: linalg.batch_matmul
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x4x8xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x16xf32>, tensor<2x4xf32>, tensor<2xf32>) outs(%{{.*}} : tensor<2x16x4xf32>)
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x4xf32>, tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x16x8xf32>)
// CHECK: scf.yield
// FOLD-DAG: #[[KT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// FOLD-DAG: #[[VD:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// FOLD-DAG: #[[S:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// FOLD-LABEL: func.func @scan
// FOLD: scf.for
// FOLD: linalg.batch_matmul
// FOLD: %[[BOTH:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4xf32>, tensor<2xf32>) outs(%{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<2x4x8xf32>)
// FOLD: ^bb0(%[[U:[^:]*]]: f32, %[[WS:[^:]*]]: f32, %[[G:[^:]*]]: f32, %[[GL:[^:]*]]: f32,
// FOLD: %[[V:.*]] = arith.subf %[[U]], %[[WS]]
// FOLD: %[[D:.*]] = arith.subf %[[GL]], %[[G]]
// FOLD: %[[E:.*]] = math.exp %[[D]]
// FOLD: %[[VE:.*]] = arith.mulf %[[V]], %[[E]]
// FOLD: linalg.yield %[[V]], %[[VE]]
// FOLD: tensor.insert_slice %[[BOTH]]#0
// FOLD-NOT: tensor<2x16x4xf32>
// FOLD: linalg.generic
// FOLD: math.exp
// FOLD: linalg.batch_matmul indexing_maps = [#[[KT]], #[[VD]], #[[S]]] ins(%{{.*}}, %[[BOTH]]#1 : tensor<2x4x16xf32>, tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x16x8xf32>)
// FOLD: scf.yield
func.func @scan(%k: tensor<2x3x4x16xf32>, %w: tensor<2x3x4x16xf32>, %u: tensor<2x3x4x8xf32>, %g: tensor<2x3x4xf32>, %h0: tensor<2x16x8xf32>)
    -> (tensor<2x3x16x8xf32>, tensor<2x3x4x8xf32>, tensor<2x16x8xf32>) {
  %s, %vn, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h0
    : (tensor<2x3x4x16xf32>, tensor<2x3x4x16xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4xf32>, tensor<2x16x8xf32>)
    -> (tensor<2x3x16x8xf32>, tensor<2x3x4x8xf32>, tensor<2x16x8xf32>)
  return %s, %vn, %f : tensor<2x3x16x8xf32>, tensor<2x3x4x8xf32>, tensor<2x16x8xf32>
}
