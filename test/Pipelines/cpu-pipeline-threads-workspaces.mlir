// RUN: deltanet-opt %s --deltanet-cpu-pipeline=num-threads=2 -mlir-print-ir-after=convert-scf-to-openmp -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline=num-threads=1 -mlir-print-ir-after=convert-linalg-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=SERIAL

// The chunk op on OpenMP threads (issue 13): each thread's heads allocate
// per-chunk workspaces only. Whole-sequence stage tensors ([NC = 4, C = 64,
// *] per head) allocated and freed inside the parallel region were fresh
// pages every call: the OpenMP worker thread page-faulted them in again for
// every head (1.3 M faults per gdr-bench run), and 2 threads ran 1.8x
// slower than 1. Only the outputs span the sequence, outside the region; the
// region's stage matmuls (tri_inv's blocks included) are still register-tiled
// vector contractions over static per-chunk shapes.

// CHECK-LABEL: IR Dump After ConvertSCFToOpenMPPass
// CHECK: memref.alloc() {{.*}} : memref<1x256x2x32xf32>
// CHECK: memref.alloc() {{.*}} : memref<1x2x32x32xf32>
// CHECK: omp.parallel
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}256x
// CHECK-NOT: memref.alloc() {{.*}} : memref<4x
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}x4x64x
// The loop over the 4 chunks of a head, carrying the state.
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}256x
// CHECK-NOT: memref.alloc() {{.*}} : memref<4x
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}x4x64x
// tri_inv's 16x16 diagonal blocks (K = 16: two steps of 8) and the
// 64 x 64 x 32 stage products.
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args(%{{.*}} = %{{.*}}) -> (vector<1x8x16xf32>)
// CHECK: vector.contract {{.*}} : vector<1x8x8xf32>, vector<1x8x16xf32> into vector<1x8x16xf32>
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}256x
// CHECK-NOT: memref.alloc() {{.*}} : memref<4x
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}x4x64x
// The 64-deep stage products loop over K in steps of 8 (reduction-step),
// their 8 x 32 accumulator carried by the loop.
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c8 iter_args(%{{.*}} = %{{.*}}) -> (vector<1x8x32xf32>)
// CHECK: vector.contract {{.*}} : vector<1x8x8xf32>, vector<1x8x32xf32> into vector<1x8x32xf32>
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}256x
// CHECK-NOT: memref.alloc() {{.*}} : memref<4x
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}x4x64x
// CHECK: omp.terminator

// One thread: the same per-chunk loop inside the loop over heads.
// SERIAL-LABEL: IR Dump After ConvertLinalgToLoopsPass
// SERIAL: memref.alloc() {{.*}} : memref<1x256x2x32xf32>
// SERIAL: scf.for %{{.*}} = %c0 to %c2 step %c1
// SERIAL-NOT: memref.alloc() {{.*}} : memref<4x
// SERIAL-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}x4x64x
// SERIAL: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// SERIAL-NOT: memref.alloc() {{.*}} : memref<4x
// SERIAL-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}x4x64x
// SERIAL: scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args(%{{.*}} = %{{.*}}) -> (vector<1x8x16xf32>)
// SERIAL: vector.contract {{.*}} : vector<1x8x8xf32>, vector<1x8x16xf32> into vector<1x8x16xf32>
// SERIAL-NOT: memref.alloc() {{.*}} : memref<4x
// SERIAL-NOT: memref.alloc() {{.*}} : memref<{{[0-9x]*}}x4x64x
// SERIAL: return
func.func @gdr(%q: tensor<1x256x2x32xf32>, %k: tensor<1x256x2x32xf32>, %v: tensor<1x256x2x32xf32>,
               %g: tensor<1x256x2xf32>, %beta: tensor<1x256x2xf32>, %h0: tensor<1x2x32x32xf32>)
    -> (tensor<1x256x2x32xf32>, tensor<1x2x32x32xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 64 : i64}
      : (tensor<1x256x2x32xf32>, tensor<1x256x2x32xf32>, tensor<1x256x2x32xf32>, tensor<1x256x2xf32>,
         tensor<1x256x2xf32>, tensor<1x2x32x32xf32>) -> (tensor<1x256x2x32xf32>, tensor<1x2x32x32xf32>)
  return %o, %s : tensor<1x256x2x32xf32>, tensor<1x2x32x32xf32>
}
