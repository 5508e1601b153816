// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-output-to-mma-chain,cse))" | FileCheck %s
// RUN: not deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-output-to-mma-chain{value-tile=24}))" 2>&1 | FileCheck %s --check-prefix=BADTILE

// A bf16 output stage (N = 2 chunks of C = 32, K = V = 32), q widened from
// bf16 (as the pipeline's gather does), o written as it is: one launch,
// grid (N, V / 32) of C / 16 = 2 warps; q, k, v_new, the state staged in
// workgroup memory (rows + 8), g [1][C]; one cp.async group, one barrier.
// Per warp: q's K / 16 = 2 A fragments by ldmatrix, O = (q exp(g) scale)
// state (2 k-steps x 4 column tiles = 8 mma.sync, B by ldmatrix.trans),
// P = q k^T for the key tiles up to the warp's rows (scf.if per 16 keys: 2
// tiles x 2 k-steps = 4 mma.sync, B by ldmatrix non-trans), the causal
// decay, then O += P v_new with P's accumulators as the A operand (truncf
// + vector.insert, no shared store; 4 mma.sync, B by ldmatrix.trans).
// CHECK-LABEL: func.func @output_bf16
// CHECK-DAG: %[[QS:.*]] = bufferization.to_buffer %arg0 read_only : tensor<2x32x32xbf16> to memref<2x32x32xbf16>
// CHECK-DAG: %[[O:.*]] = memref.alloc() : memref<2x32x32xf32>
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C2:.*]], %{{.*}} = %[[C1:.*]], %{{.*}} = %[[C1]]) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C64:.*]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK-COUNT-4: memref.alloc() : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.alloc() : memref<1x32xf32, #gpu.address_space<workgroup>>
// q and k (possibly the caller's buffers) checked for 16-byte alignment:
// cp.async where they are, element copies otherwise.
// CHECK: memref.extract_aligned_pointer_as_index %[[QS]]
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %[[QS]]
// CHECK: nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait
// CHECK-NEXT: } else {
// CHECK: memref.load %[[QS]]
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK-COUNT-2: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false} : memref<32x40xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-2: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// The P tiles of keys 0-15 (every warp) and 16-31 (warp 1):
// CHECK: scf.if
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.mma.sync
// CHECK: scf.if
// CHECK-COUNT-16: arith.select
// P's accumulators as the A operand of P v_new, without a store:
// CHECK: scf.if
// CHECK-NOT: memref.store
// CHECK: arith.truncf %{{.*}} : vector<2x2xf32> to vector<2x2xbf16>
// CHECK-NOT: memref.store
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.mma.sync
// CHECK: scf.if
// o's pairs:
// CHECK-COUNT-8: vector.store %{{.*}}, %[[O]][{{.*}}] : memref<2x32x32xf32>, vector<2xf32>
// CHECK: bufferization.to_tensor %[[O]] restrict writable
// CHECK-NOT: deltanet.chunk_output
// BADTILE: deltanet-gpu-lower-chunk-output-to-mma-chain: value-tile must be 0 or a positive multiple of 16 and row-padding a multiple of 8
func.func @output_bf16(%qs: tensor<2x32x32xbf16>, %k: tensor<2x32x32xbf16>,
                       %v: tensor<2x32x32xbf16>, %s: tensor<2x32x32xbf16>,
                       %g: tensor<2x32xf32>) -> tensor<2x32x32xf32> {
  %e = tensor.empty() : tensor<2x32x32xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qs : tensor<2x32x32xbf16>) outs(%e : tensor<2x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<2x32x32xf32>
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x32x32xf32>, tensor<2x32x32xbf16>, tensor<2x32x32xbf16>, tensor<2x32x32xbf16>, tensor<2x32xf32>) -> tensor<2x32x32xf32>
  return %o : tensor<2x32x32xf32>
}

// -----

// The scatter into the caller's [B, T, HV, V] layout (o -> expand_shape ->
// truncf copy with (b, t floordiv C, t mod C) reads) done by the launch,
// into the out-parameter that the scatter's result only filled: bf16
// pairs, the scatter and the fill gone.
// CHECK-LABEL: func.func @output_scatter
// CHECK: gpu.launch
// CHECK-COUNT-8: vector.store %{{.*}}, %arg5[{{.*}}] : memref<1x64x2x32xbf16>, vector<2xbf16>
// CHECK-NOT: linalg.generic
// CHECK-NOT: materialize_in_destination
// CHECK: return
func.func @output_scatter(%qs: tensor<4x32x32xbf16>, %k: tensor<4x32x32xbf16>,
                          %v: tensor<4x32x32xbf16>, %s: tensor<4x32x32xbf16>,
                          %g: tensor<4x32xf32>, %out: memref<1x64x2x32xbf16>) {
  %e = tensor.empty() : tensor<4x32x32xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qs : tensor<4x32x32xbf16>) outs(%e : tensor<4x32x32xf32>) {
  ^bb0(%in: bf16, %o: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<4x32x32xf32>
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<4x32x32xf32>, tensor<4x32x32xbf16>, tensor<4x32x32xbf16>, tensor<4x32x32xbf16>, tensor<4x32xf32>) -> tensor<4x32x32xf32>
  %x = tensor.expand_shape %o [[0, 1, 2], [3], [4]] output_shape [1, 2, 2, 32, 32] : tensor<4x32x32xf32> into tensor<1x2x2x32x32xf32>
  %d = tensor.empty() : tensor<1x64x2x32xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 floordiv 32, d1 mod 32, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x2x2x32x32xf32>) outs(%d : tensor<1x64x2x32xbf16>) {
  ^bb0(%in: f32, %o2: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<1x64x2x32xbf16>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<1x64x2x32xbf16>, memref<1x64x2x32xbf16>) -> ()
  return
}

// -----

// Refused (the generic path keeps them): f32 k / v_new / state, and a q
// that is not a widened 16-bit tensor.
// CHECK-LABEL: func.func @refused_f32
// CHECK-NOT: gpu.launch
// CHECK: deltanet.chunk_output
func.func @refused_f32(%q: tensor<2x32x32xf32>, %k: tensor<2x32x32xf32>,
                       %v: tensor<2x32x32xf32>, %s: tensor<2x32x32xf32>,
                       %g: tensor<2x32xf32>) -> tensor<2x32x32xf32> {
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x32xf32>) -> tensor<2x32x32xf32>
  return %o : tensor<2x32x32xf32>
}

// CHECK-LABEL: func.func @refused_f32_q
// CHECK-NOT: gpu.launch
// CHECK: deltanet.chunk_output
func.func @refused_f32_q(%q: tensor<2x32x32xf32>, %k: tensor<2x32x32xbf16>,
                         %v: tensor<2x32x32xbf16>, %s: tensor<2x32x32xbf16>,
                         %g: tensor<2x32xf32>) -> tensor<2x32x32xf32> {
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x32x32xf32>, tensor<2x32x32xbf16>, tensor<2x32x32xbf16>, tensor<2x32x32xbf16>, tensor<2x32xf32>) -> tensor<2x32x32xf32>
  return %o : tensor<2x32x32xf32>
}

// A q copied from a scalar (broadcast) is not a gathered tensor:
// ChunkOperandSource stops at the copy's non-tensor input.
// CHECK-LABEL: func.func @refused_broadcast_q
// CHECK-NOT: gpu.launch
// CHECK: deltanet.chunk_output
func.func @refused_broadcast_q(%c: bf16, %k: tensor<2x32x32xbf16>,
                               %v: tensor<2x32x32xbf16>, %s: tensor<2x32x32xbf16>,
                               %g: tensor<2x32xf32>) -> tensor<2x32x32xf32> {
  %e = tensor.empty() : tensor<2x32x32xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> ()>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c : bf16) outs(%e : tensor<2x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<2x32x32xf32>
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x32x32xf32>, tensor<2x32x32xbf16>, tensor<2x32x32xbf16>, tensor<2x32x32xbf16>, tensor<2x32xf32>) -> tensor<2x32x32xf32>
  return %o : tensor<2x32x32xf32>
}

// CHECK-LABEL: func.func @refused_chunk
// CHECK-NOT: gpu.launch
// CHECK: deltanet.chunk_output
func.func @refused_chunk(%qs: tensor<2x24x32xbf16>, %k: tensor<2x24x32xbf16>,
                         %v: tensor<2x24x32xbf16>, %s: tensor<2x32x32xbf16>,
                         %g: tensor<2x24xf32>) -> tensor<2x24x32xf32> {
  %e = tensor.empty() : tensor<2x24x32xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qs : tensor<2x24x32xbf16>) outs(%e : tensor<2x24x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<2x24x32xf32>
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x24x32xf32>, tensor<2x24x32xbf16>, tensor<2x24x32xbf16>, tensor<2x32x32xbf16>, tensor<2x24xf32>) -> tensor<2x24x32xf32>
  return %o : tensor<2x24x32xf32>
}

// -----

// The value tile by default: the largest of 128 and 64 dividing V whose
// tiles fit in shared memory (V = 384: 128, grid (N, 3); the v_new and
// state tiles [32][128 + 8]); k read through its 16-bit gather copy (a
// truncf of an extf back to bf16, as the pipeline narrows k's gather): the
// launch stages k from the copy's input.
// CHECK-LABEL: func.func @output_value_tile
// CHECK-DAG: %[[KS:.*]] = bufferization.to_buffer %arg1 read_only : tensor<1x32x32xbf16> to memref<1x32x32xbf16>
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %{{.*}}, %{{.*}} = %[[C3]], %{{.*}} = %{{.*}})
// CHECK-COUNT-2: memref.alloc() : memref<32x136xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %[[KS]]
func.func @output_value_tile(%qs: tensor<1x32x32xbf16>, %ks: tensor<1x32x32xbf16>,
                             %v: tensor<1x32x384xbf16>, %s: tensor<1x32x384xbf16>,
                             %g: tensor<1x32xf32>) -> tensor<1x32x384xf32> {
  %e = tensor.empty() : tensor<1x32x32xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qs : tensor<1x32x32xbf16>) outs(%e : tensor<1x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x32x32xf32>
  %ek = tensor.empty() : tensor<1x32x32xbf16>
  %k = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ks : tensor<1x32x32xbf16>) outs(%ek : tensor<1x32x32xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %x = arith.extf %in : bf16 to f32
    %y = arith.truncf %x : f32 to bf16
    linalg.yield %y : bf16
  } -> tensor<1x32x32xbf16>
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<1x32x32xf32>, tensor<1x32x32xbf16>, tensor<1x32x384xbf16>, tensor<1x32x384xbf16>, tensor<1x32xf32>) -> tensor<1x32x384xf32>
  return %o : tensor<1x32x384xf32>
}
