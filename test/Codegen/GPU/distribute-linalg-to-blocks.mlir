// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-distribute-linalg-to-blocks --verify-diagnostics | FileCheck %s

// The longest tiled loop goes on the grid's x (y and z hold at most 65535
// blocks): [T = 131072, HV = 4, V] tiles T and HV, T on x.
// CHECK-LABEL: func.func @long_on_x
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (131072, 4)
// CHECK: linalg.generic
// CHECK: } {mapping = [#gpu.block<x>, #gpu.block<y>]}
func.func @long_on_x(%x: tensor<131072x4x8xf32>) -> tensor<131072x4x8xf32> {
  %e = tensor.empty() : tensor<131072x4x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<131072x4x8xf32>) outs(%e : tensor<131072x4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  } -> tensor<131072x4x8xf32>
  return %r : tensor<131072x4x8xf32>
}

// -----

// Two loops above 65535: one of them would be y.
func.func @too_long(%x: tensor<70000x70000x8xf32>) -> tensor<70000x70000x8xf32> {
  %e = tensor.empty() : tensor<70000x70000x8xf32>
  // expected-error @+1 {{would be a grid dimension y or z (at most 65535 blocks)}}
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<70000x70000x8xf32>) outs(%e : tensor<70000x70000x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<70000x70000x8xf32>
  return %r : tensor<70000x70000x8xf32>
}

// -----

// A host-level pad (the summary's values [0 | v]) becomes a fill and a
// linalg.copy into its slice, each on the grid; no tensor.pad is left.
// CHECK-LABEL: func.func @pad
// CHECK-NOT: tensor.pad
// CHECK: linalg.fill
// CHECK: } {mapping = [#gpu.block<x>, #gpu.block<y>]}
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %{{.*}}[0, 0, 16] [64, 2, 8] [1, 1, 1]
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %[[SLICE]])
// CHECK: linalg.copy
// CHECK: } {mapping = [#gpu.block<x>, #gpu.block<y>]}
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 16] [64, 2, 8] [1, 1, 1]
func.func @pad(%v: tensor<64x2x8xbf16>) -> tensor<64x2x24xbf16> {
  %zero = arith.constant 0.0 : bf16
  %p = tensor.pad %v low[0, 0, 16] high[0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index):
    tensor.yield %zero : bf16
  } : tensor<64x2x8xbf16> to tensor<64x2x24xbf16>
  return %p : tensor<64x2x24xbf16>
}
