// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16" --split-input-file | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16 versioning=phase" --split-input-file | FileCheck %s --check-prefix=PHASE
// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16 versioning=phase max-versioned-ops=0" --split-input-file | FileCheck %s --check-prefix=ACCESS
// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16 versioning=phase max-versioned-ops=3" --split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16 check-global-alignment=false" --split-input-file | FileCheck %s --check-prefix=PROMISED
// RUN: deltanet-opt %s --deltanet-gpu-annotate-vector-alignment --split-input-file | FileCheck %s --check-prefix=NONE
// RUN: not deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=24" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16 max-versioned-ops=-1" --split-input-file 2>&1 | FileCheck %s --check-prefix=BADMAX
// RUN: not deltanet-opt %s --deltanet-gpu-annotate-vector-alignment="global-alignment=16 versioning=loop" --split-input-file 2>&1 | FileCheck %s --check-prefix=BADVERSIONING

// With the checked global-alignment (the default), the host tests the
// addresses of the arguments that accesses rely on, once per launch, and
// chooses between the launch with aligned accesses and a copy of it with
// only the alignment provable without the promise: two kernels, one of
// them launched with no blocks (CHECK).
// With versioning=phase the choice is made inside the kernel: each phase of
// it (the ops between two barriers) holding accesses that rely on the
// alignment is one scf.if over the phase with aligned accesses and a copy
// with scalar ones (PHASE); with max-versioned-ops=0 every access is
// versioned on its own (ACCESS); a phase larger than max-versioned-ops is
// versioned in its nested phases, its own accesses one by one (SMALL).

// A kernel reading rows of a function argument (a caller's buffer, alignment
// unknown) four floats at a time and writing them to a buffer the program
// allocated (gpu.alloc: 16-byte aligned by the driver). With the checked
// global-alignment (the default), the host tests the argument's address and
// the load is versioned: a 16-byte vector load, or four scalar loads (a
// vector load with the element's alignment would be merged with the aligned
// one by LLVM). The store to the gpu.alloc buffer needs no check.

// ACCESS-LABEL: func.func @rows(
// ACCESS-SAME: %[[A:[a-z0-9]+]]: memref<?x64xf32>
// ACCESS-DAG: %[[MASK:.*]] = arith.constant 15 : index
// ACCESS-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// ACCESS: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// ACCESS: %[[LOW:.*]] = arith.andi %[[P]], %[[MASK]]
// ACCESS: %[[OK:.*]] = arith.cmpi eq, %[[LOW]], %[[ZERO]]
// ACCESS: gpu.launch
// ACCESS: %[[V:.*]] = scf.if %[[OK]] -> (vector<4xf32>) {
// ACCESS-NEXT: %[[VA:.*]] = vector.load %[[A]][{{.*}}] {alignment = 16 : i64}
// ACCESS-NEXT: scf.yield %[[VA]]
// ACCESS-NEXT: } else {
// ACCESS-COUNT-4: memref.load %[[A]]
// ACCESS: %[[VS:.*]] = vector.from_elements
// ACCESS-NEXT: scf.yield %[[VS]]
// ACCESS: vector.store %[[V]], {{.*}} {alignment = 16 : i64}
// ACCESS-NEXT: gpu.barrier
// ACCESS-NOT: deltanet.alignment_versioned

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
// BADMAX: max-versioned-ops must be >= 0, got -1
// BADVERSIONING: versioning must be kernel or phase, got 'loop'

// Versioned per kernel: the aligned launch, with blocks only when the
// addresses are aligned, and a copy of it with blocks only when they are
// not, whose load of the argument has the element's alignment only; the
// store to the gpu.alloc buffer is 16-byte aligned in both.
// CHECK-LABEL: func.func @rows(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<?x64xf32>
// CHECK: %[[N:.*]] = memref.dim %[[A]]
// CHECK: %[[OK:.*]] = arith.cmpi eq
// CHECK: %[[EMPTY:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[GA:.*]] = arith.select %[[OK]], %[[N]], %[[EMPTY]] : index
// CHECK-NEXT: %[[GS:.*]] = arith.select %[[OK]], %[[EMPTY]], %[[N]] : index
// CHECK-NEXT: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GA]],
// CHECK-NEXT: arith.muli
// CHECK-NEXT: vector.load %[[A]]{{.*}} {alignment = 16 : i64}
// CHECK-NEXT: vector.store {{.*}} {alignment = 16 : i64}
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GS]],
// CHECK-NEXT: arith.muli
// CHECK-NEXT: vector.load %[[A]][%{{.*}}, %{{.*}}] : memref<?x64xf32>, vector<4xf32>
// CHECK-NEXT: vector.store {{.*}} {alignment = 16 : i64}
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: return

// Versioned per phase: one branch before the barrier, holding the phase's
// load and store; the index arithmetic stays in front of it (both versions
// use it; the analysis of later phases still sees it); the barrier stays
// outside.
// PHASE-LABEL: func.func @rows(
// PHASE-SAME: %[[A:[a-z0-9]+]]: memref<?x64xf32>
// PHASE: %[[OK:.*]] = arith.cmpi eq
// PHASE: gpu.launch
// PHASE-NEXT: %[[COL:.*]] = arith.muli
// PHASE-NEXT: scf.if %[[OK]] {
// PHASE-NEXT: %[[VA:.*]] = vector.load %[[A]][%{{.*}}, %[[COL]]] {alignment = 16 : i64}
// PHASE-NEXT: vector.store %[[VA]], {{.*}} {alignment = 16 : i64}
// PHASE-NEXT: } else {
// PHASE-NEXT: memref.load %[[A]][%{{.*}}, %[[COL]]]
// PHASE-COUNT-3: memref.load %[[A]]
// PHASE: %[[VS:.*]] = vector.from_elements
// PHASE-NEXT: vector.store %[[VS]], {{.*}} {alignment = 16 : i64}
// PHASE-NEXT: }
// PHASE-NEXT: gpu.barrier
// PHASE-NEXT: gpu.terminator
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

// ACCESS-LABEL: func.func @two(
// ACCESS-SAME: %[[A:[a-z0-9]+]]: memref<8x64xf32>, %[[B:[a-z0-9]+]]: memref<8x64xf32>
// ACCESS: memref.extract_aligned_pointer_as_index %[[A]]
// ACCESS: memref.extract_aligned_pointer_as_index %[[B]]
// ACCESS: %[[BOTH:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// ACCESS: gpu.launch
// ACCESS: %[[V:.*]] = scf.if %[[BOTH]] -> (vector<4xf32>) {
// ACCESS: vector.load %[[A]]{{.*}} {alignment = 16 : i64}
// ACCESS: } else {
// ACCESS-COUNT-4: memref.load %[[A]]
// ACCESS: scf.if %[[BOTH]] {
// ACCESS-NEXT: vector.store %[[V]], %[[B]]{{.*}} {alignment = 16 : i64}
// ACCESS-NEXT: } else {
// ACCESS-COUNT-4: memref.store %{{.*}}, %[[B]]
// ACCESS: gpu.terminator
// CHECK-LABEL: func.func @two(
// CHECK: %[[BOTH:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// CHECK: arith.select %[[BOTH]]
// CHECK: arith.select %[[BOTH]]
// CHECK-NEXT: gpu.launch
// CHECK: vector.load {{.*}} {alignment = 16 : i64}
// CHECK-NEXT: vector.store {{.*}} {alignment = 16 : i64}
// CHECK: gpu.launch
// CHECK: vector.load {{.*}} : memref<8x64xf32>, vector<4xf32>
// CHECK-NEXT: vector.store {{.*}} : memref<8x64xf32>, vector<4xf32>
// CHECK-LABEL: func.func @odd(
// CHECK-NOT: extract_aligned_pointer
// CHECK-NOT: scf.if
// CHECK: gpu.terminator
// PHASE-LABEL: func.func @two(
// PHASE: %[[BOTH:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// PHASE: gpu.launch
// PHASE-NEXT: arith.muli
// PHASE-NEXT: scf.if %[[BOTH]] {
// PHASE: vector.load {{.*}} {alignment = 16 : i64}
// PHASE-NEXT: vector.store {{.*}} {alignment = 16 : i64}
// PHASE-NEXT: } else {
// PHASE-COUNT-4: memref.load
// PHASE-COUNT-4: memref.store
// PHASE-NEXT: }
// PHASE-NEXT: gpu.terminator
// PHASE-LABEL: func.func @odd(
// PHASE-NOT: extract_aligned_pointer
// PHASE-NOT: scf.if
// PHASE: gpu.terminator
// ACCESS-LABEL: func.func @odd(
// ACCESS-NOT: extract_aligned_pointer
// ACCESS-NOT: scf.if
// ACCESS: gpu.terminator
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

// -----

// A loop nest (the decode kernel's readout loops, the state's rows): the
// test is made once, outside the loop; the aligned branch has the loop with
// 16-byte loads, the other a copy of the loop with scalar loads. A value
// computed in the phase and used after the barrier is yielded by both
// branches. Each of the two phases is versioned on its own.
// CHECK-LABEL: func.func @nest(
// CHECK-NOT: scf.if
// CHECK: gpu.launch
// CHECK-NOT: scf.if
// CHECK: vector.load {{.*}} {alignment = 16 : i64}
// CHECK: vector.store {{.*}} {alignment = 16 : i64}
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: gpu.launch
// CHECK-NOT: scf.if
// CHECK: vector.load {{.*}} : memref<32x128x128xf32>, vector<4xf32>
// CHECK: vector.store {{.*}} : memref<32x128xf32>, vector<4xf32>
// PHASE-LABEL: func.func @nest(
// PHASE-SAME: %[[S:[a-z0-9]+]]: memref<32x128x128xf32>
// PHASE: %[[OK:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// PHASE: gpu.launch
// PHASE-NEXT: arith.muli
// PHASE-NEXT: %[[SUM:.*]] = scf.if %[[OK]] -> (vector<4xf32>) {
// PHASE-NEXT: %[[L1:.*]] = scf.for
// PHASE: vector.load %[[S]]{{.*}} {alignment = 16 : i64}
// PHASE-NOT: scf.if
// PHASE: scf.yield %[[L1]]
// PHASE-NEXT: } else {
// PHASE-NEXT: %[[L2:.*]] = scf.for
// PHASE-NOT: vector.load
// PHASE-COUNT-4: memref.load %[[S]]
// PHASE: vector.from_elements
// PHASE: scf.yield %[[L2]]
// PHASE-NEXT: }
// PHASE-NEXT: gpu.barrier
// PHASE-NEXT: arith.muli
// PHASE-NEXT: scf.if %[[OK]] {
// PHASE-NEXT: vector.store %[[SUM]], {{.*}} {alignment = 16 : i64}
// PHASE-NEXT: } else {
// PHASE-COUNT-4: memref.store
// PHASE: gpu.terminator

// Per access: a branch in every iteration of the loop.
// ACCESS-LABEL: func.func @nest(
// ACCESS: gpu.launch
// ACCESS: scf.for
// ACCESS: scf.if %{{.*}} -> (vector<4xf32>)
// ACCESS: scf.yield

// A phase over the limit: the loop body's phase (under the limit) is
// versioned inside the loop; the small second phase as a whole.
// SMALL-LABEL: func.func @nest(
// SMALL: gpu.launch
// SMALL-NEXT: arith.muli
// SMALL-NEXT: scf.for
// SMALL-NEXT: scf.if %{{.*}} -> (vector<4xf32>) {
// SMALL: vector.load {{.*}} {alignment = 16 : i64}
// SMALL: } else {
// SMALL-COUNT-4: memref.load
// SMALL: gpu.barrier
// SMALL-NEXT: arith.muli
// SMALL-NEXT: scf.if %{{.*}} {
// SMALL: vector.store {{.*}} {alignment = 16 : i64}
func.func @nest(%s: memref<32x128x128xf32>, %o: memref<32x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant dense<0.0> : vector<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c32, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %col = arith.muli %tx, %c4 : index
    %sum = scf.for %i = %c0 to %c128 step %c1 iter_args(%acc = %zero) -> (vector<4xf32>) {
      %row = vector.load %s[%bx, %i, %col] : memref<32x128x128xf32>, vector<4xf32>
      %next = arith.addf %acc, %row : vector<4xf32>
      scf.yield %next : vector<4xf32>
    }
    gpu.barrier
    %col2 = arith.muli %tx, %c4 : index
    vector.store %sum, %o[%bx, %col2] : memref<32x128xf32>, vector<4xf32>
    gpu.terminator
  }
  return
}
