// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-batch-tile=16" --mlir-print-ir-after=deltanet-cpu-vectorize-matmuls -o /dev/null 2>&1 | FileCheck %s --check-prefix=VEC
// RUN: deltanet-opt %s --deltanet-cpu-pipeline --mlir-print-ir-after=deltanet-cpu-vectorize-matmuls -o /dev/null 2>&1 | FileCheck %s --check-prefix=VEC2
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | FileCheck %s --check-prefix=SCALAR

// Forward substitution's row products vectorise (issue 13: "dynamic
// shapes (forward substitution's rows) must vectorise too"): per row i and
// block of 32 columns j0 < i, [16, 1, i - j0] x [16, i - j0, 32] with only
// K dynamic. Each register tile covers 8 matrices of a batch tile of 16
// x 32 columns (16 AVX-512 accumulators) and loops over K (dynamic bound,
// step 1), the accumulators carried as a vector. Main before session 16
// left every row product to scalar loops (2.2-4x slower than plain C).
// The default batch tile at C = 64 is 2 matrices (32 KiB of X, session
// 19: TargetInfo.cpp's forwardSubstitutionBatchTile), checked with the
// prefix VEC2 (one register tile of 2 matrices x 32 columns).

// VEC-LABEL: func.func @forward_substitution
// VEC: scf.for %[[I:.*]] = %c1 to %c64 step %c1
// VEC:   scf.for %[[J0:.*]] = %c0 to %[[I]] step %c32
// VEC:     %[[K:.*]] = arith.subi %[[I]], %[[J0]] : index
// VEC:     scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
// VEC:       %[[INIT:.*]] = vector.transfer_read {{.*}} : tensor<8x1x32xf32>, vector<8x1x32xf32>
// VEC:       scf.for %{{.*}} = %{{.*}} to %[[K]] step %{{.*}} iter_args({{.*}}%[[ACC:.*]] = %[[INIT]]) -> ({{.*}}vector<8x1x32xf32>)
// VEC-NOT:     vector.transfer_write
// VEC:         vector.contract {{.*}}, %[[ACC]] : vector<8x1x1xf32>, vector<8x1x32xf32> into vector<8x1x32xf32>
// VEC:       vector.transfer_write
// VEC-NOT: linalg.batch_matmul

// VEC2-LABEL: func.func @forward_substitution
// VEC2: scf.for {{.*}} = %c0 to %c32 step %c2
// VEC2:   scf.for %[[I:.*]] = %c1 to %c64 step %c1
// VEC2:     scf.for %[[J0:.*]] = %c0 to %[[I]] step %c32
// VEC2:       %[[K:.*]] = arith.subi %[[I]], %[[J0]] : index
// VEC2:       %[[INIT:.*]] = vector.transfer_read {{.*}} : tensor<2x1x32xf32>, vector<2x1x32xf32>
// VEC2:       scf.for %{{.*}} = %{{.*}} to %[[K]] step %{{.*}} iter_args({{.*}}%[[ACC:.*]] = %[[INIT]]) -> ({{.*}}vector<2x1x32xf32>)
// VEC2-NOT:     vector.transfer_write
// VEC2:         vector.contract {{.*}}, %[[ACC]] : vector<2x1x1xf32>, vector<2x1x32xf32> into vector<2x1x32xf32>
// VEC2:       vector.transfer_write
// VEC2-NOT: linalg.batch_matmul

// The tile's 8 x 32 multiply-adds per k: 8 fused multiply-adds on 32 lanes.
// CHECK-LABEL: llvm.func @forward_substitution
// CHECK: llvm.intr.fmuladd({{.*}}) : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>

// No scalar multiply-add or multiplication is left.
// SCALAR-NOT: : (f32, f32, f32) -> f32
// SCALAR-NOT: llvm.fmul {{.*}} : f32
func.func @forward_substitution(%a: tensor<32x64x64xf32>) -> tensor<32x64x64xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<forward_substitution>} : tensor<32x64x64xf32>
  return %x : tensor<32x64x64xf32>
}
