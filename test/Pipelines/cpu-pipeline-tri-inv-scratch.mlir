// RUN: deltanet-opt %s --deltanet-cpu-pipeline -mlir-disable-threading -mlir-print-ir-after=convert-linalg-to-loops -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-batch-tile=4" -mlir-disable-threading -mlir-print-ir-after=convert-linalg-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=TILE4

// The blocked tri_inv's temporaries (the diagonal blocks' powers, each
// merge's T = L21 X11 and U = X22 T) were allocated and freed in every
// iteration of every level and batch tile (~10 malloc / free pairs per
// matrix at C = 32). They are hoisted out of the sequential loops
// (upstream buffer-loop-hoisting) and, being at function level and at most
// 16 KiB, put on the stack: no heap allocation inside a loop, no stack
// allocation inside one either (it would grow the stack every iteration).

// CHECK-LABEL: func.func @blocked
// The result stays on the heap (it is returned).
// CHECK: memref.alloc() {{.*}} : memref<8x32x32xf32>
// CHECK-DAG: memref.alloca() {{.*}} : memref<1x4x4xf32>
// CHECK-DAG: memref.alloca() {{.*}} : memref<1x16x16xf32>
// The loop over the matrices (the CPU's f32 blocked batch tile is 1).
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c1
// CHECK-NOT: memref.alloc
// CHECK: return
func.func @blocked(%a: tensor<8x32x32xf32>) -> tensor<8x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<8x32x32xf32>
  return %x : tensor<8x32x32xf32>
}

// C = 128, one matrix per tile: the last level's 16 KiB temporaries are on
// the stack too.
// CHECK-LABEL: func.func @large
// CHECK: memref.alloc() {{.*}} : memref<8x128x128xf32>
// CHECK-DAG: memref.alloca() {{.*}} : memref<1x32x32xf32>
// CHECK-DAG: memref.alloca() {{.*}} : memref<1x64x64xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c1
// CHECK-NOT: memref.alloc
// CHECK: return
// With tiles of 4 matrices the last level's 64 KiB temporaries stay on the
// heap, allocated once per call before the loop over batch tiles, as views
// of one buffer (deltanet-cpu-pack-workspaces); the smaller ones are on the
// stack.
// TILE4-LABEL: func.func @large
// TILE4: memref.alloc() {{.*}} : memref<8x128x128xf32>
// TILE4-DAG: memref.alloca() {{.*}} : memref<4x32x32xf32>
// TILE4-DAG: %[[BUF:.*]] = memref.alloc() {{.*}} : memref<{{[0-9]+}}xi8>
// TILE4-DAG: memref.view %[[BUF]][%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<4x64x64xf32>
// TILE4-NOT: memref.alloca() {{.*}} : memref<4x64x64xf32>
// TILE4: scf.for %{{.*}} = %c0 to %c8 step %c4
// TILE4-NOT: memref.alloc
// TILE4: return
func.func @large(%a: tensor<8x128x128xf32>) -> tensor<8x128x128xf32> {
  %x = deltanet.tri_inv %a : tensor<8x128x128xf32>
  return %x : tensor<8x128x128xf32>
}
