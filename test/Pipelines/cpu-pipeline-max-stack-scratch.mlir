// RUN: deltanet-opt %s --deltanet-cpu-pipeline=tri-inv-batch-tile=4 -mlir-disable-threading -mlir-print-ir-after=convert-linalg-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEFAULT
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-batch-tile=4 max-stack-scratch-bytes=0" -mlir-disable-threading -mlir-print-ir-after=convert-linalg-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-batch-tile=4 max-stack-scratch-bytes=65536" -mlir-disable-threading -mlir-print-ir-after=convert-linalg-to-loops -o /dev/null 2>&1 | FileCheck %s --check-prefix=LARGE

// `max-stack-scratch-bytes` bounds the function-level scratch buffers put on
// the stack: the blocked tri_inv's merge temporaries at C = 128 in batch tiles of 4 (4 matrices
// of 64 x 64 f32 = 64 KiB for its last merge, 16 KiB for the one before).

// DEFAULT-LABEL: func.func @large
// DEFAULT-DAG: memref.alloca() {{.*}} : memref<4x32x32xf32>
// DEFAULT-NOT: memref.alloca() {{.*}} : memref<4x64x64xf32>
// DEFAULT: return

// 0: nothing on the stack (the hoisted temporaries are heap blocks, packed
// into one buffer by deltanet-cpu-pack-workspaces).
// NONE-LABEL: func.func @large
// NONE-NOT: memref.alloca
// NONE: return

// LARGE-LABEL: func.func @large
// LARGE-DAG: memref.alloca() {{.*}} : memref<4x64x64xf32>
// LARGE-DAG: memref.alloca() {{.*}} : memref<4x32x32xf32>
// LARGE: return

func.func @large(%a: tensor<8x128x128xf32>) -> tensor<8x128x128xf32> {
  %x = deltanet.tri_inv %a : tensor<8x128x128xf32>
  return %x : tensor<8x128x128xf32>
}
