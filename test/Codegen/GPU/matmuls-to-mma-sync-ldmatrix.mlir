// 16-bit A / B fragments in shared memory read with nvgpu.ldmatrix (A: 4
// matrices, B: 2; .trans where the operand's row index is innermost), where
// each 8-element row segment is contiguous and 16-byte aligned; the others
// stay per element.
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="ldmatrix=false" | FileCheck %s --check-prefix=OFF
// The PTX (ldmatrix.sync.aligned...): test/Pipelines/gpu-pipeline-16bit-products.mlir.

// A = [M][K] (K innermost): ldmatrix .x4; B = [K][N] (N innermost):
// .x2.trans. Rows of 72 bf16 (144 bytes: 16-byte aligned, and the 8 rows
// of a matrix 36 words apart fall in distinct banks). Lane l addresses row
// l mod 16 of A at column 8 floor(l / 16), and row (K) l mod 16 of B.
// CHECK-DAG: #[[AROW:.*]] = affine_map<(d0)[s0] -> (d0 + s0 + ((s0 mod 32) floordiv 8) * 8 - (((s0 mod 32) floordiv 8) floordiv 2) * 16 - (s0 floordiv 8) * 8)>
// CHECK-DAG: #[[ACOL:.*]] = affine_map<(d0)[s0] -> (d0 + (((s0 mod 32) floordiv 8) floordiv 2) * 8)>
// CHECK-DAG: #[[BK:.*]] = affine_map<(d0)[s0] -> (d0 + s0 + ((s0 mod 16) floordiv 8) * 8 - (s0 floordiv 8) * 8)>
// CHECK-LABEL: func.func @a_rows_b_trans
// CHECK: %[[LANE:.*]] = gpu.lane_id
// CHECK: scf.for %[[K:.*]] = %c0 to %c64 step %c16 iter_args(
// CHECK: affine.apply #[[AROW]](%{{.*}})[%[[LANE]]]
// CHECK: affine.apply #[[ACOL]](%[[K]])[%[[LANE]]]
// CHECK: %[[A:.*]] = nvgpu.ldmatrix %{{.*}}[%{{.*}}, %{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: affine.apply #[[BK]](%[[K]])[%[[LANE]]]
// CHECK: %[[B:.*]] = nvgpu.ldmatrix %{{.*}}[%{{.*}}, %{{.*}}] {numTiles = 2 : i32, transpose = true} : memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>> -> vector<2x2xbf16>
// CHECK: nvgpu.mma.sync(%[[A]], %[[B]], %{{.*}}) {mmaShape = [16, 8, 16]}
// CHECK-NOT: memref.load {{.*}}xbf16
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// OFF-LABEL: func.func @a_rows_b_trans
// OFF-NOT: nvgpu.ldmatrix
// OFF: memref.load {{.*}}xbf16
// OFF-NOT: nvgpu.ldmatrix
func.func @a_rows_b_trans(%c: memref<64x64xf32>) {
  scf.forall (%i) in (1) {
    %ab = memref.alloc() : memref<64x72xbf16, #gpu.address_space<workgroup>>
    %bb = memref.alloc() : memref<64x72xbf16, #gpu.address_space<workgroup>>
    %a = memref.subview %ab[0, 0] [64, 64] [1, 1] : memref<64x72xbf16, #gpu.address_space<workgroup>> to memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
    %b = memref.subview %bb[0, 0] [64, 64] [1, 1] : memref<64x72xbf16, #gpu.address_space<workgroup>> to memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
    linalg.matmul ins(%a, %b : memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>, memref<64x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>)
                  outs(%c : memref<64x64xf32>)
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// K K^T in f16: A and B both read from one [rows][K] tile, B as [N][K] (K
// innermost): both without .trans; B's 16 lanes address rows l mod 8 at
// columns 8 (floor(l / 8) mod 2).
// CHECK-LABEL: func.func @gram_f16
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<64x128xf16, strided<[136, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = false} : memref<64x128xf16, strided<[136, 1]>, #gpu.address_space<workgroup>> -> vector<2x2xf16>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>)
func.func @gram_f16(%a: memref<64x64xf32>) {
  scf.forall (%i) in (1) {
    %kb = memref.alloc() : memref<64x136xf16, #gpu.address_space<workgroup>>
    %k = memref.subview %kb[0, 0] [64, 128] [1, 1] : memref<64x136xf16, #gpu.address_space<workgroup>> to memref<64x128xf16, strided<[136, 1]>, #gpu.address_space<workgroup>>
    linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                    iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%k, %k : memref<64x128xf16, strided<[136, 1]>, #gpu.address_space<workgroup>>, memref<64x128xf16, strided<[136, 1]>, #gpu.address_space<workgroup>>) outs(%a : memref<64x64xf32>) {
    ^bb0(%x: f16, %y: f16, %acc: f32):
      %xf = arith.extf %x : f16 to f32
      %yf = arith.extf %y : f16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// Per element: rows of 68 bf16 (136 bytes: the rows' 16-byte segments are
// not aligned), a tile at an offset of 4 elements (8 bytes), a workgroup
// buffer that is not an allocation (its alignment is unknown), and device
// memory.
// CHECK-LABEL: func.func @per_element
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: memref.load {{.*}} : memref<64x64xbf16, strided<[68, 1]>, #gpu.address_space<workgroup>>
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: memref.load {{.*}} : memref<64x64xbf16, strided<[72, 1], offset: 4>, #gpu.address_space<workgroup>>
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: memref.load {{.*}} : memref<64x64xbf16, #gpu.address_space<workgroup>>
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: memref.load {{.*}} : memref<64x64xbf16>
// CHECK-NOT: nvgpu.ldmatrix
func.func @per_element(%arg: memref<64x64xbf16, #gpu.address_space<workgroup>>, %dev: memref<64x64xbf16>, %c: memref<64x64xf32>) {
  scf.forall (%i) in (1) {
    %ub = memref.alloc() : memref<64x68xbf16, #gpu.address_space<workgroup>>
    %u = memref.subview %ub[0, 0] [64, 64] [1, 1] : memref<64x68xbf16, #gpu.address_space<workgroup>> to memref<64x64xbf16, strided<[68, 1]>, #gpu.address_space<workgroup>>
    %ob = memref.alloc() : memref<64x72xbf16, #gpu.address_space<workgroup>>
    %o = memref.subview %ob[0, 4] [64, 64] [1, 1] : memref<64x72xbf16, #gpu.address_space<workgroup>> to memref<64x64xbf16, strided<[72, 1], offset: 4>, #gpu.address_space<workgroup>>
    linalg.matmul ins(%u, %o : memref<64x64xbf16, strided<[68, 1]>, #gpu.address_space<workgroup>>, memref<64x64xbf16, strided<[72, 1], offset: 4>, #gpu.address_space<workgroup>>)
                  outs(%c : memref<64x64xf32>)
    linalg.matmul ins(%arg, %dev : memref<64x64xbf16, #gpu.address_space<workgroup>>, memref<64x64xbf16>)
                  outs(%c : memref<64x64xf32>)
  } {mapping = [#gpu.block<x>]}
  return
}
