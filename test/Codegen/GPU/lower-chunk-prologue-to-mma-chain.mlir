// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-prologue-to-mma-chain,canonicalize,cse))" | FileCheck %s
// RUN: not deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-prologue-to-mma-chain{row-padding=3}))" 2>&1 | FileCheck %s --check-prefix=BADPAD
// BADPAD: deltanet-gpu-lower-chunk-prologue-to-mma-chain: row-padding must be a multiple of 8, got 3

// The decomposition's gathers (B = 1, T = 64, H = 1 key head, HV = 2 value
// heads, C = 32, K = V = 32): k, v and beta read from the bf16 inputs, the
// f32 gathers left dead. A host test of the 16-bit sources' alignment picks
// the cp.async launch or the element-load one; 4 chunks (B x HV x NC) of 2
// warps; k, v, P staged [32][40] bf16; A = K K^T (K / 16 x C / 8 = 8
// products, 2 k-steps per ldmatrix), gated (C / 4 = 8 exps per lane), the
// inverse's levels through P in shared memory (a barrier before and after
// each store), the k-steps past a warp's diagonal block under scf.if; w and
// u stored as element pairs.
// CHECK-LABEL: func.func @gathered
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[K:.*]] = bufferization.to_buffer %arg0 read_only : tensor<1x64x1x32xbf16>
// CHECK-DAG: %[[V:.*]] = bufferization.to_buffer %arg1 read_only : tensor<1x64x2x32xbf16>
// CHECK: memref.extract_aligned_pointer_as_index %[[K]]
// CHECK: memref.extract_aligned_pointer_as_index %[[V]]
// CHECK: scf.if
// CHECK-NEXT: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c64, {{.*}} = %c1, {{.*}} = %c1)
// CHECK-COUNT-3: memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-COUNT-4: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_wait
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-2: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK-COUNT-8: nvgpu.mma.sync
// CHECK-COUNT-8: math.exp
// CHECK: vector.store {{.*}} : memref<32x40xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK: gpu.barrier
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: scf.if
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK: vector.store {{.*}} : memref<4x32x32xbf16>, vector<2xbf16>
// CHECK: vector.store {{.*}} : memref<4x32x32xf32>, vector<2xf32>
// CHECK: } else {
// CHECK-NEXT: gpu.launch
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: tensor.extract %arg0
// CHECK: return
#kmap = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1 floordiv 2, d4)>
#vmap = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1, d4)>
#bmap = affine_map<(d0, d1, d2, d3) -> (d0, d2 * 32 + d3, d1)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @gathered(%k: tensor<1x64x1x32xbf16>, %v: tensor<1x64x2x32xbf16>, %beta: tensor<1x64x2xbf16>, %g: tensor<4x32xf32>) -> (tensor<4x32x32xbf16>, tensor<4x32x32xf32>) {
  %e0 = tensor.empty() : tensor<1x2x2x32x32xf32>
  %kg = linalg.generic {indexing_maps = [#kmap, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x64x1x32xbf16>) outs(%e0 : tensor<1x2x2x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x2x2x32x32xf32>
  %vg = linalg.generic {indexing_maps = [#vmap, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x64x2x32xbf16>) outs(%e0 : tensor<1x2x2x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x2x2x32x32xf32>
  %e1 = tensor.empty() : tensor<1x2x2x32xf32>
  %bg = linalg.generic {indexing_maps = [#bmap, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%beta : tensor<1x64x2xbf16>) outs(%e1 : tensor<1x2x2x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x2x2x32xf32>
  %kc = tensor.collapse_shape %kg [[0, 1, 2], [3], [4]] : tensor<1x2x2x32x32xf32> into tensor<4x32x32xf32>
  %vc = tensor.collapse_shape %vg [[0, 1, 2], [3], [4]] : tensor<1x2x2x32x32xf32> into tensor<4x32x32xf32>
  %bc = tensor.collapse_shape %bg [[0, 1, 2], [3]] : tensor<1x2x2x32xf32> into tensor<4x32xf32>
  %a = deltanet.gated_kkt %kc, %g, %bc : (tensor<4x32x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x32x32xf32>
  %t = deltanet.tri_inv %a : tensor<4x32x32xf32>
  %w, %u = deltanet.wy_repr %t, %kc, %vc, %g, %bc : (tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) -> (tensor<4x32x32xbf16>, tensor<4x32x32xf32>)
  return %w, %u : tensor<4x32x32xbf16>, tensor<4x32x32xf32>
}

// -----

// Plain f32 operands (f16 products): element loads, no alignment test; C =
// 16: one warp, no k-step past its diagonal block.
// CHECK-LABEL: func.func @plain_f16
// CHECK-NOT: scf.if
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c32, {{.*}} = %c1, {{.*}} = %c1)
// CHECK-NOT: nvgpu.device_async_copy
// CHECK-NOT: scf.if
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: vector.store {{.*}} : memref<3x16x16xf16>, vector<2xf16>
// CHECK: return
func.func @plain_f16(%k: tensor<3x16x16xf32>, %v: tensor<3x16x32xf32>, %g: tensor<3x16xf32>, %beta: tensor<3x16xf32>) -> (tensor<3x16x16xf16>, tensor<3x16x32xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x16x16xf32>
  %t = deltanet.tri_inv %a : tensor<3x16x16xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16x32xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> (tensor<3x16x16xf16>, tensor<3x16x32xf32>)
  return %w, %u : tensor<3x16x16xf16>, tensor<3x16x32xf32>
}

// -----

// Refused: f32 w (f32 products), and C = 128.
// CHECK-LABEL: func.func @refused_f32
// CHECK-NOT: gpu.launch
// CHECK: deltanet.wy_repr
// CHECK-LABEL: func.func @refused_chunk
// CHECK-NOT: gpu.launch
// CHECK: deltanet.wy_repr
func.func @refused_f32(%k: tensor<2x32x32xf32>, %v: tensor<2x32x32xf32>, %g: tensor<2x32xf32>, %beta: tensor<2x32xf32>) -> (tensor<2x32x32xf32>, tensor<2x32x32xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<2x32x32xf32>, tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32x32xf32>
  %t = deltanet.tri_inv %a : tensor<2x32x32xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x32xf32>, tensor<2x32xf32>) -> (tensor<2x32x32xf32>, tensor<2x32x32xf32>)
  return %w, %u : tensor<2x32x32xf32>, tensor<2x32x32xf32>
}

func.func @refused_chunk(%k: tensor<1x128x32xf32>, %v: tensor<1x128x32xf32>, %g: tensor<1x128xf32>, %beta: tensor<1x128xf32>) -> (tensor<1x128x32xbf16>, tensor<1x128x32xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<1x128x32xf32>, tensor<1x128xf32>, tensor<1x128xf32>) -> tensor<1x128x128xf32>
  %t = deltanet.tri_inv %a : tensor<1x128x128xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<1x128x128xf32>, tensor<1x128x32xf32>, tensor<1x128x32xf32>, tensor<1x128xf32>, tensor<1x128xf32>) -> (tensor<1x128x32xbf16>, tensor<1x128x32xf32>)
  return %w, %u : tensor<1x128x32xbf16>, tensor<1x128x32xf32>
}

// -----

// k's input longer than the chunks gathered from it (T = 80 >= NC * C = 64,
// as ChunkOperandSource's chunk gather allows for every chain): k is still
// read there, its gather left dead.
// CHECK-LABEL: func.func @gathered_longer_source
// CHECK-NOT: linalg.generic
// CHECK: bufferization.to_buffer %arg0 read_only : tensor<1x80x1x32xbf16>
// CHECK: gpu.launch
#kmap = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1 floordiv 2, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @gathered_longer_source(%k: tensor<1x80x1x32xbf16>, %v: tensor<4x32x32xf32>, %beta: tensor<4x32xf32>, %g: tensor<4x32xf32>) -> (tensor<4x32x32xbf16>, tensor<4x32x32xf32>) {
  %e0 = tensor.empty() : tensor<1x2x2x32x32xf32>
  %kg = linalg.generic {indexing_maps = [#kmap, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x80x1x32xbf16>) outs(%e0 : tensor<1x2x2x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x2x2x32x32xf32>
  %kc = tensor.collapse_shape %kg [[0, 1, 2], [3], [4]] : tensor<1x2x2x32x32xf32> into tensor<4x32x32xf32>
  %a = deltanet.gated_kkt %kc, %g, %beta : (tensor<4x32x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x32x32xf32>
  %t = deltanet.tri_inv %a : tensor<4x32x32xf32>
  %w, %u = deltanet.wy_repr %t, %kc, %v, %g, %beta : (tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) -> (tensor<4x32x32xbf16>, tensor<4x32x32xf32>)
  return %w, %u : tensor<4x32x32xbf16>, tensor<4x32x32xf32>
}
