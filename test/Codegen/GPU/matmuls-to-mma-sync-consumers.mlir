// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="chain-products=true" | FileCheck %s --check-prefix=CHAIN
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="chain-products=true" --canonicalize --cse \
// RUN:   | FileCheck %s --check-prefix=CANON
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="fold-accumulator-consumers=false" \
// RUN:   | FileCheck %s --check-prefix=NOFOLD

// The output stage of one chunk: C = (q exp(g)) S + A v_new in a shared
// temporary, then cast to bf16 and scattered into o (read through an
// expand_shape, rows as `d1 floordiv 64`, `d1 mod 64`). The cast and store
// are applied to the second product's accumulator fragments as they leave
// the registers (fold-accumulator-consumers, default): the generic goes,
// o's view is hoisted above the warp loop, the fragments are stored as
// bf16 into o.
// CHECK-LABEL: func.func @output_stage
// CHECK: scf.forall (%{{.*}}) in (4)
// The first product stores its sum (f32) for the second to load.
// CHECK: scf.forall
// CHECK: nvgpu.mma.sync
// CHECK: memref.store {{.*}} : memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>>
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK: %[[O:.*]] = memref.subview %{{.*}} : memref<1x256x1x32xbf16> to memref<1x64x1x32xbf16
// CHECK: scf.forall
// CHECK: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK-NOT: memref.store {{.*}}workgroup
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK-COUNT-4: affine.apply
// CHECK-NEXT: memref.store {{.*}}, %[[O]][{{.*}}] : memref<1x64x1x32xbf16
// CHECK-NOT: memref.store {{.*}}workgroup
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK-NOT: linalg.generic
// CHECK: } {mapping = [#gpu.block<x>]}
// With chain-products both products share the register accumulators: the
// shared C is neither written nor read (no f32 tile of o), one warp loop.
// CHAIN-LABEL: func.func @output_stage
// CHAIN-NOT: memref.store {{.*}}workgroup
// CHAIN-NOT: memref.load {{.*}} : memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>>
// CHAIN: scf.forall
// CHAIN-COUNT-2: scf.for %{{.*}} = %c0 to %c64 step %c8 iter_args(
// CHAIN: arith.truncf {{.*}} : f32 to bf16
// CHAIN: memref.store {{.*}} : memref<1x64x1x32xbf16
// CHAIN-NOT: memref.store {{.*}}workgroup
// CHAIN-NOT: memref.load {{.*}} : memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>>
// CHAIN-NOT: linalg.generic
// CHAIN: } {mapping = [#gpu.block<x>]}
// The element each lane stores into o is its accumulator element: value 0
// of the warp's first tile at row 16 w + lane / 4 and column
// 2 (lane mod 4) of the tile (the m16n8 C fragment), through the scatter's
// map (o[0, row, 0, col]).
// CANON-DAG: #[[ROW:.*]] = affine_map<(d0)[s0] -> (d0 * 16 + s0 floordiv 4)>
// CANON-DAG: #[[COL:.*]] = affine_map<()[s0] -> (s0 * 2 - (s0 floordiv 4) * 8)>
// CANON-LABEL: func.func @output_stage
// CANON: scf.forall (%{{.*}}) in (4)
// CANON: scf.forall (%[[W:.*]]) in (4)
// CANON: %[[LANE:.*]] = gpu.lane_id
// CANON: %{{.*}}:4 = scf.for
// CANON: %[[ACC:.*]]:4 = scf.for
// CANON: %[[E:.*]] = vector.extract %[[ACC]]#0[0, 0]
// CANON-NEXT: %[[T:.*]] = arith.truncf %[[E]]
// CANON-NEXT: %[[R:.*]] = affine.apply #[[ROW]](%[[W]])[%[[LANE]]]
// CANON-NEXT: %[[C:.*]] = affine.apply #[[COL]]()[%[[LANE]]]
// CANON-NEXT: memref.store %[[T]], %{{.*}}[%c0, %[[R]], %c0, %[[C]]] : memref<1x64x1x32xbf16
// NOFOLD-LABEL: func.func @output_stage
// NOFOLD: nvgpu.mma.sync
// NOFOLD: linalg.generic
// NOFOLD-SAME: ins(%{{.*}} : memref<1x1x1x64x32xf32
// NOFOLD: arith.truncf
func.func @output_stage(%qg: memref<4x64x64xf32>, %s: memref<4x64x32xf32>, %a: memref<4x64x64xf32>, %vn: memref<4x64x32xf32>, %o: memref<1x256x1x32xbf16>) {
  %cst = arith.constant 0.0 : f32
  scf.forall (%i) in (4) {
    %qgi = memref.subview %qg[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xf32> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
    %si = memref.subview %s[%i, 0, 0] [1, 64, 32] [1, 1, 1] : memref<4x64x32xf32> to memref<1x64x32xf32, strided<[2048, 32, 1], offset: ?>>
    %ai = memref.subview %a[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xf32> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
    %vni = memref.subview %vn[%i, 0, 0] [1, 64, 32] [1, 1, 1] : memref<4x64x32xf32> to memref<1x64x32xf32, strided<[2048, 32, 1], offset: ?>>
    %alloc = memref.alloc() : memref<1x64x36xf32, #gpu.address_space<workgroup>>
    %c = memref.subview %alloc[0, 0, 0] [1, 64, 32] [1, 1, 1] : memref<1x64x36xf32, #gpu.address_space<workgroup>> to memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>>
    linalg.fill ins(%cst : f32) outs(%c : memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%qgi, %si : memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>, memref<1x64x32xf32, strided<[2048, 32, 1], offset: ?>>) outs(%c : memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%ai, %vni : memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>, memref<1x64x32xf32, strided<[2048, 32, 1], offset: ?>>) outs(%c : memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>>)
    %row = affine.apply affine_map<(d0) -> (d0 * 64)>(%i)
    %e = memref.expand_shape %c [[0, 1, 2], [3], [4]] output_shape [1, 1, 1, 64, 32] : memref<1x64x32xf32, strided<[2304, 36, 1]>, #gpu.address_space<workgroup>> into memref<1x1x1x64x32xf32, strided<[2304, 2304, 2304, 36, 1]>, #gpu.address_space<workgroup>>
    %oi = memref.subview %o[0, %row, 0, 0] [1, 64, 1, 32] [1, 1, 1, 1] : memref<1x256x1x32xbf16> to memref<1x64x1x32xbf16, strided<[8192, 32, 32, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 floordiv 64, d1 mod 64, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e : memref<1x1x1x64x32xf32, strided<[2304, 2304, 2304, 36, 1]>, #gpu.address_space<workgroup>>) outs(%oi : memref<1x64x1x32xbf16, strided<[8192, 32, 32, 1], offset: ?>>) {
    ^bb0(%in: f32, %out: bf16):
      %t = arith.truncf %in : f32 to bf16
      linalg.yield %t : bf16
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// The output stage's mask: mA = mask(q k^T * exp(g_i - g_j)) into a shared
// temporary (the next product's A operand); its payload reads linalg.index
// (the causal mask) and other inputs (g by row and by column): the indices
// become the fragment element's, g is loaded at them, the shared q k^T tile
// is not written.
// CHECK-LABEL: func.func @masked_epilogue
// CHECK: scf.forall
// CHECK: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK-NOT: memref.store {{.*}} : memref<1x64x64xf32, strided<[4352, 68, 1]>
// CHECK: memref.load %{{.*}} : memref<1x64xf32
// CHECK: memref.load %{{.*}} : memref<1x64xf32
// CHECK: math.exp
// CHECK: arith.cmpi uge
// CHECK: arith.select
// CHECK: memref.store {{.*}} : memref<1x64x64xf32, strided<[4480, 70, 1]>, #gpu.address_space<workgroup>>
// CHECK-NOT: linalg.generic
// CHECK: } {mapping = [#gpu.block<x>]}
// The same epilogue into device memory (gated_kkt's A) stays a block phase
// (measured slower applied to the fragments: per-element loads of g and
// scalar stores): the accumulator is written to shared memory, the generic
// stays.
// CHECK-LABEL: func.func @masked_epilogue_to_device
// CHECK: nvgpu.mma.sync
// CHECK: memref.store {{.*}} : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>
// CHECK: linalg.generic
// CHECK: math.exp
func.func @masked_epilogue(%k: memref<4x64x128xf32>, %kt: memref<4x128x64xf32>, %g: memref<4x64xf32>, %out: memref<4x64x64xf32>) {
  %cst = arith.constant 0.0 : f32
  scf.forall (%i) in (4) {
    %ki = memref.subview %k[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %kti = memref.subview %kt[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>
    %gi = memref.subview %g[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    %ma = memref.alloc() : memref<1x64x70xf32, #gpu.address_space<workgroup>>
    %oi = memref.subview %ma[0, 0, 0] [1, 64, 64] [1, 1, 1] : memref<1x64x70xf32, #gpu.address_space<workgroup>> to memref<1x64x64xf32, strided<[4480, 70, 1]>, #gpu.address_space<workgroup>>
    %alloc = memref.alloc() : memref<1x64x68xf32, #gpu.address_space<workgroup>>
    %c = memref.subview %alloc[0, 0, 0] [1, 64, 64] [1, 1, 1] : memref<1x64x68xf32, #gpu.address_space<workgroup>> to memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>
    linalg.fill ins(%cst : f32) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%ki, %kti : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>, memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c, %gi, %gi : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>, memref<1x64xf32, strided<[64, 1], offset: ?>>, memref<1x64xf32, strided<[64, 1], offset: ?>>) outs(%oi : memref<1x64x64xf32, strided<[4480, 70, 1]>, #gpu.address_space<workgroup>>) {
    ^bb0(%in: f32, %gr: f32, %gc: f32, %out_: f32):
      %r = linalg.index 1 : index
      %col = linalg.index 2 : index
      %keep = arith.cmpi uge, %r, %col : index
      %d = arith.subf %gr, %gc : f32
      %e = math.exp %d : f32
      %m = arith.mulf %in, %e : f32
      %sel = arith.select %keep, %m, %cst : f32
      linalg.yield %sel : f32
    }
  } {mapping = [#gpu.block<x>]}
  return
}


func.func @masked_epilogue_to_device(%k: memref<4x64x128xf32>, %kt: memref<4x128x64xf32>, %g: memref<4x64xf32>, %out: memref<4x64x64xf32>) {
  %cst = arith.constant 0.0 : f32
  scf.forall (%i) in (4) {
    %ki = memref.subview %k[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %kti = memref.subview %kt[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>
    %gi = memref.subview %g[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    %oi = memref.subview %out[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xf32> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
    %alloc = memref.alloc() : memref<1x64x68xf32, #gpu.address_space<workgroup>>
    %c = memref.subview %alloc[0, 0, 0] [1, 64, 64] [1, 1, 1] : memref<1x64x68xf32, #gpu.address_space<workgroup>> to memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>
    linalg.fill ins(%cst : f32) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%ki, %kti : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>, memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c, %gi, %gi : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>, memref<1x64xf32, strided<[64, 1], offset: ?>>, memref<1x64xf32, strided<[64, 1], offset: ?>>) outs(%oi : memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>) {
    ^bb0(%in: f32, %gr: f32, %gc: f32, %out_: f32):
      %r = linalg.index 1 : index
      %col = linalg.index 2 : index
      %keep = arith.cmpi uge, %r, %col : index
      %d = arith.subf %gr, %gc : f32
      %e = math.exp %d : f32
      %m = arith.mulf %in, %e : f32
      %sel = arith.select %keep, %m, %cst : f32
      linalg.yield %sel : f32
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// Not folded: the accumulator is read again after the consumer (the
// consumer's block phase and the shared tile stay).
// CHECK-LABEL: func.func @read_after_consumer
// CHECK: nvgpu.mma.sync
// CHECK: memref.store {{.*}}workgroup
// CHECK: linalg.generic
// CHECK: memref.copy
// Not folded either: a consumer loop that is not an accumulator dim (each
// element read twice).
// CHECK-LABEL: func.func @broadcast_consumer
// CHECK: nvgpu.mma.sync
// CHECK: memref.store {{.*}}workgroup
// CHECK: linalg.generic
func.func @read_after_consumer(%k: memref<4x64x128xf32>, %kt: memref<4x128x64xf32>, %out: memref<4x64x64xbf16>, %keep: memref<4x64x64xf32>) {
  %cst = arith.constant 0.0 : f32
  scf.forall (%i) in (4) {
    %ki = memref.subview %k[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %kti = memref.subview %kt[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>
    %oi = memref.subview %out[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xbf16> to memref<1x64x64xbf16, strided<[4096, 64, 1], offset: ?>>
    %ri = memref.subview %keep[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xf32> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
    %alloc = memref.alloc() : memref<1x64x68xf32, #gpu.address_space<workgroup>>
    %c = memref.subview %alloc[0, 0, 0] [1, 64, 64] [1, 1, 1] : memref<1x64x68xf32, #gpu.address_space<workgroup>> to memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>
    linalg.fill ins(%cst : f32) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%ki, %kti : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>, memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>) outs(%oi : memref<1x64x64xbf16, strided<[4096, 64, 1], offset: ?>>) {
    ^bb0(%in: f32, %out_: bf16):
      %t = arith.truncf %in : f32 to bf16
      linalg.yield %t : bf16
    }
    memref.copy %c, %ri : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
  } {mapping = [#gpu.block<x>]}
  return
}

func.func @broadcast_consumer(%k: memref<4x64x128xf32>, %kt: memref<4x128x64xf32>, %out: memref<4x64x64x2xbf16>) {
  %cst = arith.constant 0.0 : f32
  scf.forall (%i) in (4) {
    %ki = memref.subview %k[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %kti = memref.subview %kt[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>
    %oi = memref.subview %out[%i, 0, 0, 0] [1, 64, 64, 2] [1, 1, 1, 1] : memref<4x64x64x2xbf16> to memref<1x64x64x2xbf16, strided<[8192, 128, 2, 1], offset: ?>>
    %alloc = memref.alloc() : memref<1x64x68xf32, #gpu.address_space<workgroup>>
    %c = memref.subview %alloc[0, 0, 0] [1, 64, 64] [1, 1, 1] : memref<1x64x68xf32, #gpu.address_space<workgroup>> to memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>
    linalg.fill ins(%cst : f32) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%ki, %kti : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>, memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>) outs(%oi : memref<1x64x64x2xbf16, strided<[8192, 128, 2, 1], offset: ?>>) {
    ^bb0(%in: f32, %out_: bf16):
      %t = arith.truncf %in : f32 to bf16
      linalg.yield %t : bf16
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// Not folded: the accumulator is allocated outside the loop that holds the
// product and its consumer (a loop could carry its value into a read
// before the product in the next iteration).
// CHECK-LABEL: func.func @carried_accumulator
// CHECK: scf.for
// CHECK: nvgpu.mma.sync
// CHECK: memref.store {{.*}}workgroup
// CHECK: linalg.generic
func.func @carried_accumulator(%k: memref<4x64x128xf32>, %kt: memref<4x128x64xf32>, %out: memref<4x64x64xbf16>) {
  %cst = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.forall (%i) in (4) {
    %ki = memref.subview %k[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %kti = memref.subview %kt[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>
    %oi = memref.subview %out[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xbf16> to memref<1x64x64xbf16, strided<[4096, 64, 1], offset: ?>>
    %alloc = memref.alloc() : memref<1x64x68xf32, #gpu.address_space<workgroup>>
    %c = memref.subview %alloc[0, 0, 0] [1, 64, 64] [1, 1, 1] : memref<1x64x68xf32, #gpu.address_space<workgroup>> to memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>
    linalg.fill ins(%cst : f32) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
    scf.for %n = %c0 to %c2 step %c1 {
      linalg.batch_matmul ins(%ki, %kti : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>, memref<1x128x64xf32, strided<[8192, 64, 1], offset: ?>>) outs(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>)
      linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c : memref<1x64x64xf32, strided<[4352, 68, 1]>, #gpu.address_space<workgroup>>) outs(%oi : memref<1x64x64xbf16, strided<[4096, 64, 1], offset: ?>>) {
      ^bb0(%in: f32, %out_: bf16):
        %t = arith.truncf %in : f32 to bf16
        linalg.yield %t : bf16
      }
    }
  } {mapping = [#gpu.block<x>]}
  return
}
