// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks="fuse-chunk-prologue=false" | FileCheck %s --check-prefix=NOPRO
// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks="kernel-threads=tri_inv=64,chunk_output=256" | FileCheck %s --check-prefix=KT
// RUN: not deltanet-opt %s --split-input-file --deltanet-gpu-distribute-to-blocks="kernel-threads=tri_inv=48" 2>&1 | FileCheck %s --check-prefix=KTBAD
// RUN: not deltanet-opt %s --split-input-file --deltanet-gpu-distribute-to-blocks="kernel-threads=scan=128" 2>&1 | FileCheck %s --check-prefix=KTBAD

// One block per matrix: the batch dims become an scf.forall on the grid
// (innermost batch dim on x), the body inverts a 1x1x64x64 slice.
// CHECK-LABEL: func.func @batched
// CHECK: %[[B:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: scf.forall (%[[I:.*]], %[[J:.*]]) in (%[[B]], 4) shared_outs(%[[O:.*]] = %{{.*}}) -> (tensor<?x4x64x64xf32>)
// CHECK: %[[M:.*]] = tensor.extract_slice %{{.*}}[%[[I]], %[[J]], 0, 0] [1, 1, 64, 64] [1, 1, 1, 1] : tensor<?x4x64x64xf32> to tensor<1x1x64x64xf32>
// CHECK: %[[X:.*]] = deltanet.tri_inv %[[M]] : tensor<1x1x64x64xf32>
// CHECK: tensor.parallel_insert_slice %[[X]] into %[[O]][%[[I]], %[[J]], 0, 0] [1, 1, 64, 64]
// CHECK: } {mapping = [#gpu.block<y>, #gpu.block<x>]}
// CHECK-NOT: deltanet.block_threads
// kernel-threads: the kernel's count on its block loop (deltanet-gpu-map-to-threads
// and the tensor-core passes read it; test/Pipelines/gpu-pipeline-kernel-threads.mlir).
// KT-LABEL: func.func @batched
// KT: } {deltanet.block_threads = 64 : i64, mapping = [#gpu.block<y>, #gpu.block<x>]}
// KTBAD: error: deltanet-gpu-distribute-to-blocks: kernel-threads entries are KIND=N (KIND: tri_inv, gated_kkt, wy_repr, chunk_state_scan, chunk_output, recurrent_gated_delta_rule, chunk_prologue; N a multiple of 32 in [32, 1024]), got
func.func @batched(%a: tensor<?x4x64x64xf32>, %x: memref<?x4x64x64xf32>) {
  %r = deltanet.tri_inv %a : tensor<?x4x64x64xf32>
  bufferization.materialize_in_destination %r in restrict writable %x : (tensor<?x4x64x64xf32>, memref<?x4x64x64xf32>) -> ()
  return
}

// -----

// A single matrix is left alone (nothing to spread over blocks).
// CHECK-LABEL: func.func @single
// CHECK-NOT: scf.forall
// CHECK: deltanet.tri_inv %{{.*}} : tensor<64x64xf32>
func.func @single(%a: tensor<64x64xf32>, %x: memref<64x64xf32>) {
  %r = deltanet.tri_inv %a : tensor<64x64xf32>
  bufferization.materialize_in_destination %r in restrict writable %x : (tensor<64x64xf32>, memref<64x64xf32>) -> ()
  return
}

// -----

func.func @four_batch_dims(%a: tensor<2x2x2x2x16x16xf32>, %x: memref<2x2x2x2x16x16xf32>) {
  // expected-error @+1 {{the GPU pipeline maps at most 3 batch dimensions of tri_inv to the grid; got 4}}
  %r = deltanet.tri_inv %a : tensor<2x2x2x2x16x16xf32>
  bufferization.materialize_in_destination %r in restrict writable %x : (tensor<2x2x2x2x16x16xf32>, memref<2x2x2x2x16x16xf32>) -> ()
  return
}

// -----

// expected-error @+1 {{the GPU pipeline needs destination-passing functions}}
func.func @returns_tensor(%a: tensor<8x16x16xf32>) -> tensor<8x16x16xf32> {
  %r = deltanet.tri_inv %a : tensor<8x16x16xf32>
  return %r : tensor<8x16x16xf32>
}

// -----

// The state scan with scan-value-tile: one block per (sequence, tile of 4
// state columns); u, the initial state and every result sliced along V,
// k, w and g whole.
// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks="scan-value-tile=4 recurrent-value-tile=4" | FileCheck %s --check-prefix=TILE
// TILE-LABEL: func.func @scan_value_tiles
// TILE: scf.forall (%[[M:.*]], %[[J:.*]]) in (3, 4) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<3x2x8x16xf32>, tensor<3x2x64x16xf32>, tensor<3x8x16xf32>)
// TILE: %[[C:.*]] = affine.apply #{{.*}}(%[[J]])
// TILE: tensor.extract_slice %arg0[%[[M]], 0, 0, 0] [1, 2, 64, 8]
// TILE: tensor.extract_slice %arg1[%[[M]], 0, 0, 0] [1, 2, 64, 8]
// TILE: tensor.extract_slice %arg2[%[[M]], 0, 0, %[[C]]] [1, 2, 64, 4]
// TILE: tensor.extract_slice %arg3[%[[M]], 0, 0] [1, 2, 64]
// TILE: tensor.extract_slice %arg4[%[[M]], 0, %[[C]]] [1, 8, 4]
// TILE: deltanet.chunk_state_scan {{.*}} -> (tensor<1x2x8x4xf32>, tensor<1x2x64x4xf32>, tensor<1x8x4xf32>)
// TILE: tensor.parallel_insert_slice %{{.*}}[%[[M]], 0, 0, %[[C]]] [1, 2, 8, 4]
// TILE: tensor.parallel_insert_slice %{{.*}}[%[[M]], 0, 0, %[[C]]] [1, 2, 64, 4]
// TILE: tensor.parallel_insert_slice %{{.*}}[%[[M]], 0, %[[C]]] [1, 8, 4]
// TILE: } {mapping = [#gpu.block<y>, #gpu.block<x>]}
func.func @scan_value_tiles(%k: tensor<3x2x64x8xf32>, %w: tensor<3x2x64x8xf32>, %u: tensor<3x2x64x16xf32>, %g: tensor<3x2x64xf32>, %h0: tensor<3x8x16xf32>,
                            %s: memref<3x2x8x16xf32>, %vn: memref<3x2x64x16xf32>, %hT: memref<3x8x16xf32>) {
  %states, %v_new, %final = deltanet.chunk_state_scan %k, %w, %u, %g, %h0 : (tensor<3x2x64x8xf32>, tensor<3x2x64x8xf32>, tensor<3x2x64x16xf32>, tensor<3x2x64xf32>, tensor<3x8x16xf32>) -> (tensor<3x2x8x16xf32>, tensor<3x2x64x16xf32>, tensor<3x8x16xf32>)
  bufferization.materialize_in_destination %states in restrict writable %s : (tensor<3x2x8x16xf32>, memref<3x2x8x16xf32>) -> ()
  bufferization.materialize_in_destination %v_new in restrict writable %vn : (tensor<3x2x64x16xf32>, memref<3x2x64x16xf32>) -> ()
  bufferization.materialize_in_destination %final in restrict writable %hT : (tensor<3x8x16xf32>, memref<3x8x16xf32>) -> ()
  return
}

// -----

// The recurrent op (decode): one block per (batch, value head, tile of 4
// state columns), the token loop inside. Value head h reads q/k head
// h floordiv 2 (HV = 2H) whole; v, the initial state and the results are
// sliced along V; T stays dynamic.
// TILE-LABEL: func.func @recurrent_value_tiles
// TILE: %[[T:.*]] = tensor.dim %arg2, %c1
// TILE: scf.forall (%[[B:.*]], %[[H:.*]], %[[J:.*]]) in (2, 4, 4) shared_outs(%[[O:.*]] = %{{.*}}, %[[S:.*]] = %{{.*}}) -> (tensor<2x?x4x16xbf16>, tensor<2x4x8x16xf32>)
// TILE-DAG: %[[C:.*]] = affine.apply #{{.*}}(%[[J]])
// TILE-DAG: %[[QH:.*]] = affine.apply #{{.*}}(%[[H]])
// TILE: tensor.extract_slice %arg0[%[[B]], 0, %[[QH]], 0] [1, %[[T]], 1, 8]
// TILE: tensor.extract_slice %arg1[%[[B]], 0, %[[QH]], 0] [1, %[[T]], 1, 8]
// TILE: tensor.extract_slice %arg2[%[[B]], 0, %[[H]], %[[C]]] [1, %[[T]], 1, 4]
// TILE: tensor.extract_slice %arg3[%[[B]], 0, %[[H]]] [1, %[[T]], 1]
// TILE: tensor.extract_slice %arg4[%[[B]], 0, %[[H]]] [1, %[[T]], 1]
// TILE: tensor.extract_slice %arg5[%[[B]], %[[H]], 0, %[[C]]] [1, 1, 8, 4]
// TILE: deltanet.recurrent_gated_delta_rule {{.*}}use_qk_l2norm{{.*}} -> (tensor<1x?x1x4xbf16>, tensor<1x1x8x4xf32>)
// TILE: tensor.parallel_insert_slice %{{.*}} into %[[O]][%[[B]], 0, %[[H]], %[[C]]] [1, %[[T]], 1, 4]
// TILE: tensor.parallel_insert_slice %{{.*}} into %[[S]][%[[B]], %[[H]], 0, %[[C]]] [1, 1, 8, 4]
// TILE: } {mapping = [#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]}
func.func @recurrent_value_tiles(%q: tensor<2x?x2x8xbf16>, %k: tensor<2x?x2x8xbf16>, %v: tensor<2x?x4x16xbf16>, %g: tensor<2x?x4xf32>, %beta: tensor<2x?x4xbf16>, %h0: tensor<2x4x8x16xf32>,
                                 %o: memref<2x?x4x16xbf16>, %ht: memref<2x4x8x16xf32>) {
  %ot, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {use_qk_l2norm} : (tensor<2x?x2x8xbf16>, tensor<2x?x2x8xbf16>, tensor<2x?x4x16xbf16>, tensor<2x?x4xf32>, tensor<2x?x4xbf16>, tensor<2x4x8x16xf32>) -> (tensor<2x?x4x16xbf16>, tensor<2x4x8x16xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<2x?x4x16xbf16>, memref<2x?x4x16xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<2x4x8x16xf32>, memref<2x4x8x16xf32>) -> ()
  return
}

// -----

// Variable-length batches are not distributed (the op is left for the
// varlen unpacking and the per-op mapping).
// TILE-LABEL: func.func @recurrent_varlen
// TILE-NOT: scf.forall
// TILE: deltanet.recurrent_gated_delta_rule {{.*}} cu_seqlens
func.func @recurrent_varlen(%q: tensor<1x8x1x8xf32>, %v: tensor<1x8x1x8xf32>, %g: tensor<1x8x1xf32>, %h0: tensor<2x1x8x8xf32>, %cu: tensor<3xi32>,
                            %o: memref<1x8x1x8xf32>, %ht: memref<2x1x8x8xf32>) {
  %ot, %hT = deltanet.recurrent_gated_delta_rule %q, %q, %v, %g, %g, %h0 cu_seqlens(%cu) : (tensor<1x8x1x8xf32>, tensor<1x8x1x8xf32>, tensor<1x8x1x8xf32>, tensor<1x8x1xf32>, tensor<1x8x1xf32>, tensor<2x1x8x8xf32>, tensor<3xi32>) -> (tensor<1x8x1x8xf32>, tensor<2x1x8x8xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x8x1x8xf32>, memref<1x8x1x8xf32>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<2x1x8x8xf32>, memref<2x1x8x8xf32>) -> ()
  return
}

// -----

// scan-value-tile=-1 (the pipeline's default): the tile from the shape, the
// largest of 32, 16, 8 columns giving >= scan-min-blocks (256, about 2
// blocks per H200 SM) blocks, else 8. 32 sequences, V = 128: tiles of 16
// (256 blocks); 4 sequences: tiles of 8 (64 blocks, none reaches 256).
// With scan-min-blocks=64 (session 7's default, AUTO64): 32 (128 blocks)
// and 8 (64 blocks; 16 would give 32).
// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks="scan-value-tile=-1" | FileCheck %s --check-prefix=AUTO
// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks="scan-value-tile=-1 scan-min-blocks=64" | FileCheck %s --check-prefix=AUTO64
// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks="scan-value-tile=-1 scan-min-blocks=16" | FileCheck %s --check-prefix=AUTO16
// AUTO-LABEL: func.func @scan_auto_tile
// AUTO: scf.forall (%{{.*}}, %{{.*}}) in (32, 8)
// AUTO: deltanet.chunk_state_scan {{.*}} -> (tensor<1x2x128x16xf32>, tensor<1x2x64x16xf32>, tensor<1x128x16xf32>)
// AUTO: scf.forall (%{{.*}}, %{{.*}}) in (4, 16)
// AUTO: deltanet.chunk_state_scan {{.*}} -> (tensor<1x2x128x8xf32>, tensor<1x2x64x8xf32>, tensor<1x128x8xf32>)
// AUTO64-LABEL: func.func @scan_auto_tile
// AUTO64: scf.forall (%{{.*}}, %{{.*}}) in (32, 4)
// AUTO64: deltanet.chunk_state_scan {{.*}} -> (tensor<1x2x128x32xf32>, tensor<1x2x64x32xf32>, tensor<1x128x32xf32>)
// AUTO64: scf.forall (%{{.*}}, %{{.*}}) in (4, 16)
// AUTO64: deltanet.chunk_state_scan {{.*}} -> (tensor<1x2x128x8xf32>, tensor<1x2x64x8xf32>, tensor<1x128x8xf32>)
// AUTO16-LABEL: func.func @scan_auto_tile
// AUTO16: scf.forall (%{{.*}}, %{{.*}}) in (32, 4)
// AUTO16: scf.forall (%{{.*}}, %{{.*}}) in (4, 4)
func.func @scan_auto_tile(%k: tensor<32x2x64x128xf32>, %w: tensor<32x2x64x128xf32>, %u: tensor<32x2x64x128xf32>, %g: tensor<32x2x64xf32>, %h0: tensor<32x128x128xf32>,
                          %hT: memref<32x128x128xf32>,
                          %k4: tensor<4x2x64x128xf32>, %w4: tensor<4x2x64x128xf32>, %u4: tensor<4x2x64x128xf32>, %g4: tensor<4x2x64xf32>, %h04: tensor<4x128x128xf32>,
                          %hT4: memref<4x128x128xf32>) {
  %states, %v_new, %final = deltanet.chunk_state_scan %k, %w, %u, %g, %h0 : (tensor<32x2x64x128xf32>, tensor<32x2x64x128xf32>, tensor<32x2x64x128xf32>, tensor<32x2x64xf32>, tensor<32x128x128xf32>) -> (tensor<32x2x128x128xf32>, tensor<32x2x64x128xf32>, tensor<32x128x128xf32>)
  bufferization.materialize_in_destination %final in restrict writable %hT : (tensor<32x128x128xf32>, memref<32x128x128xf32>) -> ()
  %states4, %v_new4, %final4 = deltanet.chunk_state_scan %k4, %w4, %u4, %g4, %h04 : (tensor<4x2x64x128xf32>, tensor<4x2x64x128xf32>, tensor<4x2x64x128xf32>, tensor<4x2x64xf32>, tensor<4x128x128xf32>) -> (tensor<4x2x128x128xf32>, tensor<4x2x64x128xf32>, tensor<4x128x128xf32>)
  bufferization.materialize_in_destination %final4 in restrict writable %hT4 : (tensor<4x128x128xf32>, memref<4x128x128xf32>) -> ()
  return
}

// -----

// The chunk prologue (fuse-chunk-prologue, default): gated_kkt -> tri_inv
// -> wy_repr of one chunk in one block; k, g and beta sliced once, A and T
// block-local; only w and u leave it.
// CHECK-LABEL: func.func @prologue
// CHECK: scf.forall (%[[N:.*]]) in (8) shared_outs(%[[WO:.*]] = %{{.*}}, %[[UO:.*]] = %{{.*}}) -> (tensor<8x64x32xf32>, tensor<8x64x16xf32>)
// CHECK-DAG: %[[K:.*]] = tensor.extract_slice %arg0[%[[N]], 0, 0] [1, 64, 32]
// CHECK-DAG: %[[G:.*]] = tensor.extract_slice %arg1[%[[N]], 0] [1, 64]
// CHECK-DAG: %[[BE:.*]] = tensor.extract_slice %arg2[%[[N]], 0] [1, 64]
// CHECK-DAG: %[[V:.*]] = tensor.extract_slice %arg3[%[[N]], 0, 0] [1, 64, 16]
// CHECK: %[[A:.*]] = deltanet.gated_kkt %[[K]], %[[G]], %[[BE]] : {{.*}} -> tensor<1x64x64xf32>
// CHECK: %[[T:.*]] = deltanet.tri_inv %[[A]] : tensor<1x64x64xf32>
// CHECK: %[[W:.*]], %[[U:.*]] = deltanet.wy_repr %[[T]], %[[K]], %[[V]], %[[G]], %[[BE]]
// CHECK: tensor.parallel_insert_slice %[[W]] into %[[WO]][%[[N]], 0, 0] [1, 64, 32]
// CHECK: tensor.parallel_insert_slice %[[U]] into %[[UO]][%[[N]], 0, 0] [1, 64, 16]
// CHECK: } {mapping = [#gpu.block<x>]}
// CHECK-NOT: scf.forall
// CHECK: return
// NOPRO-LABEL: func.func @prologue
// NOPRO-COUNT-3: } {mapping = [#gpu.block<x>]}
func.func @prologue(%k: tensor<8x64x32xf32>, %g: tensor<8x64xf32>, %beta: tensor<8x64xf32>, %v: tensor<8x64x16xf32>, %wd: memref<8x64x32xf32>, %ud: memref<8x64x16xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<8x64x32xf32>, tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64x64xf32>
  %t = deltanet.tri_inv %a : tensor<8x64x64xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<8x64x64xf32>, tensor<8x64x32xf32>, tensor<8x64x16xf32>, tensor<8x64xf32>, tensor<8x64xf32>) -> (tensor<8x64x32xf32>, tensor<8x64x16xf32>)
  bufferization.materialize_in_destination %w in restrict writable %wd : (tensor<8x64x32xf32>, memref<8x64x32xf32>) -> ()
  bufferization.materialize_in_destination %u in restrict writable %ud : (tensor<8x64x16xf32>, memref<8x64x16xf32>) -> ()
  return
}

// -----

// A read by anything outside the chain (here the function's result): no
// fusion, a block loop per op.
// CHECK-LABEL: func.func @prologue_a_escapes
// CHECK-COUNT-3: } {mapping = [#gpu.block<x>]}
func.func @prologue_a_escapes(%k: tensor<8x64x32xf32>, %g: tensor<8x64xf32>, %beta: tensor<8x64xf32>, %v: tensor<8x64x16xf32>, %wd: memref<8x64x32xf32>, %ud: memref<8x64x16xf32>, %ad: memref<8x64x64xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<8x64x32xf32>, tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64x64xf32>
  %t = deltanet.tri_inv %a : tensor<8x64x64xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<8x64x64xf32>, tensor<8x64x32xf32>, tensor<8x64x16xf32>, tensor<8x64xf32>, tensor<8x64xf32>) -> (tensor<8x64x32xf32>, tensor<8x64x16xf32>)
  bufferization.materialize_in_destination %w in restrict writable %wd : (tensor<8x64x32xf32>, memref<8x64x32xf32>) -> ()
  bufferization.materialize_in_destination %u in restrict writable %ud : (tensor<8x64x16xf32>, memref<8x64x16xf32>) -> ()
  bufferization.materialize_in_destination %a in restrict writable %ad : (tensor<8x64x64xf32>, memref<8x64x64xf32>) -> ()
  return
}
