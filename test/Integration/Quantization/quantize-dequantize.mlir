// The INT8 semantics, compiled and run on values whose results follow by hand
// from the op definitions (docs/DeltaNet): deltanet.quantize gives
// scale = max|x| / 127 and q = roundeven(x * 127 / max|x|) per slice (0 for an
// all-zero slice); deltanet.dequantize gives acc * lhs_scale * rhs_scale. The
// accuracy tests (int8-accuracy.test, ...) bound INT8 errors of ~5e-3 at
// about 3x: a systematic error below that (a 0.8% bias in the rescale) only
// shows on exact values like these.
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | %mlir_runner_O0 | FileCheck %s

// Row [1, -2, 4, 0.5]: max 4, x * 31.75 = 31.75, -63.5, 127, 15.875 ->
// 32, -64 (ties to even), 127, 16; scale 4 / 127 = 0.0314961. The zero row
// stays 0 with scale 0.
// CHECK: data =
// CHECK-NEXT: {{\[\[\[}}32,   -64,   127,   16],
// CHECK-NEXT: {{\[}}0,   0,   0,   0]]]
// CHECK: data =
// CHECK-NEXT: {{\[\[}}0.0314961,   0]]

// Dequantize per row / column: acc [[100, -7], [3, 1]] * [0.5, 0.25] (rows)
// * [0.25, 2] (columns) = [[12.5, -7], [0.1875, 0.5]], exactly.
// CHECK: data =
// CHECK-NEXT: {{\[\[\[}}12.5,   -7],
// CHECK-NEXT: {{\[}}0.1875,   0.5]]]
// Per matrix: acc * 0.5 * 0.25.
// CHECK: data =
// CHECK-NEXT: {{\[\[\[}}12.5,   -0.875],
// CHECK-NEXT: {{\[}}0.375,   0.125]]]

// A whole INT8 product: a = [1, -2, 4, 0.5] (q above), b = [0.5, 1, -1, 2]
// as a column: max 2, b * 63.5 = 31.75, 63.5, -63.5, 127 -> 32, 64 (ties to
// even), -64, 127; scale 2 / 127. i32 sum 32 * 32 - 64 * 64 - 127 * 64 +
// 16 * 127 = -9168; times (4 / 127) (2 / 127): -4.54734 (the exact product
// is -4.5: INT8 rounding).
// CHECK: data =
// CHECK-NEXT: {{\[\[\[}}-4.54734]]]

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %x = arith.constant dense<[[[1.0, -2.0, 4.0, 0.5], [0.0, 0.0, 0.0, 0.0]]]> : tensor<1x2x4xf32>
  %q, %s = deltanet.quantize %x along [2] : tensor<1x2x4xf32> -> tensor<1x2x4xi8>, tensor<1x2xf32>
  %qe = tensor.empty() : tensor<1x2x4xi32>
  %qw = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q : tensor<1x2x4xi8>) outs(%qe : tensor<1x2x4xi32>) {
  ^bb0(%v: i8, %o: i32):
    %w = arith.extsi %v : i8 to i32
    linalg.yield %w : i32
  } -> tensor<1x2x4xi32>
  %qm = bufferization.to_buffer %qw : tensor<1x2x4xi32> to memref<1x2x4xi32>
  %qu = memref.cast %qm : memref<1x2x4xi32> to memref<*xi32>
  call @printMemrefI32(%qu) : (memref<*xi32>) -> ()
  %sum = bufferization.to_buffer %s : tensor<1x2xf32> to memref<1x2xf32>
  %su = memref.cast %sum : memref<1x2xf32> to memref<*xf32>
  call @printMemrefF32(%su) : (memref<*xf32>) -> ()

  %acc = arith.constant dense<[[[100, -7], [3, 1]]]> : tensor<1x2x2xi32>
  %sa = arith.constant dense<[[0.5, 0.25]]> : tensor<1x2xf32>
  %sb = arith.constant dense<[[0.25, 2.0]]> : tensor<1x2xf32>
  %y = deltanet.dequantize %acc, %sa, %sb : (tensor<1x2x2xi32>, tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x2x2xf32>
  %yum = bufferization.to_buffer %y : tensor<1x2x2xf32> to memref<1x2x2xf32>
  %yu = memref.cast %yum : memref<1x2x2xf32> to memref<*xf32>
  call @printMemrefF32(%yu) : (memref<*xf32>) -> ()
  %ma = arith.constant dense<[0.5]> : tensor<1xf32>
  %mb = arith.constant dense<[0.25]> : tensor<1xf32>
  %z = deltanet.dequantize %acc, %ma, %mb : (tensor<1x2x2xi32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2xf32>
  %zum = bufferization.to_buffer %z : tensor<1x2x2xf32> to memref<1x2x2xf32>
  %zu = memref.cast %zum : memref<1x2x2xf32> to memref<*xf32>
  call @printMemrefF32(%zu) : (memref<*xf32>) -> ()

  %a = arith.constant dense<[[[1.0, -2.0, 4.0, 0.5]]]> : tensor<1x1x4xf32>
  %b = arith.constant dense<[[[0.5], [1.0], [-1.0], [2.0]]]> : tensor<1x4x1xf32>
  %qa, %scale_a = deltanet.quantize %a along [2] : tensor<1x1x4xf32> -> tensor<1x1x4xi8>, tensor<1x1xf32>
  %qb, %scale_b = deltanet.quantize %b along [1] : tensor<1x4x1xf32> -> tensor<1x4x1xi8>, tensor<1x1xf32>
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x1x1xi32>
  %zero = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x1x1xi32>) -> tensor<1x1x1xi32>
  %p = linalg.batch_matmul ins(%qa, %qb : tensor<1x1x4xi8>, tensor<1x4x1xi8>) outs(%zero : tensor<1x1x1xi32>) -> tensor<1x1x1xi32>
  %r = deltanet.dequantize %p, %scale_a, %scale_b : (tensor<1x1x1xi32>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1x1xf32>
  %rum = bufferization.to_buffer %r : tensor<1x1x1xf32> to memref<1x1x1xf32>
  %ru = memref.cast %rum : memref<1x1x1xf32> to memref<*xf32>
  call @printMemrefF32(%ru) : (memref<*xf32>) -> ()
  return
}
