// RUN: deltanet-opt %s --deltanet-cpu-copies-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @strided
// CHECK: linalg.copy ins(%{{.*}} : memref<4x8x8xf32, strided<[256, 16, 1], offset: 34>>) outs(%{{.*}} : memref<4x8x8xf32>)
// CHECK-NOT: memref.copy
func.func @strided(%a: memref<4x16x16xf32>, %b: memref<4x8x8xf32>) {
  %s = memref.subview %a[0, 2, 2] [4, 8, 8] [1, 1, 1] : memref<4x16x16xf32> to memref<4x8x8xf32, strided<[256, 16, 1], offset: 34>>
  memref.copy %s, %b : memref<4x8x8xf32, strided<[256, 16, 1], offset: 34>> to memref<4x8x8xf32>
  return
}

// Contiguous copies stay memref.copy (memcpy in LLVM).
// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy
// CHECK-NOT: linalg.copy
func.func @contiguous(%a: memref<4x16x16xf32>, %b: memref<4x16x16xf32>) {
  memref.copy %a, %b : memref<4x16x16xf32> to memref<4x16x16xf32>
  return
}
