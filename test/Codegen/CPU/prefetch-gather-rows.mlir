// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-prefetch-gather-rows="min-source-bytes=65536 max-lines-per-iteration=4" --canonicalize | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-prefetch-gather-rows=min-source-bytes=65536 | FileCheck %s --check-prefix=DISABLED
// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-prefetch-gather-rows=products=0 | FileCheck %s --check-prefix=DISABLED
// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-prefetch-gather-rows="min-source-bytes=0 locality=1 max-lines-per-iteration=4" --canonicalize | FileCheck %s --check-prefix=SMALL

// RUN: not deltanet-opt %s --split-input-file --deltanet-cpu-prefetch-gather-rows=locality=7 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: prefetch-gather-rows.mlir:{{[0-9]+}}:{{[0-9]+}}: error: deltanet-cpu-prefetch-gather-rows: locality must be 0-3, line-bytes and max-lines-per-iteration positive (got 7, 64, 2)

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A chunk loop: 4 chunks of 64 rows of head 1 of q [1, 256, 4, 32] (128 KiB;
// 2 lines per row: 128 lines), gathered by a linalg.generic copy; g
// [1, 256, 4] (4 KiB, below min-source-bytes: stays cached, left alone,
// unless min-source-bytes=0); one product nest of 8 x 4 = 32 inner
// iterations around a vector.contract: 4 lines of the next chunk's q per
// inner iteration (with the default max-lines-per-iteration=2 the product is
// too small for q: nothing, like products=0).
// CHECK-LABEL: func.func @chunks
// CHECK-SAME: (%[[Q:.*]]: memref<1x256x4x32xf32>, %[[G:.*]]: memref<1x256x4xf32>
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[UB:.*]] step %[[STEP:[^ ]*]]
// CHECK:   %[[NEXT:.*]] = arith.addi %[[I]], %[[STEP]] : index
// CHECK:   %[[IN:.*]] = arith.cmpi slt, %[[NEXT]], %[[UB]] : index
// CHECK:   %[[NI:.*]] = arith.select %[[IN]], %[[NEXT]], %[[I]] : index
// CHECK:   %[[NOFFSET:.*]] = arith.muli %[[NI]], %{{.*}} : index
// CHECK:   %[[NV:.*]] = memref.subview %[[Q]][0, %[[NOFFSET]], 1, 0] [1, 64, 1, 32] [1, 1, 1, 1]
// CHECK-NOT: memref.subview %[[G]]
// CHECK:   linalg.generic
// CHECK:   linalg.copy
// CHECK:   scf.for %[[R:.*]] = %c0 to %c64 step %c8
// CHECK:     scf.for %[[K:.*]] = %c0 to %c32 step %c8 iter_args
// Inner iteration (r / 8) * 4 + k / 8, its first line 4 times that; line l
// is row l / 2 (mod 64), elements (l % 2) * 16.
// CHECK:       %[[RI:.*]] = arith.divui %[[R]], %c8 : index
// CHECK:       %[[KI:.*]] = arith.divui %[[K]], %c8 : index
// CHECK:       %[[RI4:.*]] = arith.muli %[[RI]], %c4 : index
// CHECK:       %[[IT:.*]] = arith.addi %[[RI4]], %[[KI]] : index
// CHECK:       %[[L0:.*]] = arith.muli %[[IT]], %c4 : index
// CHECK:       %[[ROW0:.*]] = arith.divui %[[L0]], %c2 : index
// CHECK:       %[[C0:.*]] = arith.remui %[[L0]], %c2 : index
// CHECK:       %[[E0:.*]] = arith.muli %[[C0]], %c16 : index
// CHECK:       %[[T0:.*]] = arith.remui %[[ROW0]], %c64 : index
// CHECK:       memref.prefetch %[[NV]][%c0, %[[T0]], %c0, %[[E0]]], read, locality<3>, data
// CHECK:       %[[L1:.*]] = arith.addi %[[L0]], %c1 : index
// CHECK:       memref.prefetch %[[NV]]
// CHECK:       %[[L2:.*]] = arith.addi %[[L0]], %c2 : index
// CHECK:       memref.prefetch %[[NV]]
// CHECK:       %[[L3:.*]] = arith.addi %[[L0]], %c3 : index
// CHECK:       memref.prefetch %[[NV]]
// CHECK-NOT: memref.prefetch
// CHECK:       vector.contract
// No prefetch placed, no IR built: neither the next induction value nor the
// next iteration's views.
// DISABLED-LABEL: func.func @chunks
// DISABLED-NOT: memref.prefetch
// DISABLED-NOT: arith.select
// DISABLED-NOT: arith.addi
// DISABLED: return
// SMALL-LABEL: func.func @chunks
// SMALL: %[[QV:.*]] = memref.subview %{{.*}}[0, %{{.*}}, 1, 0] [1, 64, 1, 32]
// SMALL: %[[GV:.*]] = memref.subview %{{.*}}[0, %{{.*}}, 1] [1, 64, 1]
// SMALL: scf.for %{{.*}} = %c0 to %c64 step %c8
// SMALL: scf.for %{{.*}} = %c0 to %c32 step %c8 iter_args
// g (64 lines, one per row) goes to the same nest (sources round-robin over
// one product), 2 lines per inner iteration (32 of them).
// SMALL-COUNT-2: memref.prefetch %[[GV]]{{.*}} read, locality<1>, data
// SMALL-COUNT-4: memref.prefetch %[[QV]]{{.*}} read, locality<1>, data
// SMALL: vector.contract
func.func @chunks(%q: memref<1x256x4x32xf32>, %g: memref<1x256x4xf32>, %w: memref<64x32xf32>, %out: memref<64x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  %zero = arith.constant dense<0.0> : vector<8x8xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %off = arith.muli %i, %c64 : index
    %qv = memref.subview %q[0, %off, 1, 0] [1, 64, 1, 32] [1, 1, 1, 1] : memref<1x256x4x32xf32> to memref<1x64x1x32xf32, strided<[32768, 128, 32, 1], offset: ?>>
    %qb = memref.alloc() : memref<1x64x1x32xf32>
    linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%qv : memref<1x64x1x32xf32, strided<[32768, 128, 32, 1], offset: ?>>) outs(%qb : memref<1x64x1x32xf32>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    %gv = memref.subview %g[0, %off, 1] [1, 64, 1] [1, 1, 1] : memref<1x256x4xf32> to memref<1x64x1xf32, strided<[1024, 4, 1], offset: ?>>
    %gb = memref.alloc() : memref<1x64x1xf32>
    linalg.copy ins(%gv : memref<1x64x1xf32, strided<[1024, 4, 1], offset: ?>>) outs(%gb : memref<1x64x1xf32>)
    %qc = memref.collapse_shape %qb [[0, 1, 2], [3]] : memref<1x64x1x32xf32> into memref<64x32xf32>
    scf.for %r = %c0 to %c64 step %c8 {
      %acc = scf.for %k = %c0 to %c32 step %c8 iter_args(%a = %zero) -> (vector<8x8xf32>) {
        %x = vector.transfer_read %qc[%r, %k], %f0 {in_bounds = [true, true]} : memref<64x32xf32>, vector<8x8xf32>
        %y = vector.transfer_read %w[%k, %c0], %f0 {in_bounds = [true, true]} : memref<64x32xf32>, vector<8x8xf32>
        %z = vector.contract {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %x, %y, %a : vector<8x8xf32>, vector<8x8xf32> into vector<8x8xf32>
        scf.yield %z : vector<8x8xf32>
      }
      vector.transfer_write %acc, %out[%r, %c0] {in_bounds = [true, true]} : vector<8x8xf32>, memref<64x32xf32>
    }
    memref.dealloc %qb : memref<1x64x1x32xf32>
    memref.dealloc %gb : memref<1x64x1xf32>
  }
  return
}

// -----

// Gathers whose offsets do not depend on the loop (the same rows every
// iteration): nothing to prefetch.
// CHECK-LABEL: func.func @invariant
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @invariant(%q: memref<1x256x4x32xf32>, %out: memref<1x64x1x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %qv = memref.subview %q[0, 64, 1, 0] [1, 64, 1, 32] [1, 1, 1, 1] : memref<1x256x4x32xf32> to memref<1x64x1x32xf32, strided<[32768, 128, 32, 1], offset: 8224>>
    linalg.copy ins(%qv : memref<1x64x1x32xf32, strided<[32768, 128, 32, 1], offset: 8224>>) outs(%out : memref<1x64x1x32xf32>)
  }
  return
}
