// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{stages=2 key-split=1 movmatrix-stores=false},cse))" | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{stages=2 key-split=1},cse))" | FileCheck %s --check-prefix=MOVM
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{key-split=1 stages=3},cse))" | FileCheck %s --check-prefix=STAGES3
// RUN: not deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{stages=5}))" 2>&1 | FileCheck %s --check-prefix=BADPAD
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{stages=2 warps=2 key-split=1},cse))" | FileCheck %s --check-prefix=WARPS2
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{stages=2},cse))" | FileCheck %s --check-prefix=SPLIT
// RUN: not deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{row-padding=3}))" 2>&1 | FileCheck %s --check-prefix=BADPAD
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-state-scan-to-mma-chain{stages=2 key-split=1 staged-stores=true},cse))" | FileCheck %s --check-prefix=STAGED

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
// BADPAD: deltanet-gpu-lower-chunk-state-scan-to-mma-chain: warps must be >= 0, key-split 0, 1 or 2, row-padding a multiple of 8 and stages 2, 3 or 4
// movmatrix-stores (the default): each of S's 4 fragments (and v_new's 4
// token tiles) leaves as one 8-byte store per lane: its two 8 x 8 halves
// packed to b16x2 and transposed by movmatrix, one shuffle with the
// neighbouring quad (xor 1), and no 2-byte stores.
// MOVM-LABEL: func.func @scan_bf16
// MOVM: scf.for {{.*}} iter_args
// MOVM-NOT: memref.store {{.*}} : memref<2x3x32x32xbf16>
// MOVM: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// MOVM: llvm.inline_asm has_side_effects "movmatrix.sync.aligned.m8n8.trans.b16 $0, $1;", "=r,r" %{{.*}} : (i32) -> i32
// MOVM: llvm.inline_asm has_side_effects "movmatrix.sync.aligned.m8n8.trans.b16 $0, $1;", "=r,r" %{{.*}} : (i32) -> i32
// MOVM: gpu.shuffle  xor %{{.*}}, %{{.*}}, %{{.*}} : i32
// MOVM: vector.bitcast %{{.*}} : vector<2xi32> to vector<4xbf16>
// MOVM: vector.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<2x3x32x32xbf16>, vector<4xbf16>
// MOVM-COUNT-3: vector.store %{{.*}} : memref<2x3x32x32xbf16>, vector<4xbf16>
// MOVM: nvgpu.mma.sync
// MOVM: gpu.shuffle  xor
// MOVM-COUNT-4: vector.store %{{.*}} : memref<2x3x32x32xbf16>, vector<4xbf16>
// MOVM-NOT: memref.store {{.*}} : memref<2x3x32x32xbf16>
// MOVM: scf.yield
// stages=3: three slots of each staged chunk, chunks 0 and 1 copied before
// the loop (two groups carried), each chunk waiting for its own group with
// one newer group left in flight, and chunk c + 2 copied into the slot
// chunk c - 1 read.
// STAGES3-LABEL: func.func @scan_bf16
// STAGES3: memref.alloc() : memref<3x32x40xbf16, #gpu.address_space<workgroup>>
// STAGES3: memref.alloc() : memref<3x32x40xbf16, #gpu.address_space<workgroup>>
// STAGES3: memref.alloc() : memref<3x32x20xf32, #gpu.address_space<workgroup>>
// STAGES3: memref.alloc() : memref<3x32xf32, #gpu.address_space<workgroup>>
// STAGES3: %[[G0:.*]] = nvgpu.device_async_create_group
// STAGES3: %[[G1:.*]] = nvgpu.device_async_create_group
// STAGES3: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}%[[P0:.*]] = %[[G0]], %[[P1:.*]] = %[[G1]]) -> ({{.*}}, !nvgpu.device.async.token, !nvgpu.device.async.token)
// STAGES3: nvgpu.device_async_wait %[[P0]] {numGroups = 1 : i32}
// STAGES3-NEXT: gpu.barrier
// STAGES3: %[[SLOT:.*]] = arith.remui %[[C]], %c3
// STAGES3: %[[AHEAD:.*]] = arith.addi %[[C]], %c2
// STAGES3: %[[NEXTSLOT:.*]] = arith.remui %[[AHEAD]], %c3
// STAGES3: %[[NEXT:.*]] = arith.minui %[[AHEAD]], %c2
// STAGES3: %[[NEW:.*]] = nvgpu.device_async_create_group
// STAGES3: scf.yield {{.*}}, %[[P1]], %[[NEW]] :
// The default key split (K = 32: two warps per 16 columns, 16 keys each):
// their partial w S products summed through shared memory, a second
// barrier; 4 + 4 products per warp and chunk, each warp storing 2 of v_new's
// 4 token tiles.
// SPLIT-LABEL: func.func @scan_bf16
// SPLIT: gpu.launch {{.*}} threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c64
// Each lane's fragment goes as one 16-byte vector ([warps][C / 8][32][4]).
// SPLIT: memref.alloc() : memref<2x4x32x4xf32, #gpu.address_space<workgroup>>
// SPLIT: scf.for {{.*}} -> (vector<2x2xf32>, vector<2x2xf32>, !nvgpu.device.async.token)
// SPLIT: gpu.barrier
// SPLIT-COUNT-4: nvgpu.mma.sync
// SPLIT-NOT: memref.store {{.*}}#gpu.address_space<workgroup>>
// SPLIT: vector.shape_cast %{{.*}} : vector<2x2xf32> to vector<4xf32>
// SPLIT-NEXT: vector.store %{{.*}}, %{{.*}}[%{{.*}}, %c0, %{{.*}}, %c0] : memref<2x4x32x4xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// SPLIT-COUNT-3: vector.store {{.*}}#gpu.address_space<workgroup>>, vector<4xf32>
// SPLIT-NEXT: gpu.barrier
// SPLIT-NEXT: vector.load %{{.*}}[%{{.*}}, %c0, %{{.*}}, %c0] : memref<2x4x32x4xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// SPLIT-NOT: memref.load {{.*}}#gpu.address_space<workgroup>>
// SPLIT: arith.select
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

// The final state only copied into the caller's buffer (through an
// expand_shape): the kernel writes it there (the argument collapsed back to
// [M, K, V]); the copy and the reshape go. A final state with another
// reader keeps its own buffer (@final_state_read).
// CHECK-LABEL: func.func @final_state_in_caller_buffer
// CHECK: %[[HT:.*]] = memref.collapse_shape %arg5 {{\[\[}}0, 1], [2], [3]] : memref<1x1x16x16xf32> into memref<1x16x16xf32>
// CHECK: gpu.launch
// CHECK: memref.store {{.*}}, %[[HT]]
// CHECK-NOT: materialize_in_destination
// CHECK-LABEL: func.func @final_state_read
// CHECK: %[[FINAL:.*]] = memref.alloc() : memref<1x16x16xf32>
// CHECK: gpu.launch
// CHECK: bufferization.to_tensor %[[FINAL]] restrict writable
// CHECK: materialize_in_destination
func.func @final_state_in_caller_buffer(%k: tensor<1x2x16x16xf16>, %w: tensor<1x2x16x16xf16>, %u: tensor<1x2x16x16xf32>, %g: tensor<1x2x16xf32>, %h: tensor<1x16x16xf32>, %ht: memref<1x1x16x16xf32>)
    -> (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>) {
  %s, %v, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h : (tensor<1x2x16x16xf16>, tensor<1x2x16x16xf16>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x16x16xf32>)
  %e = tensor.expand_shape %f [[0, 1], [2], [3]] output_shape [1, 1, 16, 16] : tensor<1x16x16xf32> into tensor<1x1x16x16xf32>
  bufferization.materialize_in_destination %e in restrict writable %ht : (tensor<1x1x16x16xf32>, memref<1x1x16x16xf32>) -> ()
  return %s, %v : tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>
}
func.func @final_state_read(%k: tensor<1x2x16x16xf16>, %w: tensor<1x2x16x16xf16>, %u: tensor<1x2x16x16xf32>, %g: tensor<1x2x16xf32>, %h: tensor<1x16x16xf32>, %ht: memref<1x16x16xf32>)
    -> (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x16x16xf32>) {
  %s, %v, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h : (tensor<1x2x16x16xf16>, tensor<1x2x16x16xf16>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x16x16xf32>)
  bufferization.materialize_in_destination %f in restrict writable %ht : (tensor<1x16x16xf32>, memref<1x16x16xf32>) -> ()
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

// -----

// k read in place: the decomposition's gather (k [B][T][H][K] ->
// [B][HV][NC][C][K], HV = 2 H: key head hv / 2, a bf16 -> f32 -> bf16 copy)
// collapsed to [M][NC][C][K]. The chain stages k's chunks from the gather's
// input (rows c * C + j of key head hv / 2), and the gather and its
// collapse_shape go (nothing else reads them). Two launches, as
// deltanet-gpu-annotate-vector-alignment's versioning=kernel: the host
// gives the blocks to the one with cp.async of 16 bytes where the input is
// 16-byte aligned, else to its twin with element copies.
// CHECK-LABEL: func.func @scan_k_from_source
// CHECK-NOT: linalg.generic
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[SRC:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<1x64x1x32xbf16> to memref<1x64x1x32xbf16>
// CHECK: %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[SRC]]
// CHECK: %[[LOW:.*]] = arith.andi %[[PTR]], %{{.*}} : index
// CHECK: %[[ALIGNED:.*]] = arith.cmpi eq, %[[LOW]], %{{.*}} : index
// CHECK: %[[GRID:.*]] = arith.select %[[ALIGNED]], %c2, %c0 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GRID]],
// CHECK: %[[BATCH:.*]] = arith.divui %[[SEQ:.*]], %c2 : index
// CHECK-NEXT: %[[HV:.*]] = arith.remui %[[SEQ]], %c2 : index
// CHECK-NEXT: %[[HEAD:.*]] = arith.divui %[[HV]], %c2 : index
// CHECK-NOT: memref.load %[[SRC]]
// CHECK: nvgpu.device_async_copy %[[SRC]][%[[BATCH]], %{{.*}}, %[[HEAD]], %{{.*}}], %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}], 8 {bypassL1}
// The states and v_new stored from the fragments (staged-stores off):
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-16: memref.store %{{.*}}, %{{.*}} : memref<2x2x32x32xbf16>
// CHECK-NOT: vector.store
// CHECK: gpu.terminator
// The twin: the other grid, element copies of k (no cp.async from it).
// CHECK: %[[TWIN:.*]] = arith.select %[[ALIGNED]], %c0, %c2 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[TWIN]],
// CHECK-NOT: nvgpu.device_async_copy %[[SRC]]
// CHECK: scf.for
// CHECK: memref.load %[[SRC]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x64x1x32xbf16>
// CHECK-NOT: nvgpu.device_async_copy %[[SRC]]
// CHECK: gpu.terminator
// staged-stores=true: the states leave through the warp's store tile
// [warps][32][16 + 8] as 16-byte rows (2 per lane), v_new likewise.
// STAGED-LABEL: func.func @scan_k_from_source
// STAGED: memref.alloc() : memref<1x32x24xbf16, #gpu.address_space<workgroup>>
// STAGED: scf.for {{.*}} iter_args
// STAGED-COUNT-16: memref.store %{{.*}}, %{{.*}} : memref<1x32x24xbf16, #gpu.address_space<workgroup>>
// STAGED-NEXT: %{{.*}} = arith.constant -1 : i32
// STAGED-NEXT: nvvm.bar.warp.sync
// STAGED: vector.load {{.*}} : memref<1x32x24xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// STAGED: vector.store {{.*}} : memref<2x2x32x32xbf16>, vector<8xbf16>
// STAGED: vector.load {{.*}} : memref<1x32x24xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// STAGED: vector.store {{.*}} : memref<2x2x32x32xbf16>, vector<8xbf16>
// STAGED-NEXT: nvvm.bar.warp.sync
// STAGED: nvgpu.mma.sync
// STAGED: nvvm.bar.warp.sync
// STAGED-COUNT-2: vector.store {{.*}} : memref<2x2x32x32xbf16>, vector<8xbf16>
// STAGED-NEXT: nvvm.bar.warp.sync
// STAGED-NOT: memref.store {{.*}} : memref<2x2x32x32xbf16>
// STAGED: gpu.terminator
func.func @scan_k_from_source(%ks: tensor<1x64x1x32xbf16>, %w: tensor<2x2x32x32xbf16>, %u: tensor<2x2x32x32xf32>, %g: tensor<2x2x32xf32>, %h: tensor<2x32x32xf32>)
    -> (tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x32x32xf32>) {
  %e = tensor.empty() : tensor<1x2x2x32x32xbf16>
  %gk = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1 floordiv 2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%ks : tensor<1x64x1x32xbf16>) outs(%e : tensor<1x2x2x32x32xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %x = arith.extf %in : bf16 to f32
    %y = arith.truncf %x : f32 to bf16
    linalg.yield %y : bf16
  } -> tensor<1x2x2x32x32xbf16>
  %k = tensor.collapse_shape %gk [[0, 1], [2], [3], [4]] : tensor<1x2x2x32x32xbf16> into tensor<2x2x32x32xbf16>
  %s, %v, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h : (tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x2x32x32xf32>, tensor<2x2x32xf32>, tensor<2x32x32xf32>) -> (tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x32x32xf32>)
  return %s, %v, %f : tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x32x32xf32>
}

// -----

// A gather that converts (f32 k rounded to bf16) is not read in place: the
// chain stages the gathered k, the gather stays (and has no aligned check).
// CHECK-LABEL: func.func @scan_k_converted
// CHECK: %[[GATHER:.*]] = linalg.generic
// CHECK: %[[K:.*]] = tensor.collapse_shape %[[GATHER]]
// CHECK: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only : tensor<2x2x32x32xbf16> to memref<2x2x32x32xbf16>
// CHECK-NOT: memref.extract_aligned_pointer_as_index
// CHECK: gpu.launch
// CHECK-NOT: scf.if
// CHECK: nvgpu.device_async_copy %[[KB]]
func.func @scan_k_converted(%ks: tensor<1x64x1x32xf32>, %w: tensor<2x2x32x32xbf16>, %u: tensor<2x2x32x32xf32>, %g: tensor<2x2x32xf32>, %h: tensor<2x32x32xf32>)
    -> (tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x32x32xf32>) {
  %e = tensor.empty() : tensor<1x2x2x32x32xbf16>
  %gk = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1 floordiv 2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%ks : tensor<1x64x1x32xf32>) outs(%e : tensor<1x2x2x32x32xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %y = arith.truncf %in : f32 to bf16
    linalg.yield %y : bf16
  } -> tensor<1x2x2x32x32xbf16>
  %k = tensor.collapse_shape %gk [[0, 1], [2], [3], [4]] : tensor<1x2x2x32x32xbf16> into tensor<2x2x32x32xbf16>
  %s, %v, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h : (tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x2x32x32xf32>, tensor<2x2x32xf32>, tensor<2x32x32xf32>) -> (tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x32x32xf32>)
  return %s, %v, %f : tensor<2x2x32x32xbf16>, tensor<2x2x32x32xbf16>, tensor<2x32x32xf32>
}

// -----

// A 16-bit u (narrow-scan-u): staged in bf16, rows of 16 + 8 elements.
// CHECK-LABEL: func.func @scan_bf16_u
// CHECK: gpu.launch
// CHECK: memref.alloc() : memref<2x16x24xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.load {{.*}} : memref<2x16x24xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: arith.extf
func.func @scan_bf16_u(%k: tensor<1x2x16x16xbf16>, %u: tensor<1x2x16x16xbf16>, %g: tensor<1x2x16xf32>, %h: tensor<1x16x16xf32>)
    -> (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x16x16xf32>) {
  %s, %v, %f = deltanet.chunk_state_scan %k, %k, %u, %g, %h : (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x16x16xf32>)
  return %s, %v, %f : tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x16x16xf32>
}
