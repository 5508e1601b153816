// RUN: deltanet-opt %s --deltanet-cpu-pipeline=num-threads=2 -mlir-print-ir-after=convert-scf-to-openmp -o /dev/null 2>&1 | FileCheck %s

// The chunk loop's workspaces allocated once per head, in one buffer
// (buffer-loop-hoisting, then deltanet-cpu-pack-workspaces; issue 13,
// session 17): each head's ~30 stage buffers (gathered q / k / v rows,
// decays, WY and output tiles, tri_inv's diagonal blocks) are views of one
// i8 buffer malloc'd before its loop over chunks and freed after it, instead
// of ~30 mallocs and frees per chunk (64 chunks per head at T = 4096;
// malloc / free were 6-8% of the op in gdr-bench's heap). Only the state,
// which the loop carries, is still allocated per chunk. The buffer stays
// inside the OpenMP region: one per head, on the thread that runs it.

// CHECK-LABEL: IR Dump After ConvertSCFToOpenMPPass
// CHECK: omp.parallel
// CHECK: omp.wsloop
// The head's initial state, then its workspaces.
// CHECK: memref.alloc() {{.*}} : memref<1x32x32xf32>
// CHECK: %[[WS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<{{[0-9]+}}xi8>
// CHECK: memref.view %[[WS]][%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<1x1x1x64x32xf32>
// CHECK: memref.view %[[WS]][%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<1x3x3xf32>
// CHECK: memref.view %[[WS]][%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<1x16x16xf32>
// CHECK: memref.view %[[WS]][%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<1x64x64xf32>
// The loop over the 4 chunks allocates the next state only.
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// CHECK-NOT: memref.alloc() {{.*}}xi8>
// CHECK-NOT: memref.view
// CHECK: memref.alloc() {{.*}} : memref<1x32x32xf32>
// CHECK-NOT: memref.alloc()
// CHECK-NOT: memref.dealloc %[[WS]]
// CHECK: scf.yield %{{.*}}, %true : memref<1x32x32xf32>, i1
// Freed once, after the head's last chunk.
// CHECK: memref.dealloc %[[WS]]
// CHECK: omp.terminator
func.func @gdr(%q: tensor<1x256x2x32xf32>, %k: tensor<1x256x2x32xf32>, %v: tensor<1x256x2x32xf32>,
               %g: tensor<1x256x2xf32>, %beta: tensor<1x256x2xf32>, %h0: tensor<1x2x32x32xf32>)
    -> (tensor<1x256x2x32xf32>, tensor<1x2x32x32xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 64 : i64}
      : (tensor<1x256x2x32xf32>, tensor<1x256x2x32xf32>, tensor<1x256x2x32xf32>, tensor<1x256x2xf32>,
         tensor<1x256x2xf32>, tensor<1x2x32x32xf32>) -> (tensor<1x256x2x32xf32>, tensor<1x2x32x32xf32>)
  return %o, %s : tensor<1x256x2x32xf32>, tensor<1x2x32x32xf32>
}
