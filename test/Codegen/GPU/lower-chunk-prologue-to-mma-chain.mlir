// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-prologue-to-mma-chain,canonicalize,cse))" | FileCheck %s
// A 16-bit inverse (tri-inv-precision=bf16): one operand part, one product.
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-prologue-to-mma-chain{inverse-precision=bf16},canonicalize,cse))" | FileCheck %s --check-prefix=INV16
// RUN: not deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-prologue-to-mma-chain{row-padding=3}))" 2>&1 | FileCheck %s --check-prefix=BADPAD
// BADPAD: deltanet-gpu-lower-chunk-prologue-to-mma-chain: row-padding must be a multiple of 8, got 3

// The decomposition's gathers (B = 1, T = 64, H = 1 key head, HV = 2 value
// heads, C = 32, K = V = 32): k, v and beta read from the bf16 inputs, the
// f32 gathers left dead. A host test of the 16-bit sources' alignment picks
// the cp.async launch or the element-load one; 4 chunks (B x HV x NC) of 2
// warps; k, v staged [32][40] bf16; A = K K^T (K / 16 x C / 8 = 8
// products, 2 k-steps per ldmatrix), gated (C / 4 = 8 exps per lane); the
// inverse blocked: A stored (high and low bf16 parts: the tri_inv is f32),
// each warp's 16 x 16 diagonal block inverted by the Neumann product (D D,
// then three levels X += X P, P = P P through yS, three products per
// mma: hi hi + hi lo + lo hi), then one merge (C = 32: two blocks) under
// scf.if for the lower block's warp: Y = A_L T into yS, T -= T Y; the WY
// products' k-steps past a warp's diagonal block under scf.if; w and u
// stored as element pairs.
// CHECK-LABEL: func.func @gathered
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[K:.*]] = bufferization.to_buffer %arg0 read_only : tensor<1x64x1x32xbf16>
// CHECK-DAG: %[[V:.*]] = bufferization.to_buffer %arg1 read_only : tensor<1x64x2x32xbf16>
// CHECK: memref.extract_aligned_pointer_as_index %[[K]]
// CHECK: memref.extract_aligned_pointer_as_index %[[V]]
// CHECK: scf.if
// CHECK-NEXT: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c64, {{.*}} = %c1, {{.*}} = %c1)
// CHECK-NEXT: %[[KS:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: %[[VS:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: %[[AHI:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: %[[THI:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: %[[YHI:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: %[[ALO:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: %[[TLO:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: %[[YLO:.*]] = memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-NOT: memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-COUNT-4: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_wait
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-2: nvgpu.ldmatrix %[[KS]]{{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK-COUNT-8: nvgpu.mma.sync
// CHECK-COUNT-8: math.exp
// A's parts:
// CHECK: vector.store {{.*}}, %[[AHI]]
// CHECK: vector.store {{.*}}, %[[ALO]]
// CHECK: gpu.barrier
// D D (the diagonal block's B operands from both parts of A):
// CHECK: nvgpu.ldmatrix %[[AHI]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.ldmatrix %[[ALO]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-6: nvgpu.mma.sync
// Three levels X += X P (P = P P in the first two): P's parts through yS.
// CHECK: vector.store {{.*}}, %[[YLO]]
// CHECK: gpu.barrier
// CHECK: nvgpu.ldmatrix %[[YHI]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.ldmatrix %[[YLO]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-12: nvgpu.mma.sync
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK-COUNT-12: nvgpu.mma.sync
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK-COUNT-6: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// The merge: T's parts stored, Y = A_L T (A from aS, B from tS) into yS for
// warp 1, then T -= T Y (B from yS) for warp 1.
// CHECK: vector.store {{.*}}, %[[TLO]]
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-NEXT: nvgpu.ldmatrix %[[AHI]]{{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK-NEXT: nvgpu.ldmatrix %[[ALO]]{{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.ldmatrix %[[THI]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.ldmatrix %[[TLO]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-6: nvgpu.mma.sync
// CHECK: vector.store {{.*}}, %[[YLO]]
// CHECK: gpu.barrier
// CHECK-NEXT: scf.if
// CHECK: nvgpu.ldmatrix %[[YHI]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.ldmatrix %[[YLO]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-6: nvgpu.mma.sync
// CHECK-NEXT: scf.yield
// The WY products: B = K, V rows (ldmatrix.trans), the k-step past warp 0's
// diagonal block skipped.
// CHECK: nvgpu.ldmatrix %[[KS]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: scf.if
// CHECK: vector.store {{.*}} : memref<4x32x32xbf16>, vector<2xbf16>
// CHECK: vector.store {{.*}} : memref<4x32x32xf32>, vector<2xf32>
// CHECK: } else {
// CHECK-NEXT: gpu.launch
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: tensor.extract %arg0
// CHECK: return
// With a 16-bit inverse: k, v, A, T, Y staged (one part each), one mma per
// product: D D (2), X P + P P (4, twice), X P (2), the merge's Y (2) and
// T Y (2).
// INV16-LABEL: func.func @gathered
// INV16: gpu.launch
// INV16-COUNT-5: memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// INV16-NOT: memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// INV16-COUNT-8: nvgpu.mma.sync
// INV16: gpu.barrier
// INV16-COUNT-2: nvgpu.mma.sync
// INV16: gpu.barrier
// INV16-COUNT-4: nvgpu.mma.sync
// INV16: gpu.barrier
// INV16: gpu.barrier
// INV16-COUNT-4: nvgpu.mma.sync
// INV16: gpu.barrier
// INV16: gpu.barrier
// INV16-COUNT-2: nvgpu.mma.sync
// INV16-NOT: nvgpu.mma.sync
// INV16: gpu.barrier
// INV16-NEXT: arith.cmpi
// INV16: scf.if
// INV16-COUNT-2: nvgpu.mma.sync
// INV16-NOT: nvgpu.mma.sync
// INV16: gpu.barrier
// INV16-NEXT: scf.if
// INV16-COUNT-2: nvgpu.mma.sync
// INV16-NEXT: scf.yield
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

// -----

// The tri_inv's own precision wins over the pass option: a bf16 tri_inv
// gets one operand part (k, v, A, Y staged; C = 16: no merge, T's unused
// tiles erased), an f32 one under inverse-precision=bf16 two (A, Y high and
// low); an i8 tri_inv is refused.
// CHECK-LABEL: func.func @attribute_bf16
// CHECK: gpu.launch
// CHECK-COUNT-4: memref.alloc() : memref<16x24xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: memref.alloc() : memref<16xf32
// CHECK-LABEL: func.func @refused_i8
// CHECK-NOT: gpu.launch
// CHECK: deltanet.tri_inv
// INV16-LABEL: func.func @attribute_f32
// INV16: gpu.launch
// INV16-COUNT-6: memref.alloc() : memref<16x24xbf16, #gpu.address_space<workgroup>>
// INV16-NEXT: memref.alloc() : memref<16xf32
// INV16-LABEL: func.func @refused_i8
// INV16-NOT: gpu.launch
func.func @attribute_bf16(%k: tensor<3x16x16xf32>, %v: tensor<3x16x16xf32>, %g: tensor<3x16xf32>, %beta: tensor<3x16xf32>) -> (tensor<3x16x16xbf16>, tensor<3x16x16xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x16x16xf32>
  %t = deltanet.tri_inv %a {precision = #deltanet.precision<bf16>} : tensor<3x16x16xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> (tensor<3x16x16xbf16>, tensor<3x16x16xf32>)
  return %w, %u : tensor<3x16x16xbf16>, tensor<3x16x16xf32>
}

func.func @attribute_f32(%k: tensor<3x16x16xf32>, %v: tensor<3x16x16xf32>, %g: tensor<3x16xf32>, %beta: tensor<3x16xf32>) -> (tensor<3x16x16xbf16>, tensor<3x16x16xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x16x16xf32>
  %t = deltanet.tri_inv %a {precision = #deltanet.precision<f32>} : tensor<3x16x16xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> (tensor<3x16x16xbf16>, tensor<3x16x16xf32>)
  return %w, %u : tensor<3x16x16xbf16>, tensor<3x16x16xf32>
}

func.func @refused_i8(%k: tensor<3x16x16xf32>, %v: tensor<3x16x16xf32>, %g: tensor<3x16xf32>, %beta: tensor<3x16xf32>) -> (tensor<3x16x16xbf16>, tensor<3x16x16xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x16x16xf32>
  %t = deltanet.tri_inv %a {precision = #deltanet.precision<i8>} : tensor<3x16x16xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> (tensor<3x16x16xbf16>, tensor<3x16x16xf32>)
  return %w, %u : tensor<3x16x16xbf16>, tensor<3x16x16xf32>
}
