// RUN: deltanet-opt %s --deltanet-cpu-flatten-vector-transfers | FileCheck %s
//
// Upstream flattening on contiguous slices, and the shapes its contiguity
// check (vector::isContiguousSlice, MLIR 22) cannot be asked about: a
// broadcasting transfer (vector rank above the memref's) and an all-unit vector
// (vector<1x1xf32>). Under ASan (.ci/run) the last two crashed the pass.

// CHECK-LABEL: func.func @contiguous_rows
// CHECK:         %[[ROWS:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : memref<1x8x16x2xbf16> into memref<1x8x32xbf16>
// CHECK:         %[[V:.*]] = vector.transfer_read %[[ROWS]]{{.*}} : memref<1x8x32xbf16>, vector<32xbf16>
// CHECK:         vector.shape_cast %[[V]] : vector<32xbf16> to vector<1x1x16x2xbf16>
func.func @contiguous_rows(%src: memref<1x8x16x2xbf16>, %i: index) -> vector<1x1x16x2xbf16> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : bf16
  %v = vector.transfer_read %src[%c0, %i, %c0, %c0], %pad {in_bounds = [true, true, true, true]} : memref<1x8x16x2xbf16>, vector<1x1x16x2xbf16>
  return %v : vector<1x1x16x2xbf16>
}

// CHECK-LABEL: func.func @broadcasting
// CHECK:         %[[ROW:.*]] = vector.transfer_read %{{.*}} : memref<16xf32, strided<[1]>>, vector<16xf32>
// CHECK:         vector.broadcast %[[ROW]] : vector<16xf32> to vector<1x1x16xf32>
func.func @broadcasting(%src: memref<1x16xf32>) -> vector<1x1x16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %src[%c0, %c0], %pad {in_bounds = [true, true, true], permutation_map = affine_map<(d0, d1) -> (d0, 0, d1)>} : memref<1x16xf32>, vector<1x1x16xf32>
  return %v : vector<1x1x16xf32>
}

// CHECK-LABEL: func.func @single_element
// CHECK:         %[[X:.*]] = vector.transfer_read %{{.*}}[], %{{.*}} : memref<f32, strided<[], offset: ?>>, vector<f32>
// CHECK:         vector.transfer_write %[[X]], %{{.*}}[] : vector<f32>, memref<f32>
func.func @single_element(%src: memref<1x1xf32, strided<[16, 1], offset: ?>>, %dst: memref<1x1xf32>) {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %src[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x1xf32, strided<[16, 1], offset: ?>>, vector<1x1xf32>
  vector.transfer_write %v, %dst[%c0, %c0] {in_bounds = [true, true]} : vector<1x1xf32>, memref<1x1xf32>
  return
}

// CHECK-LABEL: func.func @zero_d
// CHECK:         %[[X:.*]] = vector.transfer_read %{{.*}}[], %{{.*}} : memref<f32>, vector<f32>
// CHECK:         vector.broadcast %[[X]] : vector<f32> to vector<1x1xf32>
func.func @zero_d(%src: memref<f32>) -> vector<1x1xf32> {
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %src[], %pad {permutation_map = affine_map<() -> (0, 0)>, in_bounds = [true, true]} : memref<f32>, vector<1x1xf32>
  return %v : vector<1x1xf32>
}
