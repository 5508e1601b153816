// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-fuse-into-blocks | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-gpu-fuse-into-blocks="max-gather-tile-bytes=1024 scatters=false" | FileCheck %s --check-prefix=SMALL
// RUN: not deltanet-opt %s --split-input-file --deltanet-gpu-fuse-into-blocks="gather-layouts=some" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: gather-layouts must be all, no-broadcast, matmul or none, got 'some'

// The attention's gather of q ([B, T, H, K] bf16 -> [B, HV, NC, C, K] f32,
// value head h reads head h / 2), read by one block per chunk through a
// collapse to [B * HV * NC, C, K]: each block gathers its own chunk from the
// bf16 argument; no host-level gather is left.
// CHECK: #[[GMAP:map[0-9]*]] = affine_map<(d0, d1, d2) -> (0, d1, 0, d2)>
// CHECK-LABEL: func.func @gather_into_block
// CHECK-SAME: (%[[Q:.*]]: tensor<1x128x1x16xbf16>
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%[[I:.*]]) in (4)
// CHECK: %[[IDX:.*]]:3 = affine.delinearize_index %[[I]] into (1, 2, 2)
// CHECK: %[[T:.*]] = affine.apply #{{.*}}(%[[IDX]]#2)
// CHECK: %[[H:.*]] = affine.apply #{{.*}}(%[[IDX]]#1)
// CHECK: %[[SRC:.*]] = tensor.extract_slice %[[Q]][%[[IDX]]#0, %[[T]], %[[H]], 0] [1, 64, 1, 16]
// The tile is gathered straight into the block's [1, C, K] layout (no
// collapse_shape left): a plain elementwise producer of its consumer.
// CHECK: linalg.generic {indexing_maps = [#[[GMAP]], #{{.*}}], {{.*}} ins(%[[SRC]] : tensor<1x64x1x16xbf16>) outs(%{{.*}} : tensor<1x64x16xf32>)
// CHECK: arith.extf
// CHECK-NOT: tensor.collapse_shape
// CHECK: } {mapping = [#gpu.block<x>]}
// A tile above max-gather-tile-bytes (4 KB here) stays a slice of the gather:
// SMALL-LABEL: func.func @gather_into_block
// SMALL: linalg.generic
// SMALL: tensor.collapse_shape
// SMALL: scf.forall
// SMALL: tensor.extract_slice %{{.*}}[%{{.*}}, 0, 0] [1, 64, 16]
#gather = affine_map<(b, h, n, c, x) -> (b, n * 64 + c, h floordiv 2, x)>
#id5 = affine_map<(b, h, n, c, x) -> (b, h, n, c, x)>
#id3 = affine_map<(n, c, x) -> (n, c, x)>
func.func @gather_into_block(%q: tensor<1x128x1x16xbf16>) -> tensor<4x64x16xf32> {
  %e = tensor.empty() : tensor<1x2x2x64x16xf32>
  %g = linalg.generic {indexing_maps = [#gather, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%q : tensor<1x128x1x16xbf16>) outs(%e : tensor<1x2x2x64x16xf32>) {
  ^bb0(%a: bf16, %b: f32):
    %w = arith.extf %a : bf16 to f32
    linalg.yield %w : f32
  } -> tensor<1x2x2x64x16xf32>
  %c = tensor.collapse_shape %g [[0, 1, 2], [3], [4]] : tensor<1x2x2x64x16xf32> into tensor<4x64x16xf32>
  %init = tensor.empty() : tensor<4x64x16xf32>
  %r = scf.forall (%i) in (4) shared_outs(%o = %init) -> (tensor<4x64x16xf32>) {
    %s = tensor.extract_slice %c[%i, 0, 0] [1, 64, 16] [1, 1, 1] : tensor<4x64x16xf32> to tensor<1x64x16xf32>
    %t = tensor.empty() : tensor<1x64x16xf32>
    %d = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%s : tensor<1x64x16xf32>) outs(%t : tensor<1x64x16xf32>) {
    ^bb0(%a: f32, %b: f32):
      %m = arith.mulf %a, %a : f32
      linalg.yield %m : f32
    } -> tensor<1x64x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %d into %o[%i, 0, 0] [1, 64, 16] [1, 1, 1] : tensor<1x64x16xf32> into tensor<4x64x16xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<4x64x16xf32>
}

// -----

// The output's scatter ([B * HV * NC, C, V] f32 -> [B, T, HV, V] bf16) is
// done by the output stage's blocks: each writes its chunk's tokens of its
// head in bf16; the loop's result is the scatter's.
// CHECK-LABEL: func.func @scatter_into_block
// CHECK: %[[DEST:.*]] = tensor.empty() : tensor<1x128x2x16xbf16>
// CHECK: scf.forall (%[[I:.*]]) in (4) shared_outs(%[[O:.*]] = %[[DEST]]) -> (tensor<1x128x2x16xbf16>)
// CHECK: %[[IDX:.*]]:3 = affine.delinearize_index %[[I]] into (1, 2, 2)
// CHECK: %[[T:.*]] = affine.apply #{{.*}}()[%[[IDX]]#2]
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3], [4]] output_shape [1, 1, 1, 64, 16]
// CHECK: arith.truncf
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[O]][%[[IDX]]#0, %[[T]], %[[IDX]]#1, 0] [1, 64, 1, 16]
// CHECK-NOT: linalg.generic
// CHECK: return
// SMALL-LABEL: func.func @scatter_into_block
// SMALL: scf.forall
// SMALL: } {mapping = [#gpu.block<x>]}
// SMALL: linalg.generic
// SMALL-SAME: ins(%{{.*}} : tensor<1x2x2x64x16xf32>)
#scatter = affine_map<(b, t, h, x) -> (b, h, t floordiv 64, t mod 64, x)>
#id4 = affine_map<(b, t, h, x) -> (b, t, h, x)>
#id3 = affine_map<(n, c, x) -> (n, c, x)>
func.func @scatter_into_block(%x: tensor<4x64x16xf32>) -> tensor<1x128x2x16xbf16> {
  %init = tensor.empty() : tensor<4x64x16xf32>
  %r = scf.forall (%i) in (4) shared_outs(%o = %init) -> (tensor<4x64x16xf32>) {
    %s = tensor.extract_slice %x[%i, 0, 0] [1, 64, 16] [1, 1, 1] : tensor<4x64x16xf32> to tensor<1x64x16xf32>
    %t = tensor.empty() : tensor<1x64x16xf32>
    %d = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%s : tensor<1x64x16xf32>) outs(%t : tensor<1x64x16xf32>) {
    ^bb0(%a: f32, %b: f32):
      %m = arith.mulf %a, %a : f32
      linalg.yield %m : f32
    } -> tensor<1x64x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %d into %o[%i, 0, 0] [1, 64, 16] [1, 1, 1] : tensor<1x64x16xf32> into tensor<4x64x16xf32>
    }
  } {mapping = [#gpu.block<x>]}
  %e = tensor.expand_shape %r [[0, 1, 2], [3], [4]] output_shape [1, 2, 2, 64, 16] : tensor<4x64x16xf32> into tensor<1x2x2x64x16xf32>
  %dest = tensor.empty() : tensor<1x128x2x16xbf16>
  %o = linalg.generic {indexing_maps = [#scatter, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : tensor<1x2x2x64x16xf32>) outs(%dest : tensor<1x128x2x16xbf16>) {
  ^bb0(%a: f32, %b: bf16):
    %n = arith.truncf %a : f32 to bf16
    linalg.yield %n : bf16
  } -> tensor<1x128x2x16xbf16>
  return %o : tensor<1x128x2x16xbf16>
}

// -----

// T = 100 is not a whole number of chunks (the last one padded): the
// scatter keeps its own loop (each block would write past T).
// CHECK-LABEL: func.func @ragged_scatter_stays
// CHECK: scf.forall
// CHECK: } {mapping = [#gpu.block<x>]}
// CHECK: linalg.generic
// CHECK: arith.truncf
#scatter = affine_map<(b, t, h, x) -> (b, h, t floordiv 64, t mod 64, x)>
#id4 = affine_map<(b, t, h, x) -> (b, t, h, x)>
func.func @ragged_scatter_stays(%x: tensor<4x64x16xf32>) -> tensor<1x100x2x16xbf16> {
  %init = tensor.empty() : tensor<4x64x16xf32>
  %r = scf.forall (%i) in (4) shared_outs(%o = %init) -> (tensor<4x64x16xf32>) {
    %s = tensor.extract_slice %x[%i, 0, 0] [1, 64, 16] [1, 1, 1] : tensor<4x64x16xf32> to tensor<1x64x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, 0, 0] [1, 64, 16] [1, 1, 1] : tensor<1x64x16xf32> into tensor<4x64x16xf32>
    }
  } {mapping = [#gpu.block<x>]}
  %e = tensor.expand_shape %r [[0, 1, 2], [3], [4]] output_shape [1, 2, 2, 64, 16] : tensor<4x64x16xf32> into tensor<1x2x2x64x16xf32>
  %dest = tensor.empty() : tensor<1x100x2x16xbf16>
  %o = linalg.generic {indexing_maps = [#scatter, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e : tensor<1x2x2x64x16xf32>) outs(%dest : tensor<1x100x2x16xbf16>) {
  ^bb0(%a: f32, %b: bf16):
    %n = arith.truncf %a : f32 to bf16
    linalg.yield %n : bf16
  } -> tensor<1x100x2x16xbf16>
  return %o : tensor<1x100x2x16xbf16>
}

// -----

// A gathered tile read only through a transpose (the output stage's k, used
// as k^T) is gathered straight into the transposed layout: no k tile next
// to k^T in shared memory.
// CHECK-LABEL: func.func @gather_into_transpose
// CHECK: scf.forall
// CHECK: %[[SRC:.*]] = tensor.extract_slice %arg0
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {{.*}} ins(%[[SRC]] : tensor<1x64x1x16xbf16>) outs(%{{.*}} : tensor<1x16x64xf32>)
// CHECK: arith.extf
// CHECK-NOT: linalg.transpose
#gather = affine_map<(b, h, n, c, x) -> (b, n * 64 + c, h floordiv 2, x)>
#id5 = affine_map<(b, h, n, c, x) -> (b, h, n, c, x)>
func.func @gather_into_transpose(%k: tensor<1x128x1x16xbf16>) -> tensor<4x16x64xf32> {
  %e = tensor.empty() : tensor<1x2x2x64x16xf32>
  %g = linalg.generic {indexing_maps = [#gather, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%k : tensor<1x128x1x16xbf16>) outs(%e : tensor<1x2x2x64x16xf32>) {
  ^bb0(%a: bf16, %b: f32):
    %w = arith.extf %a : bf16 to f32
    linalg.yield %w : f32
  } -> tensor<1x2x2x64x16xf32>
  %c = tensor.collapse_shape %g [[0, 1, 2], [3], [4]] : tensor<1x2x2x64x16xf32> into tensor<4x64x16xf32>
  %init = tensor.empty() : tensor<4x16x64xf32>
  %r = scf.forall (%i) in (4) shared_outs(%o = %init) -> (tensor<4x16x64xf32>) {
    %s = tensor.extract_slice %c[%i, 0, 0] [1, 64, 16] [1, 1, 1] : tensor<4x64x16xf32> to tensor<1x64x16xf32>
    %t = tensor.empty() : tensor<1x16x64xf32>
    %kt = linalg.transpose ins(%s : tensor<1x64x16xf32>) outs(%t : tensor<1x16x64xf32>) permutation = [0, 2, 1]
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %kt into %o[%i, 0, 0] [1, 16, 64] [1, 1, 1] : tensor<1x16x64xf32> into tensor<4x16x64xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<4x16x64xf32>
}
