// RUN: deltanet-opt %s | deltanet-opt | FileCheck %s --check-prefix=ROUND
// RUN: deltanet-opt %s --deltanet-unpack-varlen-gated-delta-rule --canonicalize --cse | FileCheck %s

// cu_seqlens (3 sequences packed along T, B = 1) becomes a gather into a
// zero-padded [N, L, ...] batch, the same op without offsets on it (states
// [N, HV, K, V] unchanged) and a scatter back to [1, T, HV, V].

// ROUND-LABEL: func.func @chunk
// ROUND: deltanet.chunk_gated_delta_rule %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} cu_seqlens(%{{.*}}) {chunk_size = 16 : i64}
// ROUND-LABEL: func.func @recurrent
// ROUND: deltanet.recurrent_gated_delta_rule %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} cu_seqlens(%{{.*}}) :

// CHECK-LABEL: func.func @chunk
// Sequence bounds clamped to [0, T]; the longest length, at least 1.
// CHECK: %[[STARTS:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<3xi32>) outs(%{{.*}} : tensor<3xindex>)
// CHECK: %[[ENDS:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[STARTS]] : tensor<3xi32>, tensor<3xindex>) outs(%{{.*}} : tensor<3xindex>)
// CHECK: %[[LEN:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[STARTS]], %[[ENDS]] : tensor<3xindex>, tensor<3xindex>) outs(%{{.*}} : tensor<index>)
// CHECK: %[[L:.*]] = tensor.extract %[[LEN]][]
// Gathers: row n holds sequence n from position 0, zeros after its end.
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} ins(%[[STARTS]], %[[ENDS]] : tensor<3xindex>, tensor<3xindex>) outs(%{{.*}} : tensor<3x?x2x16xf32>)
// CHECK:   tensor.extract %arg0
// CHECK:   arith.select
// CHECK: %[[O:.*]], %[[HN:.*]] = deltanet.chunk_gated_delta_rule %[[Q]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %arg5 {chunk_size = 16 : i64} : (tensor<3x?x2x16xf32>, tensor<3x?x2x16xf32>, tensor<3x?x4x8xf32>, tensor<3x?x4xf32>, tensor<3x?x4xf32>, tensor<3x4x16x8xf32>) -> (tensor<3x?x4x8xf32>, tensor<3x4x16x8xf32>)
// The sequence of every token, then the scatter back.
// CHECK: %[[SEQ:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[STARTS]] : tensor<3xindex>) outs(%{{.*}} : tensor<40xindex>)
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[SEQ]] : tensor<40xindex>) outs(%{{.*}} : tensor<1x40x4x8xf32>)
// CHECK:   tensor.extract %[[O]]
// CHECK: return %[[OUT]], %[[HN]]
func.func @chunk(%q: tensor<1x40x2x16xf32>, %k: tensor<1x40x2x16xf32>, %v: tensor<1x40x4x8xf32>, %g: tensor<1x40x4xf32>, %b: tensor<1x40x4xf32>, %h0: tensor<3x4x16x8xf32>, %cu: tensor<4xi32>) -> (tensor<1x40x4x8xf32>, tensor<3x4x16x8xf32>) {
  %o, %hN = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) {chunk_size = 16 : i64} : (tensor<1x40x2x16xf32>, tensor<1x40x2x16xf32>, tensor<1x40x4x8xf32>, tensor<1x40x4xf32>, tensor<1x40x4xf32>, tensor<3x4x16x8xf32>, tensor<4xi32>) -> (tensor<1x40x4x8xf32>, tensor<3x4x16x8xf32>)
  return %o, %hN : tensor<1x40x4x8xf32>, tensor<3x4x16x8xf32>
}

// Dynamic T and N (from the number of offsets), i64 offsets, bf16 data.
// CHECK-LABEL: func.func @recurrent
// CHECK: deltanet.recurrent_gated_delta_rule %{{.*}} : (tensor<?x?x1x8xbf16>, tensor<?x?x1x8xbf16>, tensor<?x?x2x4xbf16>, tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x2x8x4xf32>) -> (tensor<?x?x2x4xbf16>, tensor<?x2x8x4xf32>)
// CHECK-NOT: cu_seqlens
func.func @recurrent(%q: tensor<1x?x1x8xbf16>, %k: tensor<1x?x1x8xbf16>, %v: tensor<1x?x2x4xbf16>, %g: tensor<1x?x2xf32>, %b: tensor<1x?x2xf32>, %h0: tensor<?x2x8x4xf32>, %cu: tensor<?xi64>) -> (tensor<1x?x2x4xbf16>, tensor<?x2x8x4xf32>) {
  %o, %hN = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) : (tensor<1x?x1x8xbf16>, tensor<1x?x1x8xbf16>, tensor<1x?x2x4xbf16>, tensor<1x?x2xf32>, tensor<1x?x2xf32>, tensor<?x2x8x4xf32>, tensor<?xi64>) -> (tensor<1x?x2x4xbf16>, tensor<?x2x8x4xf32>)
  return %o, %hN : tensor<1x?x2x4xbf16>, tensor<?x2x8x4xf32>
}
