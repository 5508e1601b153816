// RUN: deltanet-opt %s --deltanet-lower-tri-inv="block-size=32 batch-tile=4" --canonicalize --cse | FileCheck %s --check-prefix=B32
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=neumann order=2 batch-tile=4" --canonicalize --cse | FileCheck %s --check-prefix=NEUMANN
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=forward-substitution batch-tile=4" --canonicalize --cse | FileCheck %s --check-prefix=FS
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="residual-steps=2 block-size=16" --canonicalize --cse | FileCheck %s --check-prefix=RES
// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s --check-prefix=DEFAULT

// The CPU's default f32 block size is 4 (TargetInfo::getDefaultTriInvBlockSize):
// diagonal blocks of 4, then merge levels 4 -> 8 -> 16 -> 32 -> 64.
// DEFAULT-LABEL: func.func @from_options
// DEFAULT: scf.for %{{.*}} = %c0 to %c64 step %c4
// DEFAULT: scf.for %{{.*}} = %c0 to %c64 step %c8
// DEFAULT: scf.for %{{.*}} = %c0 to %c64 step %c16
// DEFAULT: scf.for %{{.*}} = %c0 to %c64 step %c32
// A tolerance keeps the block size its rule table was calibrated with (16):
// lower-tri-inv-tolerance.mlir.

// Pass options set the default; per-op attributes win over them.

// B32-LABEL: func.func @from_options
// B32: tensor.empty() : tensor<4x64x64xf32>
// B32: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x32x32xf32>)
// B32: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x30x30xf32>, tensor<4x30x30xf32>)
// 5 Neumann factors inside the 32x32 blocks (2 matmuls each after the first,
// one copy of the code for both blocks), 2 merge matmuls.
// B32-COUNT-9: linalg.batch_matmul
// B32-NOT: linalg.batch_matmul
// B32: return
// Order 2 on the CPU target: L^2 and X L^2 block-triangular (16 x 16
// blocks, see lower-tri-inv-neumann-blocks.mlir), one op per block distance
// 0..3 and 8-row tile (2 per block) for each.
// NEUMANN-LABEL: func.func @from_options
// NEUMANN-NOT: tensor<4x4x16x16xf32>
// NEUMANN-COUNT-16: linalg.batch_matmul
// NEUMANN-NOT: linalg.batch_matmul
// NEUMANN: return
// FS-LABEL: func.func @from_options
// FS: scf.for
// 6 in-block matmuls, 2 per merge level (10 at the last: its halves are
// blocks, T in two parts, U in eight 4-row tiles), 2 per residual step.
// RES-LABEL: func.func @from_options
// RES-COUNT-22: linalg.batch_matmul
// RES-NOT: linalg.batch_matmul
// RES: return
func.func @from_options(%a: tensor<4x64x64xf32>) -> tensor<4x64x64xf32> {
  %x = deltanet.tri_inv %a : tensor<4x64x64xf32>
  return %x : tensor<4x64x64xf32>
}

// Blocks of 8: the first band of a diagonal block is 6 x 6.
// B32-LABEL: func.func @attribute_wins
// B32: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x6x6xf32>, tensor<4x6x6xf32>)
// NEUMANN-LABEL: func.func @attribute_wins
// NEUMANN: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x6x6xf32>, tensor<4x6x6xf32>)
// FS-LABEL: func.func @attribute_wins
// FS-NOT: tensor<4x1x?xf32>
// FS: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x6x6xf32>, tensor<4x6x6xf32>)
func.func @attribute_wins(%a: tensor<4x64x64xf32>) -> tensor<4x64x64xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<blocked>, block_size = 8 : i64} : tensor<4x64x64xf32>
  return %x : tensor<4x64x64xf32>
}
