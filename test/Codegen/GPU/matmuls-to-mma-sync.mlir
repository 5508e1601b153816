// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="mark-carried-accumulators=true" | FileCheck %s --check-prefix=MARK
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="fold-accumulator-copies=true" | FileCheck %s --check-prefix=COPY
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="warp-tiling=rows" | FileCheck %s --check-prefix=ROWS
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="chain-products=true" | FileCheck %s --check-prefix=CHAIN
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="round-to-tf32=false max-accumulator-tiles=4" \
// RUN:   | FileCheck %s --check-prefix=TRUNC
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync --deltanet-gpu-map-to-threads \
// RUN:   | FileCheck %s --check-prefix=THREADS
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="stage-operand-bytes=32768 fold-accumulator-consumers=false" \
// RUN:   | FileCheck %s --check-prefix=STAGE
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="stage-operand-bytes=32768 zero-init-accumulators=false stage-from-producer=false fold-accumulator-consumers=false" \
// RUN:   | FileCheck %s --check-prefix=NOFUSE
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="fold-accumulator-producers=false" \
// RUN:   | FileCheck %s --check-prefix=NOFOLD
// RUN: not deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="threads=40" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BADTHREADS
// RUN: not deltanet-opt %s --split-input-file --deltanet-gpu-map-to-threads="threads=40" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BADTHREADS
// RUN: not deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="warp-tiling=square" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BADTILING

// wy_repr's product in a block (one chunk): [1, 64, 64] x [1, 64, 128] on
// buffers. warp-tiling=min-loads (default): 4 warps of 64 rows x 32
// columns, each a register block of 4 x 4 accumulator tiles (16 x 8) kept
// across K (8 steps of 8): per step 4 A fragments (4 values each) and 4 B
// fragments (2 values), 16 mma.sync: 96 fragment values per block and step
// instead of the rows tiling's 144.
// CHECK-LABEL: func.func @wy_product
// CHECK: scf.forall (%[[I:.*]]) in (4)
// CHECK: scf.forall (%[[W:.*]]) in (4)
// CHECK: %[[LANE:.*]] = gpu.lane_id
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c64
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c32
// 16 accumulators, each loaded from the destination (it may hold a sum).
// CHECK-COUNT-16: vector.from_elements {{.*}} : vector<2x2xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c8 iter_args(
// Operands rounded to the nearest tf32 (the accumulator is not); the four
// A fragments first (rows +0, +16, +32, +48 of the block).
// CHECK: arith.constant 4096 : i32
// CHECK-COUNT-4: vector.from_elements {{.*}} : vector<4x1xf32>
// CHECK: vector.from_elements {{.*}} : vector<2x1xf32>
// CHECK-COUNT-4: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: vector.from_elements {{.*}} : vector<2x1xf32>
// CHECK-COUNT-12: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK-COUNT-64: memref.store
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK-NOT: linalg.batch_matmul
// CHECK: } {mapping = [#gpu.block<x>]}
// warp-tiling=rows (the original choice): 4 warps of 16 rows x 128 columns,
// one A fragment then 16 B fragments and mma.sync per step.
// ROWS-LABEL: func.func @wy_product
// ROWS: scf.forall (%{{.*}}) in (4)
// ROWS: scf.for %{{.*}} = %c0 to %c16 step %c16
// ROWS: scf.for %{{.*}} = %c0 to %c128 step %c128
// ROWS: scf.for %{{.*}} = %c0 to %c64 step %c8 iter_args(
// ROWS: vector.from_elements {{.*}} : vector<4x1xf32>
// ROWS-NOT: vector<4x1xf32>
// ROWS-COUNT-16: nvgpu.mma.sync
// ROWS: scf.yield
// BADTILING: warp-tiling must be rows or min-loads, got 'square'
// Without rounding (the hardware truncates), and at most 4 accumulators
// per warp at once: columns in 4 groups of 32.
// TRUNC-LABEL: func.func @wy_product
// TRUNC-NOT: arith.addi {{.*}} : i32
// TRUNC: scf.for %{{.*}} = %c0 to %c128 step %c32
// TRUNC-COUNT-4: nvgpu.mma.sync
// TRUNC-NOT: nvgpu.mma.sync
// TRUNC: scf.yield
// The warp loop is mapped to warp ids (thread id / 32) in the launch, with
// a barrier after it.
// THREADS-LABEL: func.func @wy_product
// THREADS: gpu.launch
// THREADS: gpu.thread_id  x
// THREADS: nvgpu.mma.sync
// THREADS: gpu.barrier
// BADTHREADS: threads must be a multiple of 32 in [32, 1024], got 40
// Operands in device memory of at most 32 KiB are first copied into shared
// memory by the block, rows of 64 / 128 words padded (bank spread): by 4
// when the rows run along the reduction (A = T, [M, K]), by 8 when they run
// along the other index (B = X, [K, N]: a fragment's 4 reduction rows x 8
// columns in distinct banks); the warps then read the copies.
// STAGE-LABEL: func.func @wy_product
// STAGE: %[[TA:.*]] = memref.alloc() : memref<1x64x68xf32, #gpu.address_space<workgroup>>
// STAGE: %[[TV:.*]] = memref.subview %[[TA]][0, 0, 0] [1, 64, 64] [1, 1, 1]
// STAGE: memref.copy %{{.*}}, %[[TV]]
// STAGE: %[[XA:.*]] = memref.alloc() : memref<1x64x136xf32, #gpu.address_space<workgroup>>
// STAGE: %[[XV:.*]] = memref.subview %[[XA]]
// STAGE: memref.copy %{{.*}}, %[[XV]]
// STAGE: scf.forall
// STAGE: memref.load %[[TV]]
// STAGE: memref.load %[[XV]]
// Shared operands are read in place; one copy serves both operands of K K^T.
// STAGE-LABEL: func.func @gram
// STAGE-NOT: memref.copy
// STAGE: nvgpu.mma.sync
// STAGE-LABEL: func.func @scan_update
// STAGE-COUNT-2: memref.copy
// STAGE-NOT: memref.copy
// STAGE: nvgpu.mma.sync
func.func @wy_product(%t: memref<4x64x64xf32>, %x: memref<4x64x128xf32>, %w: memref<4x64x128xf32>) {
  scf.forall (%i) in (4) {
    %ts = memref.subview %t[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xf32> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
    %xs = memref.subview %x[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %ws = memref.subview %w[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    linalg.batch_matmul ins(%ts, %xs : memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>, memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>)
                        outs(%ws : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>)
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// K K^T (gated_kkt's Gram matrix) with the transposed operand read through
// its indexing map: B[n, k] is k[n, k], no transpose materialised. 2 x 2
// warps of 32 x 32 (blocks of 2 x 4 accumulators: 16 fragment values per
// warp and step instead of 20 for 16 x 64).
// CHECK-LABEL: func.func @gram
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c8 iter_args(
// CHECK-COUNT-8: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK-NOT: linalg.generic
#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @gram(%k: memref<64x128xf32, #gpu.address_space<workgroup>>, %a: memref<64x64xf32>) {
  scf.forall (%i) in (1) {
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%k, %k : memref<64x128xf32, #gpu.address_space<workgroup>>, memref<64x128xf32, #gpu.address_space<workgroup>>)
        outs(%a : memref<64x64xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// The state scan's update S += kdecay^T v_new for a tile of 16 state
// columns: [128, 64] x [64, 16]: 4 warps of 32 rows x 16 columns, one
// register block of 2 x 2 accumulators (each B fragment serves both rows
// of 16); warp-tiling=rows walks the two rows of 16 one after the other
// (2 accumulators, B fragments loaded twice).
// CHECK-LABEL: func.func @scan_update
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c8 iter_args(
// CHECK-COUNT-4: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// ROWS-LABEL: func.func @scan_update
// ROWS: scf.forall (%{{.*}}) in (4)
// ROWS: scf.for %{{.*}} = %c0 to %c32 step %c16
// ROWS: scf.for %{{.*}} = %c0 to %c64 step %c8 iter_args(
// ROWS-COUNT-2: nvgpu.mma.sync
// ROWS: scf.yield
func.func @scan_update(%kt: memref<128x64xf32>, %v: memref<64x16xf32>, %s: memref<128x16xf32>) {
  scf.forall (%i) in (1) {
    linalg.matmul ins(%kt, %v : memref<128x64xf32>, memref<64x16xf32>) outs(%s : memref<128x16xf32>)
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// One chunk step of the state scan (tile of 8 state columns): w S after a
// zero fill of its accumulator, v_new = u - w S written to device memory,
// then S += kdecay^T v_new. By default the fill is gone (accumulators start
// as zero registers, no fragment loads of C), and v_new is computed into
// shared memory and copied to device memory right after (the update reads
// the shared copy: no staging copy from device memory after it).
// CHECK-LABEL: func.func @scan_step
// STAGE-LABEL: func.func @scan_step
// STAGE-NOT: linalg.fill
// STAGE: memref.copy %{{.*}}, %[[W:.*]] : memref<64x128xf32> to memref<64x128xf32, strided<[132, 1]>, #gpu.address_space<workgroup>>
// STAGE: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<2x2xf32>
// STAGE: scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]])
// STAGE: %[[VS:.*]] = memref.subview %{{.*}} : memref<64x8xf32, #gpu.address_space<workgroup>> to memref<64x8xf32, strided<[8, 1]>, #gpu.address_space<workgroup>>
// STAGE: linalg.generic {{.*}} outs(%[[VS]] :
// STAGE-NEXT: ^bb0
// STAGE: memref.copy %[[VS]], %arg3
// STAGE-NOT: memref.copy
// STAGE: scf.forall
// STAGE: memref.load %[[VS]]
// NOFUSE-LABEL: func.func @scan_step
// NOFUSE: linalg.fill
// NOFUSE: linalg.generic
// NOFUSE: memref.copy %arg3, %{{.*}} : memref<64x8xf32> to memref<64x8xf32, strided<[8, 1]>, #gpu.address_space<workgroup>>
#s_mk = affine_map<(m, n, k) -> (m, k)>
#s_kn = affine_map<(m, n, k) -> (k, n)>
#s_km = affine_map<(m, n, k) -> (k, m)>
#s_mn = affine_map<(m, n, k) -> (m, n)>
#s_id = affine_map<(i, j) -> (i, j)>
func.func @scan_step(%w: memref<64x128xf32>, %kd: memref<64x128xf32, #gpu.address_space<workgroup>>, %u: memref<64x8xf32>, %vnew: memref<64x8xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) in (1) {
    %s = memref.alloc() : memref<128x8xf32, #gpu.address_space<workgroup>>
    %ws = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    linalg.fill ins(%zero : f32) outs(%ws : memref<64x8xf32, #gpu.address_space<workgroup>>)
    linalg.generic {indexing_maps = [#s_mk, #s_kn, #s_mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%w, %s : memref<64x128xf32>, memref<128x8xf32, #gpu.address_space<workgroup>>)
        outs(%ws : memref<64x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %a = arith.addf %acc, %p : f32
      linalg.yield %a : f32
    }
    linalg.generic {indexing_maps = [#s_id, #s_id, #s_id], iterator_types = ["parallel", "parallel"]}
        ins(%u, %ws : memref<64x8xf32>, memref<64x8xf32, #gpu.address_space<workgroup>>) outs(%vnew : memref<64x8xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %d = arith.subf %a, %b : f32
      linalg.yield %d : f32
    }
    linalg.generic {indexing_maps = [#s_km, #s_kn, #s_mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%kd, %vnew : memref<64x128xf32, #gpu.address_space<workgroup>>, memref<64x8xf32>)
        outs(%s : memref<128x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %a = arith.addf %acc, %p : f32
      linalg.yield %a : f32
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// What stays SIMT: a short reduction (the inverse's merges, K = 32 <
// min-reduction), N not a multiple of 8, a bf16 accumulator (bf16 x bf16
// + f32: matmuls-to-mma-sync-16bit.mlir), and a matmul
// outside any block loop.
// CHECK-LABEL: func.func @rejected
// CHECK-NOT: nvgpu.mma.sync
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<32x32xf32>, memref<32x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<64x64xf32>, memref<64x12xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<64x64xbf16>, memref<64x64xbf16>) outs(%{{.*}} : memref<64x64xbf16>)
// CHECK: } {mapping = [#gpu.block<x>]}
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<64x64xf32>, memref<64x64xf32>)
func.func @rejected(%a: memref<32x32xf32>, %b: memref<32x32xf32>, %c: memref<32x32xf32>,
                    %d: memref<64x64xf32>, %e: memref<64x12xf32>, %f: memref<64x12xf32>,
                    %g: memref<64x64xbf16>, %h: memref<64x64xf32>, %gc: memref<64x64xbf16>) {
  scf.forall (%i) in (1) {
    linalg.matmul ins(%a, %b : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>)
    linalg.matmul ins(%d, %e : memref<64x64xf32>, memref<64x12xf32>) outs(%f : memref<64x12xf32>)
    linalg.matmul ins(%g, %g : memref<64x64xbf16>, memref<64x64xbf16>) outs(%gc : memref<64x64xbf16>)
  } {mapping = [#gpu.block<x>]}
  linalg.matmul ins(%d, %d : memref<64x64xf32>, memref<64x64xf32>) outs(%h : memref<64x64xf32>)
  return
}

// -----

// A zero fill whose zeros are read before the product (here copied out)
// stays: the accumulators then load C as before. With
// fold-accumulator-copies=true (prefix COPY) the copy of C is taken over by
// the fragment loads.
// CHECK-LABEL: func.func @fill_read_before
// CHECK: linalg.fill
// CHECK: memref.copy
// CHECK: scf.forall
// CHECK: memref.load
// CHECK: nvgpu.mma.sync
// COPY-LABEL: func.func @fill_read_before
// COPY: linalg.fill
// COPY-NOT: memref.copy
// COPY: scf.forall
// COPY: memref.load
// COPY: vector.store %{{.*}} : memref<64x8xf32>, vector<2xf32>
// COPY: nvgpu.mma.sync
func.func @fill_read_before(%a: memref<64x128xf32, #gpu.address_space<workgroup>>, %b: memref<128x8xf32, #gpu.address_space<workgroup>>, %zeros: memref<64x8xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) in (1) {
    %c = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    linalg.fill ins(%zero : f32) outs(%c : memref<64x8xf32, #gpu.address_space<workgroup>>)
    memref.copy %c, %zeros : memref<64x8xf32, #gpu.address_space<workgroup>> to memref<64x8xf32>
    linalg.matmul ins(%a, %b : memref<64x128xf32, #gpu.address_space<workgroup>>, memref<128x8xf32, #gpu.address_space<workgroup>>)
                  outs(%c : memref<64x8xf32, #gpu.address_space<workgroup>>)
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// The output stage's o = (q exp(g)) S + A v_new: the second product
// accumulates onto the first's result (the next op, same accumulator).
// With chain-products: one warp loop, the two K loops one after the other
// on the same 16 register accumulators (zero registers: the fill goes),
// stored once. By default (measured faster on the H200, see the option):
// two warp loops, the partial sum stored and reloaded in between.
// CHAIN-LABEL: func.func @output_chain
// CHAIN-NOT: linalg.fill
// CHAIN: scf.forall (%{{.*}}) in (4)
// CHAIN: %[[FIRST:.*]]:16 = scf.for %{{.*}} = %c0 to %c128 step %c8 iter_args(
// CHAIN-COUNT-16: nvgpu.mma.sync
// CHAIN: scf.yield
// CHAIN: scf.for %{{.*}} = %c0 to %c64 step %c8 iter_args(%{{.*}} = %[[FIRST]]#0,
// CHAIN-COUNT-16: nvgpu.mma.sync
// CHAIN: scf.yield
// CHAIN-COUNT-64: memref.store
// CHAIN: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHAIN-NOT: nvgpu.mma.sync
// CHAIN: } {mapping = [#gpu.block<x>]}
// CHECK-LABEL: func.func @output_chain
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c8 iter_args(
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK: scf.for %{{.*}} = %c0{{(_[0-9]+)?}} to %c64{{(_[0-9]+)?}} step %c8{{(_[0-9]+)?}} iter_args(
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
func.func @output_chain(%qg: memref<1x64x128xf32, #gpu.address_space<workgroup>>, %s: memref<1x128x128xf32>,
                        %a: memref<1x64x64xf32, #gpu.address_space<workgroup>>, %vn: memref<1x64x128xf32, #gpu.address_space<workgroup>>,
                        %o: memref<1x64x128xf32, #gpu.address_space<workgroup>>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) in (1) {
    linalg.fill ins(%zero : f32) outs(%o : memref<1x64x128xf32, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%qg, %s : memref<1x64x128xf32, #gpu.address_space<workgroup>>, memref<1x128x128xf32>)
                        outs(%o : memref<1x64x128xf32, #gpu.address_space<workgroup>>)
    linalg.batch_matmul ins(%a, %vn : memref<1x64x64xf32, #gpu.address_space<workgroup>>, memref<1x64x128xf32, #gpu.address_space<workgroup>>)
                        outs(%o : memref<1x64x128xf32, #gpu.address_space<workgroup>>)
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// The state scan's update after its decay: `S *= exp(g_last)` in place,
// then `S += k^T v` (k read transposed). The decay is applied to the
// accumulator fragments as they are loaded (one exp of g_last, a multiply
// per element) and its block phase goes; S is still loaded and stored
// once per element by the warp tiles. With fold-accumulator-producers=false
// (NOFOLD) the decay stays a linalg.generic before the warp loop.
// CHECK-LABEL: func.func @decayed_accumulator
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: memref.load %{{.*}}[] : memref<f32>
// CHECK: math.exp
// CHECK: arith.mulf
// CHECK: scf.for {{.*}} iter_args
// CHECK: nvgpu.mma.sync
// CHECK: memref.store
// CHECK-NOT: linalg.generic
// CHECK: } {mapping = [#gpu.block<x>]}
// NOFOLD-LABEL: func.func @decayed_accumulator
// NOFOLD: linalg.generic
// NOFOLD: math.exp
// NOFOLD: scf.forall (%{{.*}}) in (4)
// NOFOLD-NOT: math.exp
// NOFOLD: nvgpu.mma.sync
#d_s = affine_map<(d0, d1) -> (d0, d1)>
#d_g = affine_map<(d0, d1) -> ()>
#d_km = affine_map<(m, n, r) -> (r, m)>
#d_kn = affine_map<(m, n, r) -> (r, n)>
#d_mn = affine_map<(m, n, r) -> (m, n)>
func.func @decayed_accumulator(%k: memref<64x128xf32, #gpu.address_space<workgroup>>, %v: memref<64x8xf32, #gpu.address_space<workgroup>>,
                               %glast: memref<f32>) {
  scf.forall (%i) in (1) {
    %s = memref.alloc() : memref<128x8xf32, #gpu.address_space<workgroup>>
    linalg.generic {indexing_maps = [#d_g, #d_s], iterator_types = ["parallel", "parallel"]}
        ins(%glast : memref<f32>) outs(%s : memref<128x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%g: f32, %x: f32):
      %e = math.exp %g : f32
      %y = arith.mulf %x, %e : f32
      linalg.yield %y : f32
    }
    linalg.generic {indexing_maps = [#d_km, #d_kn, #d_mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%k, %v : memref<64x128xf32, #gpu.address_space<workgroup>>, memref<64x8xf32, #gpu.address_space<workgroup>>)
        outs(%s : memref<128x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %a = arith.addf %acc, %p : f32
      linalg.yield %a : f32
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// Not folded: the accumulator is read between its update and the product
// (copied out; with fold-accumulator-copies=true the copy itself is taken
// over by the fragment loads, after the update), and an update that does
// not read the old value (a copy).
// CHECK-LABEL: func.func @decay_not_folded
// CHECK: linalg.generic
// CHECK: memref.copy
// CHECK: nvgpu.mma.sync
// CHECK: linalg.generic
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK-NOT: math.exp
// CHECK: nvgpu.mma.sync
#d_s = affine_map<(d0, d1) -> (d0, d1)>
#d_g = affine_map<(d0, d1) -> ()>
#d_km = affine_map<(m, n, r) -> (r, m)>
#d_kn = affine_map<(m, n, r) -> (r, n)>
#d_mn = affine_map<(m, n, r) -> (m, n)>
func.func @decay_not_folded(%k: memref<64x128xf32, #gpu.address_space<workgroup>>, %v: memref<64x8xf32, #gpu.address_space<workgroup>>,
                            %glast: memref<f32>, %out: memref<128x8xf32>) {
  scf.forall (%i) in (1) {
    %s = memref.alloc() : memref<128x8xf32, #gpu.address_space<workgroup>>
    linalg.generic {indexing_maps = [#d_g, #d_s], iterator_types = ["parallel", "parallel"]}
        ins(%glast : memref<f32>) outs(%s : memref<128x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%g: f32, %x: f32):
      %e = math.exp %g : f32
      %y = arith.mulf %x, %e : f32
      linalg.yield %y : f32
    }
    memref.copy %s, %out : memref<128x8xf32, #gpu.address_space<workgroup>> to memref<128x8xf32>
    linalg.generic {indexing_maps = [#d_km, #d_kn, #d_mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%k, %v : memref<64x128xf32, #gpu.address_space<workgroup>>, memref<64x8xf32, #gpu.address_space<workgroup>>)
        outs(%s : memref<128x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %a = arith.addf %acc, %p : f32
      linalg.yield %a : f32
    }
    %t = memref.alloc() : memref<128x8xf32, #gpu.address_space<workgroup>>
    linalg.generic {indexing_maps = [#d_g, #d_s], iterator_types = ["parallel", "parallel"]}
        ins(%glast : memref<f32>) outs(%t : memref<128x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%g: f32, %x: f32):
      linalg.yield %g : f32
    }
    linalg.generic {indexing_maps = [#d_km, #d_kn, #d_mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%k, %v : memref<64x128xf32, #gpu.address_space<workgroup>>, memref<64x8xf32, #gpu.address_space<workgroup>>)
        outs(%t : memref<128x8xf32, #gpu.address_space<workgroup>>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %a = arith.addf %acc, %p : f32
      linalg.yield %a : f32
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// The state scan's chunk: S copied to `states`, decayed and updated. S (a
// block allocation of rows of 16 words) gets its rows padded by 8
// (accumulator-row-padding); the copy stays by default. With
// fold-accumulator-copies=true (prefix COPY) the copy is taken over by the
// fragment loads: each lane stores the raw elements it loads to `states`
// (a register's two adjacent elements as one vector store, before the
// decay, which is folded into the loaded values), and the copy goes. With
// mark-carried-accumulators (MARK) the fragment's load and its stores are
// marked for deltanet-gpu-carry-accumulators and the register block loops
// of one iteration are left out.
// CHECK-LABEL: func.func @copy_folded
// CHECK: %[[PADDED:.*]] = memref.alloc() : memref<128x24xf32>
// CHECK: %[[S:.*]] = memref.subview %[[PADDED]][0, 0] [128, 16] [1, 1]
// CHECK: scf.for %
// CHECK: memref.copy %[[S]], %{{.*}} : memref<128x16xf32, strided<[24, 1]>> to memref<128x16xf32, strided<[16, 1], offset: ?>>
// CHECK: scf.forall
// CHECK-NOT: vector.extract
// CHECK: math.exp
// CHECK: nvgpu.mma.sync
// CHECK: memref.store %{{.*}}, %[[S]]
// COPY-LABEL: func.func @copy_folded
// COPY: scf.for %
// COPY-NOT: memref.copy
// COPY: scf.forall
// COPY: %[[RAW:.*]] = vector.from_elements
// COPY: %[[E:.*]] = vector.extract %[[RAW]][0, 0]
// COPY: %[[ROW:.*]] = vector.extract %[[RAW]][0] : vector<2xf32> from vector<2x2xf32>
// COPY: vector.store %[[ROW]], %{{.*}} : memref<128x16xf32, strided<[16, 1], offset: ?>>, vector<2xf32>
// COPY: math.exp
// COPY: arith.mulf %[[E]]
// COPY: nvgpu.mma.sync
// MARK-LABEL: func.func @copy_folded
// MARK: scf.forall
// MARK-NOT: scf.for %{{.*}} = %{{.*}} to %c32 step %c32
// MARK: vector.from_elements {{.*}} {deltanet.carried_accumulator = array<i64: 0, 0>}
// MARK: vector.from_elements {{.*}} {deltanet.carried_accumulator = array<i64: 0, 1>}
// MARK: nvgpu.mma.sync
// MARK: memref.store {{.*}} {deltanet.carried_accumulator = array<i64: 0, 0>}
#c_s = affine_map<(d0, d1) -> (d0, d1)>
#c_g = affine_map<(d0, d1) -> ()>
#c_km = affine_map<(m, n, r) -> (r, m)>
#c_kn = affine_map<(m, n, r) -> (r, n)>
#c_mn = affine_map<(m, n, r) -> (m, n)>
func.func @copy_folded(%k: memref<64x128xf32, #gpu.address_space<workgroup>>, %v: memref<64x16xf32, #gpu.address_space<workgroup>>,
                       %glast: memref<f32>, %h0: memref<128x16xf32>, %states: memref<4x128x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.forall (%i) in (1) {
    %s = memref.alloc() : memref<128x16xf32>
    memref.copy %h0, %s : memref<128x16xf32> to memref<128x16xf32>
    scf.for %c = %c0 to %c4 step %c1 {
      %state = memref.subview %states[%c, 0, 0] [1, 128, 16] [1, 1, 1] : memref<4x128x16xf32> to memref<128x16xf32, strided<[16, 1], offset: ?>>
      memref.copy %s, %state : memref<128x16xf32> to memref<128x16xf32, strided<[16, 1], offset: ?>>
      linalg.generic {indexing_maps = [#c_g, #c_s], iterator_types = ["parallel", "parallel"]}
          ins(%glast : memref<f32>) outs(%s : memref<128x16xf32>) {
      ^bb0(%g: f32, %x: f32):
        %e = math.exp %g : f32
        %y = arith.mulf %x, %e : f32
        linalg.yield %y : f32
      }
      linalg.generic {indexing_maps = [#c_km, #c_kn, #c_mn], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%k, %v : memref<64x128xf32, #gpu.address_space<workgroup>>, memref<64x16xf32, #gpu.address_space<workgroup>>)
          outs(%s : memref<128x16xf32>) {
      ^bb0(%x: f32, %y: f32, %acc: f32):
        %p = arith.mulf %x, %y : f32
        %a = arith.addf %acc, %p : f32
        linalg.yield %a : f32
      }
    }
  } {mapping = [#gpu.block<x>]}
  return
}
