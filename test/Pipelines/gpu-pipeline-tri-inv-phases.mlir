// RUN: deltanet-opt %s --deltanet-gpu-pipeline=tri-inv-block-size=2 -mlir-print-ir-after=deltanet-gpu-map-to-threads -o /dev/null 2>&1 | FileCheck %s

// The tri_inv kernel (one 64 x 64 matrix per block, diagonal blocks of 2:
// exact without a Neumann factor) is 12 barrier-separated phases over all threads: I - L into
// shared memory; per level (2, 4, 8, 16, 32) T = X21 X11, then U = X22 T
// and its copy over X21 (each product one vector.contract per thread tile:
// the pairs of a level are one thread loop; the zero fill of each product
// and the copy of U run in the same thread tiles); the copy of the result
// to device memory. No loop over pairs or blocks (main before session 6: an
// scf.for per level, one barrier-separated phase per pair and product, ~190
// phases executed).

// CHECK-LABEL: func.func @tri_inv
// CHECK: gpu.launch
// CHECK-NOT: scf.for
// I - L:
// CHECK: gpu.barrier
// CHECK-NOT: scf.for
// Level 2: T (zero fill and contraction in one thread tile)...
// CHECK: vector.transfer_write %cst
// CHECK-NOT: gpu.barrier
// CHECK: vector.contract
// CHECK: gpu.barrier
// CHECK-NOT: scf.for
// ... U, and U's tile copied over X21 in the same phase:
// CHECK: vector.contract
// CHECK-NOT: gpu.barrier
// CHECK: vector.transfer_write
// CHECK-NOT: gpu.barrier
// CHECK: vector.transfer_write
// CHECK: gpu.barrier
// Levels 4, 8, 16, 32:
// CHECK-NOT: scf.for
// CHECK-COUNT-2: gpu.barrier
// CHECK-NOT: scf.for
// CHECK-COUNT-2: gpu.barrier
// CHECK-NOT: scf.for
// CHECK-COUNT-2: gpu.barrier
// CHECK-NOT: scf.for
// CHECK-COUNT-2: gpu.barrier
// The result to device memory:
// CHECK-NOT: scf.for
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: gpu.terminator
func.func @tri_inv(%a: memref<?x64x64xf32>, %x: memref<?x64x64xf32>) attributes {llvm.emit_c_interface} {
  %at = bufferization.to_tensor %a restrict : memref<?x64x64xf32> to tensor<?x64x64xf32>
  %xt = deltanet.tri_inv %at : tensor<?x64x64xf32>
  bufferization.materialize_in_destination %xt in restrict writable %x
      : (tensor<?x64x64xf32>, memref<?x64x64xf32>) -> ()
  return
}
