// RUN: deltanet-opt %s --deltanet-cpu-pipeline | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | FileCheck %s --check-prefix=SCALAR

// A tri_inv whose batch is dynamic vectorises like a static one (issue 13:
// "tile the static inner dims, leave the dynamic outer loop"): the batch
// tiles (`min(16, B - i)` matrices, dynamic) run the same register-tiled
// matmuls and row-vectorised masks as a static batch, each under a loop to
// the tile's size. Main before session 6 compiled it to scalar code (12
// scalar multiply-adds in loops, no vector FMA), 10x slower at C = 64.

// The 8 x 32 register tiles of the 32 -> 64 merge, the 16-wide ones of
// the 16 -> 32 merges, and the 4- and 8-wide products of the 4 x 4 diagonal
// blocks (the CPU's default f32 block size) and of their merges.
// CHECK-LABEL: llvm.func @inverse_dynamic_batch
// CHECK-DAG: llvm.intr.fmuladd({{.*}}) : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>
// CHECK-DAG: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK-DAG: llvm.intr.fmuladd({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK-DAG: llvm.intr.fmuladd({{.*}}) : (vector<4xf32>, vector<4xf32>, vector<4xf32>) -> vector<4xf32>
// CHECK-LABEL: llvm.func @_mlir_ciface_inverse_dynamic_batch

// No scalar multiply-add or multiplication is left.
// SCALAR-NOT: : (f32, f32, f32) -> f32
// SCALAR-NOT: llvm.fmul {{.*}} : f32
func.func @inverse_dynamic_batch(%a: tensor<?x64x64xf32>) -> tensor<?x64x64xf32> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a : tensor<?x64x64xf32>
  return %x : tensor<?x64x64xf32>
}
