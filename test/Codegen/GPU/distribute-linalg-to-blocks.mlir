// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-distribute-linalg-to-blocks="min-block-elements=1 min-reduction-outputs=1" --verify-diagnostics | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-distribute-linalg-to-blocks --verify-diagnostics | FileCheck %s --check-prefix=TILED

// The longest tiled loop goes on the grid's x (y and z hold at most 65535
// blocks): [T = 131072, HV = 4, V] tiles T and HV, T on x.
// CHECK-LABEL: func.func @long_on_x
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (131072, 4)
// CHECK: linalg.generic
// CHECK: } {mapping = [#gpu.block<x>, #gpu.block<y>]}
func.func @long_on_x(%x: tensor<131072x4x8xf32>) -> tensor<131072x4x8xf32> {
  %e = tensor.empty() : tensor<131072x4x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<131072x4x8xf32>) outs(%e : tensor<131072x4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  } -> tensor<131072x4x8xf32>
  return %r : tensor<131072x4x8xf32>
}

// -----

// Two loops above 65535: one of them would be y.
func.func @too_long(%x: tensor<70000x70000x4096xf32>) -> tensor<70000x70000x4096xf32> {
  %e = tensor.empty() : tensor<70000x70000x4096xf32>
  // expected-error @+1 {{would be a grid dimension y or z (at most 65535 blocks)}}
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<70000x70000x4096xf32>) outs(%e : tensor<70000x70000x4096xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<70000x70000x4096xf32>
  return %r : tensor<70000x70000x4096xf32>
}

// -----

// A host-level pad (the summary's values [0 | v]) becomes a fill and a
// linalg.copy into its slice, each on the grid; no tensor.pad is left.
// CHECK-LABEL: func.func @pad
// CHECK-NOT: tensor.pad
// CHECK: linalg.fill
// CHECK: } {mapping = [#gpu.block<x>, #gpu.block<y>]}
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %{{.*}}[0, 0, 16] [64, 2, 8] [1, 1, 1]
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %[[SLICE]])
// CHECK: linalg.copy
// CHECK: } {mapping = [#gpu.block<x>, #gpu.block<y>]}
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 16] [64, 2, 8] [1, 1, 1]
func.func @pad(%v: tensor<64x2x8xbf16>) -> tensor<64x2x24xbf16> {
  %zero = arith.constant 0.0 : bf16
  %p = tensor.pad %v low[0, 0, 16] high[0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index):
    tensor.yield %zero : bf16
  } : tensor<64x2x8xbf16> to tensor<64x2x24xbf16>
  return %p : tensor<64x2x24xbf16>
}

// -----

// The attention's gather of v ([B, T, HV, V] bf16 -> [B, HV, NC, C, V] f32):
// with min-block-elements=1 one block per token and head (a row of 128
// elements: 262144 blocks at T = 8192, HV = 32); by default (2048) each
// block also takes 16 of the chunk's 64 tokens (16 x 128 elements, grid
// 32 x 128 x 4), and the block loop is normalised (step 1).
// CHECK-LABEL: func.func @gather
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (32, 128, 64)
// CHECK: tensor.extract_slice %{{.*}} [1, 1, 1, 128] [1, 1, 1, 1] : tensor<1x8192x32x128xbf16> to tensor<1x1x1x128xbf16>
// TILED-LABEL: func.func @gather
// TILED: scf.forall (%{{.*}}, %{{.*}}, %[[C:.*]]) in (32, 128, 4)
// TILED: %[[C16:.*]] = affine.apply #{{.*}}(%[[C]])
// TILED: tensor.extract_slice %{{.*}} [1, 16, 1, 128] [1, 1, 1, 1] : tensor<1x8192x32x128xbf16> to tensor<1x16x1x128xbf16>
// TILED: tensor.extract_slice %{{.*}}[0, %{{.*}}, %{{.*}}, %[[C16]], 0] [1, 1, 1, 16, 128]
// TILED: linalg.generic
// TILED: } {mapping = [#gpu.block<y>, #gpu.block<x>, #gpu.block<z>]}
func.func @gather(%v: tensor<1x8192x32x128xbf16>) -> tensor<1x32x128x64x128xf32> {
  %e = tensor.empty() : tensor<1x32x128x64x128xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, n, c, d) -> (b, n * 64 + c, h, d)>, affine_map<(b, h, n, c, d) -> (b, h, n, c, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%v : tensor<1x8192x32x128xbf16>) outs(%e : tensor<1x32x128x64x128xf32>) {
  ^bb0(%a: bf16, %b: f32):
    %x = arith.extf %a : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x32x128x64x128xf32>
  return %r : tensor<1x32x128x64x128xf32>
}

// -----

// The scatter of o ([B, HV, NC, C, V] f32 -> [B, T, HV, V] bf16): blocks of
// 16 heads x 128 features of one token (grid 8192 x 2, tokens on x).
// TILED-LABEL: func.func @scatter
// TILED: scf.forall (%{{.*}}, %{{.*}}) in (8192, 2)
// TILED: tensor.extract_slice %{{.*}} [1, 16, 1, 1, 128] [1, 1, 1, 1, 1] : tensor<1x32x128x64x128xf32> to tensor<1x16x1x1x128xf32>
// TILED: } {mapping = [#gpu.block<x>, #gpu.block<y>]}
func.func @scatter(%o: tensor<1x32x128x64x128xf32>) -> tensor<1x8192x32x128xbf16> {
  %e = tensor.empty() : tensor<1x8192x32x128xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(b, t, h, d) -> (b, h, t floordiv 64, t mod 64, d)>, affine_map<(b, t, h, d) -> (b, t, h, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%o : tensor<1x32x128x64x128xf32>) outs(%e : tensor<1x8192x32x128xbf16>) {
  ^bb0(%a: f32, %b: bf16):
    %x = arith.truncf %a : f32 to bf16
    linalg.yield %x : bf16
  } -> tensor<1x8192x32x128xbf16>
  return %r : tensor<1x8192x32x128xbf16>
}

// -----

// The attention's cumulative decay: a masked reduction into a zero fill used
// by nothing else. The fill goes into the reduction's block loop (each block
// fills its own slice of the accumulator: no launch of its own); the shared
// output of the loop is the fill's empty tensor.
// CHECK-LABEL: func.func @cumsum_fill_fused
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<256x64xf32>
// CHECK-NOT: linalg.fill
// CHECK: scf.forall (%[[N:.*]]) in (256) shared_outs(%[[OUT:.*]] = %[[EMPTY]])
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][%[[N]], 0] [1, 64]
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[SLICE]] : tensor<1x64xf32>)
// CHECK: linalg.generic {{.*}} outs(%[[ZERO]] : tensor<1x64xf32>)
// CHECK: } {mapping = [#gpu.block<x>]}
// By default a reduction's block holds at least min-reduction-outputs (512)
// outputs: 8 rows of 64 (all 128 threads busy with runs of 4 outputs; one
// row per block kept 16 busy), the fill still fused.
// TILED-LABEL: func.func @cumsum_fill_fused
// TILED-NOT: linalg.fill
// TILED: scf.forall (%[[N:.*]]) in (32) shared_outs(%[[OUT:.*]] = %{{.*}})
// TILED: %[[ROW:.*]] = affine.apply #{{.*}}(%[[N]])
// TILED: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][%[[ROW]], 0] [8, 64]
// TILED: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[SLICE]] : tensor<8x64xf32>)
// TILED: linalg.generic {{.*}} outs(%[[ZERO]] : tensor<8x64xf32>)
// TILED: } {mapping = [#gpu.block<x>]}
// A fill with another user stays a launch of its own.
// CHECK-LABEL: func.func @shared_fill_not_fused
// CHECK: linalg.fill
// CHECK: } {mapping = [#gpu.block<x>]}
// CHECK: scf.forall
// CHECK-NOT: linalg.fill
// CHECK: } {mapping = [#gpu.block<x>]}
#cumsum_in = affine_map<(n, i, j) -> (n, j)>
#cumsum_out = affine_map<(n, i, j) -> (n, i)>
func.func @cumsum_fill_fused(%g: tensor<256x64xf32>) -> tensor<256x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  %r = linalg.generic {indexing_maps = [#cumsum_in, #cumsum_out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%g : tensor<256x64xf32>) outs(%f : tensor<256x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %upto = arith.cmpi ule, %j, %i : index
    %addend = arith.select %upto, %in, %zero : f32
    %s = arith.addf %out, %addend : f32
    linalg.yield %s : f32
  } -> tensor<256x64xf32>
  return %r : tensor<256x64xf32>
}

func.func @shared_fill_not_fused(%g: tensor<256x64xf32>) -> (tensor<256x64xf32>, tensor<256x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<256x64xf32>) -> tensor<256x64xf32>
  %r = linalg.generic {indexing_maps = [#cumsum_in, #cumsum_out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%g : tensor<256x64xf32>) outs(%f : tensor<256x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<256x64xf32>
  return %r, %f : tensor<256x64xf32>, tensor<256x64xf32>
}
