// RUN: deltanet-opt %s --deltanet-gpu-pipeline | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline -mlir-disable-threading --mlir-print-ir-after=deltanet-gpu-distribute-to-blocks -o /dev/null 2>&1 | FileCheck %s --check-prefix=BLOCKS
// RUN: deltanet-opt %s --deltanet-gpu-pipeline -mlir-disable-threading --mlir-print-ir-after=deltanet-gpu-distribute-linalg-to-blocks -o /dev/null 2>&1 | FileCheck %s --check-prefix=PAD

// Context parallelism's ops through --deltanet-gpu-pipeline: the summary
// (the chunk op's stages on the augmented state [I | 0] with values
// [0 | v]) and the composition of two summaries compile to LLVM host code
// that only launches kernels (results on the CPU in
// gpu-pipeline-cpu-emulation.test, on the H200 in docs/ContextParallel.md).
// The chunk op with an initial state, which replays a segment from its
// entry state, is gpu-pipeline-gated-delta-rule.mlir's @chunk.
// CHECK-NOT: deltanet.
// CHECK-LABEL: llvm.func @summary(
// CHECK-NOT: llvm.call @memrefCopy
// CHECK: gpu.launch_func
// CHECK-LABEL: llvm.func @_mlir_ciface_summary
// CHECK-LABEL: llvm.func @compose(
// CHECK-NOT: llvm.call @memrefCopy
// CHECK: gpu.launch_func
// CHECK-LABEL: llvm.func @_mlir_ciface_compose
// CHECK: .target sm_90

// The summary is decomposed before the distribution: its stages get one
// block per chunk (per sequence and tile of 8 of the K + V = 48 augmented
// state columns for the scan: the tile chosen from the shape, 2 x 6 blocks
// are fewer than 64 with any tile), like the chunk op's; no chunk_output.
// gated_kkt, tri_inv and wy_repr share one block per chunk
// (fuse-chunk-prologue): A and its inverse never leave it.
// BLOCKS-LABEL: func.func @summary
// BLOCKS: scf.forall ({{.*}}) in (4) shared_outs(%{{[a-z0-9]+}} = %{{[a-z0-9_]+}}, %{{[a-z0-9]+}} = %{{[a-z0-9_]+}}) -> (tensor<4x64x32xf32>, tensor<4x64x48xf32>)
// BLOCKS-NOT: } {mapping
// BLOCKS: deltanet.gated_kkt {{.*}} -> tensor<1x64x64xf32>
// BLOCKS-NOT: } {mapping
// BLOCKS: deltanet.tri_inv {{.*}} : tensor<1x64x64xf32>
// BLOCKS-NOT: } {mapping
// BLOCKS: deltanet.wy_repr {{.*}} -> (tensor<1x64x32xf32>, tensor<1x64x48xf32>)
// BLOCKS: } {mapping = [#gpu.block<x>]}
// Only the final state leaves the scan's blocks: the per-chunk states and
// v_new, unused by a summary, would be whole-sequence tiles in shared memory
// (50 MB per block at T = 256k: the launch failed on the H200).
// BLOCKS: scf.forall ({{.*}}) in (2, 6) shared_outs(%{{[a-z0-9]+}} = %{{[a-z0-9_]+}}) -> (tensor<2x32x48xf32>)
// BLOCKS: deltanet.chunk_state_scan {{.*}} -> (tensor<1x2x32x8xf32>, tensor<1x2x64x8xf32>, tensor<1x32x8xf32>)
// BLOCKS: } {mapping = [#gpu.block<y>, #gpu.block<x>]}
// BLOCKS-NOT: deltanet.chunk_output
// BLOCKS-LABEL: func.func @compose

// The values [0 | v] (a tensor.pad outside any block) become a fill and a
// linalg.copy into its slice, both on the grid: no host-level copy.
// PAD-LABEL: func.func @summary
// PAD-NOT: tensor.pad
// PAD: linalg.fill
// PAD: } {mapping = [
// PAD: linalg.copy
// PAD: } {mapping = [
// PAD-LABEL: func.func @compose

func.func @summary(%k: memref<1x128x1x32xbf16>, %v: memref<1x128x2x16xbf16>, %g: memref<1x128x2xf32>, %beta: memref<1x128x2xbf16>,
    %m: memref<1x2x32x32xf32>, %u: memref<1x2x32x16xf32>) attributes {llvm.emit_c_interface} {
  %kt = bufferization.to_tensor %k restrict : memref<1x128x1x32xbf16> to tensor<1x128x1x32xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x128x2x16xbf16> to tensor<1x128x2x16xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x128x2xf32> to tensor<1x128x2xf32>
  %bt = bufferization.to_tensor %beta restrict : memref<1x128x2xbf16> to tensor<1x128x2xbf16>
  %mt, %ut = deltanet.gated_delta_rule_summary %kt, %vt, %gt, %bt {chunk_size = 64 : i64}
    : (tensor<1x128x1x32xbf16>, tensor<1x128x2x16xbf16>, tensor<1x128x2xf32>, tensor<1x128x2xbf16>) -> (tensor<1x2x32x32xf32>, tensor<1x2x32x16xf32>)
  bufferization.materialize_in_destination %mt in restrict writable %m : (tensor<1x2x32x32xf32>, memref<1x2x32x32xf32>) -> ()
  bufferization.materialize_in_destination %ut in restrict writable %u : (tensor<1x2x32x16xf32>, memref<1x2x32x16xf32>) -> ()
  return
}

func.func @compose(%m1: memref<1x2x32x32xf32>, %u1: memref<1x2x32x16xf32>, %m2: memref<1x2x32x32xf32>, %u2: memref<1x2x32x16xf32>,
    %m: memref<1x2x32x32xf32>, %u: memref<1x2x32x16xf32>) attributes {llvm.emit_c_interface} {
  %m1t = bufferization.to_tensor %m1 restrict : memref<1x2x32x32xf32> to tensor<1x2x32x32xf32>
  %u1t = bufferization.to_tensor %u1 restrict : memref<1x2x32x16xf32> to tensor<1x2x32x16xf32>
  %m2t = bufferization.to_tensor %m2 restrict : memref<1x2x32x32xf32> to tensor<1x2x32x32xf32>
  %u2t = bufferization.to_tensor %u2 restrict : memref<1x2x32x16xf32> to tensor<1x2x32x16xf32>
  %mt, %ut = deltanet.compose_summaries %m1t, %u1t, %m2t, %u2t
    : (tensor<1x2x32x32xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x32xf32>, tensor<1x2x32x16xf32>) -> (tensor<1x2x32x32xf32>, tensor<1x2x32x16xf32>)
  bufferization.materialize_in_destination %mt in restrict writable %m : (tensor<1x2x32x32xf32>, memref<1x2x32x32xf32>) -> ()
  bufferization.materialize_in_destination %ut in restrict writable %u : (tensor<1x2x32x16xf32>, memref<1x2x32x16xf32>) -> ()
  return
}
