// RUN: deltanet-opt %s --deltanet-cpu-vectorize-matmuls --canonicalize | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-vectorize-matmuls="rows=1 cols=64" --canonicalize | FileCheck %s --check-prefix=ROW
// RUN: deltanet-opt %s --deltanet-cpu-vectorize-matmuls="rows=3 cols=16" --canonicalize | FileCheck %s --check-prefix=DIV
// RUN: not deltanet-opt %s --deltanet-cpu-vectorize-matmuls="rows=0" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: deltanet-opt %s --deltanet-cpu-vectorize-matmuls="columns-outer-bytes=-1" --canonicalize | FileCheck %s --check-prefix=ROWSOUTER
// RUN: deltanet-opt %s --deltanet-cpu-vectorize-matmuls="reduction-step=0" --canonicalize | FileCheck %s --check-prefix=WHOLEK
// RUN: deltanet-opt %s --deltanet-cpu-vectorize-matmuls="reduction-step=16" --canonicalize | FileCheck %s --check-prefix=STEP16

// A static batched matmul becomes loops over batch and register tiles of
// 8 rows x 32 columns (defaults), each a loop over K in steps of 8
// (reduction-step) carrying its accumulator vector (8 x 2 AVX-512
// registers): per step a vector contraction [1x8x8] x [1x8x32] -> [1x8x32]
// of the operand pieces at the step's offset.
// CHECK-LABEL: func.func @static
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK:     %[[INIT:.*]] = vector.transfer_read {{.*}} : tensor<1x8x32xf32>, vector<1x8x32xf32>
// CHECK:     %[[ACC:.*]] = scf.for %[[K:.*]] = %c0 to %c16 step %c8 iter_args(%[[IT:.*]] = %[[INIT]]) -> (vector<1x8x32xf32>)
// CHECK-NOT: scf.for
// CHECK:       %[[A:.*]] = vector.transfer_read %{{.*}}[%c0, %c0, %[[K]]], {{.*}} : tensor<1x8x16xf32>, vector<1x8x8xf32>
// CHECK:       %[[B:.*]] = vector.transfer_read %{{.*}}[%c0, %[[K]], %c0], {{.*}} : tensor<1x16x32xf32>, vector<1x8x32xf32>
// CHECK:       %[[S:.*]] = vector.contract {{.*}} %[[A]], %[[B]], %[[IT]] : vector<1x8x8xf32>, vector<1x8x32xf32> into vector<1x8x32xf32>
// CHECK:       scf.yield %[[S]] : vector<1x8x32xf32>
// CHECK:     vector.transfer_write %[[ACC]], {{.*}} : vector<1x8x32xf32>, tensor<1x8x32xf32>
// CHECK-NOT: linalg.batch_matmul

// reduction-step=16: K = 16 is not deeper than a step, so one contraction
// of the whole K per tile and no loop carrying a vector.
// STEP16-LABEL: func.func @static
// STEP16: scf.for %{{.*}} = %c0 to %c4 step %c1
// STEP16-NOT: -> (vector
// STEP16:     vector.contract {{.*}} vector<1x8x16xf32>, vector<1x16x32xf32> into vector<1x8x32xf32>
// STEP16-LABEL: func.func @dynamic_batch

// rows=1: one row per tile (columns capped by N).
// ROW-LABEL: func.func @static
// ROW: scf.for %{{.*}} = %c0 to %c4 step %c1
// ROW:   scf.for %{{.*}} = %c0 to %c8 step %c1
// ROW:       scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args
// ROW:         vector.contract {{.*}} vector<1x1x8xf32>, vector<1x8x32xf32> into vector<1x1x32xf32>

// Tile sizes that do not divide M / N shrink to the largest divisor (2 rows
// of 8, 16 columns of 32): full tiles, no masks.
// DIV-LABEL: func.func @static
// DIV: scf.for %{{.*}} = %c0 to %c8 step %c2
// DIV:   scf.for %{{.*}} = %c0 to %c32 step %c16
// DIV:       scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args
// DIV:         vector.contract {{.*}} vector<1x2x8xf32>, vector<1x8x16xf32> into vector<1x2x16xf32>

// BAD: error: deltanet-cpu-vectorize-matmuls: rows and cols must be >= 1, got 0 and 32
func.func @static(%a: tensor<4x8x16xf32>, %b: tensor<4x16x32xf32>, %c: tensor<4x8x32xf32>) -> tensor<4x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x8x16xf32>, tensor<4x16x32xf32>) outs(%c : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %r : tensor<4x8x32xf32>
}

// A dynamic batch (static matrices) is tiled by 1 like a static one: the
// same static register tiles under a loop to the batch size (main before
// session 6 left it to scalar loops).
// CHECK-LABEL: func.func @dynamic_batch
// CHECK: %[[B:.*]] = tensor.dim %{{.*}}, %c0 : tensor<?x8x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %[[B]] step %c1
// CHECK:   scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args
// CHECK:     vector.contract {{.*}} vector<1x8x8xf32>, vector<1x8x32xf32> into vector<1x8x32xf32>
// CHECK-NOT: linalg.batch_matmul
func.func @dynamic_batch(%a: tensor<?x8x16xf32>, %b: tensor<?x16x32xf32>, %c: tensor<?x8x32xf32>) -> tensor<?x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<?x8x16xf32>, tensor<?x16x32xf32>) outs(%c : tensor<?x8x32xf32>) -> tensor<?x8x32xf32>
  return %r : tensor<?x8x32xf32>
}

// A dynamic M (or N) has no static register tile: left to the scalar loops.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: linalg.batch_matmul
// CHECK-NOT: vector.contract
func.func @dynamic_rows(%a: tensor<4x?x16xf32>, %b: tensor<4x16x32xf32>, %c: tensor<4x?x32xf32>) -> tensor<4x?x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x?x16xf32>, tensor<4x16x32xf32>) outs(%c : tensor<4x?x32xf32>) -> tensor<4x?x32xf32>
  return %r : tensor<4x?x32xf32>
}

// A dynamic K only (forward substitution's rows, [B, 1, i] x [B, i, C]):
// static register tiles, each an scf.for over K (dynamic bound, step 1)
// carrying its accumulator vector; with M = 1 below rows = 8 a tile covers
// 8 matrices of the batch (8 x 2 AVX-512 accumulators, independent
// chains). Each step is one [8, 1, 1] x [8, 1, 32] contraction of the
// operands at k. Main before session 16 left it to scalar loops.
// CHECK-LABEL: func.func @dynamic_reduction
// CHECK: %[[K:.*]] = tensor.dim %{{.*}}, %c2 : tensor<16x1x?xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK:   %[[INIT:.*]] = vector.transfer_read {{.*}} : tensor<8x1x32xf32>, vector<8x1x32xf32>
// CHECK:   %[[ACC:.*]] = scf.for %[[KK:.*]] = %c0 to %[[K]] step %c1 iter_args(%[[IT:.*]] = %[[INIT]]) -> (vector<8x1x32xf32>)
// CHECK-NOT: vector.transfer_write
// CHECK:     %[[LHS:.*]] = vector.transfer_read {{.*}} : tensor<8x1x1xf32>, vector<8x1x1xf32>
// CHECK:     %[[RHS:.*]] = vector.transfer_read {{.*}} : tensor<8x1x32xf32>, vector<8x1x32xf32>
// CHECK:     %[[S:.*]] = vector.contract {{.*}} %[[LHS]], %[[RHS]], %[[IT]] : vector<8x1x1xf32>, vector<8x1x32xf32> into vector<8x1x32xf32>
// CHECK:     scf.yield %[[S]] : vector<8x1x32xf32>
// CHECK:   vector.transfer_write %[[ACC]]
// CHECK-NOT: linalg.batch_matmul
// rows=1: one matrix per tile.
// ROW-LABEL: func.func @dynamic_reduction
// ROW: scf.for %{{.*}} = %c0 to %c16 step %c1
// ROW:   scf.for %{{.*}} = %c0 to %{{.*}} step %c1 iter_args(%{{.*}} = %{{.*}}) -> (vector<1x1x32xf32>)
func.func @dynamic_reduction(%a: tensor<16x1x?xf32>, %b: tensor<16x?x32xf32>, %c: tensor<16x1x32xf32>) -> tensor<16x1x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<16x1x?xf32>, tensor<16x?x32xf32>) outs(%c : tensor<16x1x32xf32>) -> tensor<16x1x32xf32>
  return %r : tensor<16x1x32xf32>
}

// A dynamic K and batch: one matrix per tile (no static batch tile), bf16
// operands widened first, and a zero fill fused into the tiles: the K
// loop starts from a constant zero vector.
// CHECK-LABEL: func.func @dynamic_reduction_and_batch
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<1x1x16xf32>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: scf.for %{{.*}} = %c0 to %dim{{.*}} step %c1 iter_args(%{{.*}}) -> (tensor<?x1x16xf32>)
// CHECK:   scf.for %{{.*}} = %c0 to %{{.*}} step %c1 iter_args(%[[IT:.*]] = %[[ZERO]]) -> (vector<1x1x16xf32>)
// CHECK:     vector.contract {{.*}} %[[IT]] : vector<1x1x1xf32>, vector<1x1x16xf32> into vector<1x1x16xf32>
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.fill
func.func @dynamic_reduction_and_batch(%a: tensor<?x1x?xbf16>, %b: tensor<?x?x16xbf16>) -> tensor<?x1x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?x1x?xbf16>
  %e = tensor.empty(%n) : tensor<?x1x16xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<?x1x16xf32>) -> tensor<?x1x16xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<?x1x?xbf16>, tensor<?x?x16xbf16>) outs(%c : tensor<?x1x16xf32>) -> tensor<?x1x16xf32>
  return %r : tensor<?x1x16xf32>
}

// Mixed precision: operands widened to f32 (exact), then vectorised.
// CHECK-LABEL: func.func @mixed
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: vector.contract {{.*}} vector<1x8x8xf32>, vector<1x8x32xf32> into vector<1x8x32xf32>
// CHECK-NOT: linalg.batch_matmul
func.func @mixed(%a: tensor<4x8x16xbf16>, %b: tensor<4x16x32xbf16>, %c: tensor<4x8x32xf32>) -> tensor<4x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x8x16xbf16>, tensor<4x16x32xbf16>) outs(%c : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %r : tensor<4x8x32xf32>
}

// A zero fill of the accumulator is fused into the tiles: the K loop's
// accumulator starts from a constant zero vector, no fill pass over the
// output remains.
// CHECK-LABEL: func.func @fused_fill
// CHECK-NOT: linalg.fill
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<1x8x32xf32>
// CHECK: scf.for
// CHECK:   scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args(%[[IT:.*]] = %[[ZERO]]) -> (vector<1x8x32xf32>)
// CHECK:     vector.contract {{.*}} %[[IT]] : vector<1x8x8xf32>, vector<1x8x32xf32> into vector<1x8x32xf32>
// CHECK-NOT: linalg.fill
func.func @fused_fill(%a: tensor<4x8x16xf32>, %b: tensor<4x16x32xf32>) -> tensor<4x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8x32xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x8x16xf32>, tensor<4x16x32xf32>) outs(%c : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %r : tensor<4x8x32xf32>
}

// A right operand above columns-outer-bytes (default 48 KiB; here 128 x 128
// f32 = 64 KiB, the chunk scan's state S): the column tiles are the outer
// loop, so one 128 x 32 panel of it serves all 8 row tiles from L1.
// CHECK-LABEL: func.func @large_right_operand
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c32
// CHECK:   scf.for %{{.*}} = %c0 to %c64 step %c8
// CHECK:     scf.for %{{.*}} = %c0 to %c128 step %c8 iter_args(%{{.*}} = %{{.*}}) -> (vector<1x8x32xf32>)
// CHECK:       vector.contract {{.*}} vector<1x8x8xf32>, vector<1x8x32xf32> into vector<1x8x32xf32>
// With columns-outer-bytes=-1 the rows stay outermost.
// ROWSOUTER-LABEL: func.func @large_right_operand
// ROWSOUTER: scf.for %{{.*}} = %c0 to %c64 step %c8
// ROWSOUTER:   scf.for %{{.*}} = %c0 to %c128 step %c32
func.func @large_right_operand(%a: tensor<1x64x128xf32>, %b: tensor<1x128x128xf32>, %c: tensor<1x64x128xf32>) -> tensor<1x64x128xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<1x64x128xf32>, tensor<1x128x128xf32>) outs(%c : tensor<1x64x128xf32>) -> tensor<1x64x128xf32>
  return %r : tensor<1x64x128xf32>
}

// K deeper than reduction-step (default 8): each register tile loops over
// K in steps of 8 carrying its 8 x 32 accumulator vector, reading an
// 8 x 8 piece of the left operand and an 8 x 32 piece of the right one
// at the step's offset (the same multiply-adds in the same order); a K
// that 8 does not divide steps by its largest divisor below 8 (12: 6).
// CHECK-LABEL: func.func @deep_reduction
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<1x8x32xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c8
// CHECK:   scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK:     %[[ACC:.*]] = scf.for %[[K:.*]] = %c0 to %c128 step %c8 iter_args(%[[IT:.*]] = %[[ZERO]]) -> (vector<1x8x32xf32>)
// CHECK:       %[[A:.*]] = vector.transfer_read %{{.*}}[%c0, %c0, %[[K]]], {{.*}} : tensor<1x8x128xf32>, vector<1x8x8xf32>
// CHECK:       %[[B:.*]] = vector.transfer_read %{{.*}}[%c0, %[[K]], %c0], {{.*}} : tensor<1x128x32xf32>, vector<1x8x32xf32>
// CHECK:       %[[S:.*]] = vector.contract {{.*}} %[[A]], %[[B]], %[[IT]] : vector<1x8x8xf32>, vector<1x8x32xf32> into vector<1x8x32xf32>
// CHECK:       scf.yield %[[S]] : vector<1x8x32xf32>
// CHECK:     vector.transfer_write %[[ACC]]
// CHECK-LABEL: func.func @uneven_reduction
// CHECK: scf.for %{{.*}} = %c0 to %c12 step %c6 iter_args
// CHECK:   vector.contract {{.*}} vector<1x8x6xf32>, vector<1x6x32xf32> into vector<1x8x32xf32>
// reduction-step=0: K unrolled whole, one contraction per tile.
// WHOLEK-LABEL: func.func @deep_reduction
// WHOLEK-NOT: iter_args({{.*}}) -> (vector
// WHOLEK: vector.contract {{.*}} vector<1x8x128xf32>, vector<1x128x32xf32> into vector<1x8x32xf32>
func.func @deep_reduction(%a: tensor<1x32x128xf32>, %b: tensor<1x128x64xf32>) -> tensor<1x32x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x32x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<1x32x128xf32>, tensor<1x128x64xf32>) outs(%c : tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %r : tensor<1x32x64xf32>
}

func.func @uneven_reduction(%a: tensor<1x8x12xf32>, %b: tensor<1x12x32xf32>, %c: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<1x8x12xf32>, tensor<1x12x32xf32>) outs(%c : tensor<1x8x32xf32>) -> tensor<1x8x32xf32>
  return %r : tensor<1x8x32xf32>
}
