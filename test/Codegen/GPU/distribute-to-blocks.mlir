// RUN: deltanet-opt %s --split-input-file --verify-diagnostics --deltanet-gpu-distribute-to-blocks | FileCheck %s

// One block per matrix: the batch dims become an scf.forall on the grid
// (innermost batch dim on x), the body inverts a 1x1x64x64 slice.
// CHECK-LABEL: func.func @batched
// CHECK: %[[B:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: scf.forall (%[[I:.*]], %[[J:.*]]) in (%[[B]], 4) shared_outs(%[[O:.*]] = %{{.*}}) -> (tensor<?x4x64x64xf32>)
// CHECK: %[[M:.*]] = tensor.extract_slice %{{.*}}[%[[I]], %[[J]], 0, 0] [1, 1, 64, 64] [1, 1, 1, 1] : tensor<?x4x64x64xf32> to tensor<1x1x64x64xf32>
// CHECK: %[[X:.*]] = deltanet.tri_inv %[[M]] : tensor<1x1x64x64xf32>
// CHECK: tensor.parallel_insert_slice %[[X]] into %[[O]][%[[I]], %[[J]], 0, 0] [1, 1, 64, 64]
// CHECK: } {mapping = [#gpu.block<y>, #gpu.block<x>]}
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
