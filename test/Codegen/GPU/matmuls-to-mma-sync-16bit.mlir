// bf16 / f16 operands (f32 accumulators) on mma.sync m16n8k16: the products
// that chunk-precision=bf16|f16 and tri-inv-precision=bf16|f16 make.
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-matmuls-to-mma-sync="stage-operand-bytes=32768" | FileCheck %s --check-prefix=STAGE

// wy_repr's product in bf16: 4 warps of 64 x 32, register blocks of 4 x 4
// accumulators as for f32, but K in steps of 16 (4 steps), A fragments of
// 4 registers x 2 bf16 and B fragments of 2 x 2, read as bf16 (no tf32
// rounding: the tensor core multiplies the bf16 values exactly).
// CHECK-LABEL: func.func @wy_product_bf16
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK-COUNT-16: vector.from_elements {{.*}} : vector<2x2xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c16 iter_args(
// CHECK-NOT: arith.constant 4096 : i32
// CHECK-COUNT-4: vector.from_elements {{.*}} : vector<4x2xbf16>
// CHECK: vector.from_elements {{.*}} : vector<2x2xbf16>
// CHECK-COUNT-4: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-COUNT-12: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK-COUNT-64: memref.store {{.*}} : memref<1x64x128xf32
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK-NOT: linalg.batch_matmul
// Staged: the device-memory operands copied to shared tiles in bf16 (half
// the bytes of f32), rows of 128 bytes padded by 4 words (8 bf16).
// STAGE-LABEL: func.func @wy_product_bf16
// STAGE: memref.alloc() : memref<1x64x72xbf16, #gpu.address_space<workgroup>>
// STAGE: memref.copy
// STAGE: memref.alloc() : memref<1x64x136xbf16, #gpu.address_space<workgroup>>
// STAGE: memref.copy
// STAGE: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>)
func.func @wy_product_bf16(%t: memref<4x64x64xbf16>, %x: memref<4x64x128xbf16>, %w: memref<4x64x128xf32>) {
  scf.forall (%i) in (4) {
    %ts = memref.subview %t[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xbf16> to memref<1x64x64xbf16, strided<[4096, 64, 1], offset: ?>>
    %xs = memref.subview %x[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xbf16> to memref<1x64x128xbf16, strided<[8192, 128, 1], offset: ?>>
    %ws = memref.subview %w[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    linalg.batch_matmul ins(%ts, %xs : memref<1x64x64xbf16, strided<[4096, 64, 1], offset: ?>>, memref<1x64x128xbf16, strided<[8192, 128, 1], offset: ?>>)
                        outs(%ws : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>)
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

// gated K K^T in f16 from a shared tile (K^T read through the map, one
// copy): f16 fragments, m16n8k16; the zero fill becomes zero registers.
// CHECK-LABEL: func.func @gram_f16
// CHECK-NOT: linalg.fill
// CHECK: arith.constant dense<0.000000e+00> : vector<2x2xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c16 iter_args(
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-NOT: linalg.generic
// STAGE-LABEL: func.func @gram_f16
// STAGE-NOT: memref.copy
// STAGE: nvgpu.mma.sync
func.func @gram_f16(%k: memref<64x128xf16, #gpu.address_space<workgroup>>, %a: memref<64x64xf32>) {
  scf.forall (%i) in (1) {
    %zero = arith.constant 0.0 : f32
    linalg.fill ins(%zero : f32) outs(%a : memref<64x64xf32>)
    linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                    iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%k, %k : memref<64x128xf16, #gpu.address_space<workgroup>>, memref<64x128xf16, #gpu.address_space<workgroup>>) outs(%a : memref<64x64xf32>) {
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

// Stay SIMT: mixed operand types (bf16 x f16, f32 x bf16), a bf16
// accumulator, and K = 24 (not a multiple of the bf16 shape's 16; f32's 8
// would do).
// CHECK-LABEL: func.func @rejected_16bit
// CHECK-NOT: nvgpu.mma.sync
// CHECK-COUNT-4: linalg.matmul
// CHECK-NOT: nvgpu.mma.sync
func.func @rejected_16bit(%a: memref<64x64xbf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>,
                          %f: memref<64x64xf32>, %cb: memref<64x64xbf16>, %a24: memref<64x24xbf16>, %b24: memref<24x64xbf16>) {
  scf.forall (%i) in (1) {
    linalg.matmul ins(%a, %b : memref<64x64xbf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
    linalg.matmul ins(%f, %a : memref<64x64xf32>, memref<64x64xbf16>) outs(%c : memref<64x64xf32>)
    linalg.matmul ins(%a, %a : memref<64x64xbf16>, memref<64x64xbf16>) outs(%cb : memref<64x64xbf16>)
    linalg.matmul ins(%a24, %b24 : memref<64x24xbf16>, memref<24x64xbf16>) outs(%c : memref<64x64xf32>)
  } {mapping = [#gpu.block<x>]}
  return
}
