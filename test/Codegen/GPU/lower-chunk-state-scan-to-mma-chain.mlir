// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{key-split=1},cse))" | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{warps=2 key-split=1},cse))" | FileCheck %s --check-prefix=WARPS2
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain,cse))" | FileCheck %s --check-prefix=SPLIT
// RUN: not deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{row-padding=3}))" 2>&1 | FileCheck %s --check-prefix=BADPAD

// A bf16 scan (M = 2 sequences, 3 chunks of C = 32, K = V = 32), with
// key-split=1: one launch, grid (V / 16, M) of one warp (min-blocks not
// reachable), the k and w chunks staged [2][C][K + 8] in workgroup memory
// (cp.async; u's 16 columns [2][C][20], g [2][C]), S^T's K / 8 =
// 4 accumulator fragments and the pending copy group carried by the chunk
// loop; per chunk C / 8 * K / 16 = 8 products of v_new (A = -S^T, B = w by
// ldmatrix) and K / 8 * C / 16 = 8 of the state update (A = the decayed
// v_new^T, B = k by ldmatrix.trans): 16 mma.sync, one barrier.
// CHECK-LABEL: func.func @scan_bf16
// CHECK-DAG: %[[K:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<2x3x32x32xbf16> to memref<2x3x32x32xbf16>
// CHECK-DAG: %[[STATES:.*]] = memref.alloc() : memref<2x3x32x32xbf16>
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C2]], %{{.*}} = %[[C2]], %{{.*}} = %[[C1]]) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C32]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK: memref.alloc() : memref<2x32x40xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.alloc() : memref<2x32x40xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.alloc() : memref<2x32x20xf32, #gpu.address_space<workgroup>>
// CHECK: memref.alloc() : memref<2x32xf32, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy
// CHECK: %[[FIRST:.*]] = nvgpu.device_async_create_group
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}%[[FIRST]]) -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, !nvgpu.device.async.token)
// CHECK: nvgpu.device_async_wait
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: gpu.barrier
// The next chunk's k, w (4 copies each), u (4), g (1):
// CHECK-COUNT-13: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_create_group
// This chunk's u^T (4 fragments) and g (8 tokens and g_last) from shared
// memory, then S's stores:
// CHECK-COUNT-25: memref.load {{.*}}#gpu.address_space<workgroup>>
// CHECK-COUNT-16: memref.store
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.mma.sync
// CHECK-COUNT-16: memref.store
// CHECK-COUNT-9: math.exp
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
// CHECK: nvgpu.device_async_wait
// CHECK: gpu.terminator
// CHECK: bufferization.to_tensor %[[STATES]] restrict writable
// CHECK-NOT: deltanet.chunk_state_scan
// WARPS2-LABEL: func.func @scan_bf16
// WARPS2: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c2{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c64
// BADPAD: deltanet-gpu-lower-chunk-state-scan-to-mma-chain: warps must be >= 0, key-split 0, 1 or 2 and row-padding a multiple of 8
// The default key split (K = 32: two warps per 16 columns, 16 keys each):
// their partial w S products summed through shared memory, a second
// barrier; 4 + 4 products per warp and chunk, each warp storing 2 of v_new's
// 4 token tiles.
// SPLIT-LABEL: func.func @scan_bf16
// SPLIT: gpu.launch {{.*}} threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c64
// SPLIT: memref.alloc() : memref<2x4x4x32xf32, #gpu.address_space<workgroup>>
// SPLIT: scf.for {{.*}} -> (vector<2x2xf32>, vector<2x2xf32>, !nvgpu.device.async.token)
// SPLIT: gpu.barrier
// SPLIT-COUNT-4: nvgpu.mma.sync
// SPLIT-COUNT-16: memref.store {{.*}}#gpu.address_space<workgroup>>
// SPLIT-NEXT: gpu.barrier
// SPLIT-COUNT-16: memref.load {{.*}}#gpu.address_space<workgroup>>
// SPLIT-COUNT-2: arith.select
// SPLIT-COUNT-4: nvgpu.mma.sync
// SPLIT-NOT: nvgpu.mma.sync
// SPLIT: scf.yield
func.func @scan_bf16(%k: tensor<2x3x32x32xbf16>, %w: tensor<2x3x32x32xbf16>, %u: tensor<2x3x32x32xf32>, %g: tensor<2x3x32xf32>, %h: tensor<2x32x32xf32>)
    -> (tensor<2x3x32x32xbf16>, tensor<2x3x32x32xbf16>, tensor<2x32x32xf32>) {
  %s, %v, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h : (tensor<2x3x32x32xbf16>, tensor<2x3x32x32xbf16>, tensor<2x3x32x32xf32>, tensor<2x3x32xf32>, tensor<2x32x32xf32>) -> (tensor<2x3x32x32xbf16>, tensor<2x3x32x32xbf16>, tensor<2x32x32xf32>)
  return %s, %v, %f : tensor<2x3x32x32xbf16>, tensor<2x3x32x32xbf16>, tensor<2x32x32xf32>
}

// -----

// f16 with f32 states and v_new: the products in f16, the stores in f32.
// CHECK-LABEL: func.func @scan_f16
// CHECK: gpu.launch
// CHECK: nvgpu.mma.sync({{.*}}) {{.*}} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-NOT: deltanet.chunk_state_scan
func.func @scan_f16(%k: tensor<1x2x16x16xf16>, %w: tensor<1x2x16x16xf16>, %u: tensor<1x2x16x16xf32>, %g: tensor<1x2x16xf32>, %h: tensor<1x16x16xf32>)
    -> (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x16x16xf32>) {
  %s, %v, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h : (tensor<1x2x16x16xf16>, tensor<1x2x16x16xf16>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x16x16xf32>)
  return %s, %v, %f : tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x16x16xf32>
}

// -----

// Refused (the generic path keeps them): f32 products, V not a multiple of
// 16, K above 128.
// CHECK-LABEL: func.func @refused
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: deltanet.chunk_state_scan
func.func @refused(%k: tensor<1x2x16x16xf32>, %w: tensor<1x2x16x16xf32>, %u: tensor<1x2x16x16xf32>, %g: tensor<1x2x16xf32>, %h: tensor<1x16x16xf32>,
                   %k8: tensor<1x2x16x16xbf16>, %u8: tensor<1x2x16x8xf32>, %h8: tensor<1x16x8xf32>,
                   %kw: tensor<1x1x16x144xbf16>, %uw: tensor<1x1x16x16xf32>, %gw: tensor<1x1x16xf32>, %hw: tensor<1x144x16xf32>)
    -> (tensor<1x16x16xf32>, tensor<1x16x8xf32>, tensor<1x144x16xf32>) {
  %s, %v, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h : (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x16x16xf32>)
  %s8, %v8, %f8 = deltanet.chunk_state_scan %k8, %k8, %u8, %g, %h8 : (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x16x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x16x8xf32>)
  %sw, %vw, %fw = deltanet.chunk_state_scan %kw, %kw, %uw, %gw, %hw : (tensor<1x1x16x144xbf16>, tensor<1x1x16x144xbf16>, tensor<1x1x16x16xf32>, tensor<1x1x16xf32>, tensor<1x144x16xf32>) -> (tensor<1x1x144x16xf32>, tensor<1x1x16x16xf32>, tensor<1x144x16xf32>)
  return %f, %f8, %fw : tensor<1x16x16xf32>, tensor<1x16x8xf32>, tensor<1x144x16xf32>
}
