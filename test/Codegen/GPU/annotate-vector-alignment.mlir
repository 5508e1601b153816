// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16" --split-input-file | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16 check-global-alignment=false" --split-input-file | FileCheck %s --check-prefix=PROMISED
// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment --split-input-file | FileCheck %s --check-prefix=NONE
// RUN: not deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=24" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// A kernel reading rows of a function argument (a caller's buffer, alignment
// unknown) four floats at a time and writing them to a buffer the program
// allocated (gpu.alloc: 16-byte aligned by the driver). With the checked
// global-alignment (the default), the host tests the argument's address and
// the load is versioned: a 16-byte vector load, or four scalar loads (a
// vector load with the element's alignment would be merged with the aligned
// one by LLVM). The store to the gpu.alloc buffer needs no check.

// CHECK-LABEL: func.func @rows(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<?x64xf32>
// CHECK-DAG: %[[MASK:.*]] = arith.constant 15 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: %[[LOW:.*]] = arith.andi %[[P]], %[[MASK]]
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[LOW]], %[[ZERO]]
// CHECK: gpu.launch
// CHECK: %[[V:.*]] = scf.if %[[OK]] -> (vector<4xf32>) {
// CHECK-NEXT: %[[VA:.*]] = vector.load %[[A]][{{.*}}] {alignment = 16 : i64}
// CHECK-NEXT: scf.yield %[[VA]]
// CHECK-NEXT: } else {
// CHECK-COUNT-4: memref.load %[[A]]
// CHECK: %[[VS:.*]] = vector.from_elements
// CHECK-NEXT: scf.yield %[[VS]]
// CHECK: vector.store %[[V]], {{.*}} {alignment = 16 : i64}
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: deltanet.alignment_versioned

// Promised (check-global-alignment=false): no check, one body, 16-byte loads.
// PROMISED-LABEL: func.func @rows(
// PROMISED-NOT: extract_aligned_pointer
// PROMISED-NOT: scf.if
// PROMISED: vector.load {{.*}} {alignment = 16 : i64}
// PROMISED-NOT: scf.if

// No global alignment: one body, element-aligned loads, aligned stores.
// NONE-LABEL: func.func @rows(
// NONE-NOT: scf.if
// NONE: vector.load %{{.*}} : memref<?x64xf32>, vector<4xf32>
// NONE: vector.store {{.*}} {alignment = 16 : i64}

// BAD: global-alignment must be 0 or a power of two, got 24
func.func @rows(%a: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  %buf = gpu.alloc (%n) : memref<?x64xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c16, %sy = %c1, %sz = %c1) {
    %col = arith.muli %tx, %c4 : index
    %v = vector.load %a[%bx, %col] : memref<?x64xf32>, vector<4xf32>
    vector.store %v, %buf[%bx, %col] : memref<?x64xf32>, vector<4xf32>
    gpu.barrier
    gpu.terminator
  }
  return
}

// -----

// Two arguments: one check each, combined; the store to the second is
// versioned too (scalar stores of the extracted elements). A read at an odd
// column offset gains nothing from the promise (4-byte aligned at best): no
// check, no branch.

// CHECK-LABEL: func.func @two(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<8x64xf32>, %[[B:[a-z0-9]+]]: memref<8x64xf32>
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: %[[BOTH:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// CHECK: gpu.launch
// CHECK: %[[V:.*]] = scf.if %[[BOTH]] -> (vector<4xf32>) {
// CHECK: vector.load %[[A]]{{.*}} {alignment = 16 : i64}
// CHECK: } else {
// CHECK-COUNT-4: memref.load %[[A]]
// CHECK: scf.if %[[BOTH]] {
// CHECK-NEXT: vector.store %[[V]], %[[B]]{{.*}} {alignment = 16 : i64}
// CHECK-NEXT: } else {
// CHECK-COUNT-4: memref.store %{{.*}}, %[[B]]
// CHECK: gpu.terminator
// CHECK-LABEL: func.func @odd(
// CHECK-NOT: extract_aligned_pointer
// CHECK-NOT: scf.if
// CHECK: gpu.terminator
func.func @two(%a: memref<8x64xf32>, %b: memref<8x64xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c16, %sy = %c1, %sz = %c1) {
    %col = arith.muli %tx, %c4 : index
    %v = vector.load %a[%bx, %col] : memref<8x64xf32>, vector<4xf32>
    vector.store %v, %b[%bx, %col] : memref<8x64xf32>, vector<4xf32>
    gpu.terminator
  }
  return
}

func.func @odd(%a: memref<8x64xf32>, %b: memref<8x64xf32>) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c16, %sy = %c1, %sz = %c1) {
    %col = arith.addi %tx, %c1 : index
    %v = vector.load %a[%bx, %col] : memref<8x64xf32>, vector<4xf32>
    vector.store %v, %b[%bx, %col] : memref<8x64xf32>, vector<4xf32>
    gpu.terminator
  }
  return
}
