// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-pack-workspaces | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-pack-workspaces="stagger=0 max-bytes=1024" | FileCheck %s --check-prefix=TIGHT

// RUN: not deltanet-opt %s --split-input-file --deltanet-cpu-pack-workspaces=alignment=48 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: deltanet-cpu-pack-workspaces: alignment must be a power of two, max-bytes >= 1 and stagger >= 0, got alignment = 48, max-bytes = 262144, stagger = 64

// A loop's workspaces allocated before it and freed after it (what
// buffer-loop-hoisting and the deallocation pipeline leave): one i8 buffer,
// the views 64-byte aligned, 64 bytes apart (stagger), in allocation order;
// freed where the last workspace was. The buffer the loop yields (the
// carried state) and the returned one keep their own allocations.
// CHECK-LABEL: func.func @hoisted
// CHECK: %[[RESULT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<8xf32>
// CHECK: %[[BUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4290xi8>
// CHECK: %[[A:.*]] = memref.view %[[BUF]][%c0{{.*}}][] : memref<4290xi8> to memref<32x32xf32>
// CHECK: %[[B:.*]] = memref.view %[[BUF]][%c4160{{.*}}][] : memref<4290xi8> to memref<3x3xf32>
// CHECK: %[[C:.*]] = memref.view %[[BUF]][%c4288{{.*}}][] : memref<4290xi8> to memref<2xi8>
// CHECK: scf.for
// CHECK:   memref.alloc(){{.*}}: memref<4xf32>
// CHECK:   linalg.fill {{.*}} outs(%[[A]] :
// CHECK:   linalg.fill {{.*}} outs(%[[B]] :
// CHECK:   linalg.fill {{.*}} outs(%[[C]] :
// CHECK: memref.dealloc %[[BUF]] : memref<4290xi8>
// CHECK-NOT: memref.dealloc
// CHECK: return %[[RESULT]]
// Above max-bytes the 4 KiB buffer keeps its own allocation; the two small
// ones are packed back to back (stagger=0), each view 64-byte aligned.
// TIGHT-LABEL: func.func @hoisted
// TIGHT: memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
// TIGHT: %[[BUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<66xi8>
// TIGHT: memref.view %[[BUF]][%c0{{.*}}][] : memref<66xi8> to memref<3x3xf32>
// TIGHT: memref.view %[[BUF]][%c64{{.*}}][] : memref<66xi8> to memref<2xi8>
// TIGHT: memref.dealloc %{{.*}} : memref<32x32xf32>
// TIGHT: memref.dealloc %[[BUF]] : memref<66xi8>
// TIGHT: return
func.func @hoisted(%n: index) -> memref<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 0.0 : f32
  %i = arith.constant 0 : i8
  %result = memref.alloc() {alignment = 64 : i64} : memref<8xf32>
  %a = memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
  %b = memref.alloc() : memref<3x3xf32>
  %c = memref.alloc() : memref<2xi8>
  %init = memref.alloc() : memref<4xf32>
  %last = scf.for %iv = %c0 to %n step %c1 iter_args(%state = %init) -> (memref<4xf32>) {
    %next = memref.alloc() : memref<4xf32>
    linalg.fill ins(%f : f32) outs(%a : memref<32x32xf32>)
    linalg.fill ins(%f : f32) outs(%b : memref<3x3xf32>)
    linalg.fill ins(%i : i8) outs(%c : memref<2xi8>)
    linalg.fill ins(%f : f32) outs(%next : memref<4xf32>)
    memref.dealloc %state : memref<4xf32>
    scf.yield %next : memref<4xf32>
  }
  memref.dealloc %last : memref<4xf32>
  memref.dealloc %a : memref<32x32xf32>
  memref.dealloc %c : memref<2xi8>
  memref.dealloc %b : memref<3x3xf32>
  return %result : memref<8xf32>
}

// -----

// Not packed: a dynamic shape, a buffer freed in another block (a
// conditional release), a non-identity layout; the one candidate left is
// alone.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: memref.view
// CHECK: return
func.func @left_alone(%n: index, %cond: i1) {
  %d = memref.alloc(%n) : memref<?xf32>
  %e = memref.alloc() : memref<16xf32>
  %s = memref.alloc() : memref<4x4xf32, strided<[8, 1]>>
  %one = memref.alloc() : memref<8xf32>
  scf.if %cond {
    memref.dealloc %e : memref<16xf32>
  }
  memref.dealloc %d : memref<?xf32>
  memref.dealloc %s : memref<4x4xf32, strided<[8, 1]>>
  memref.dealloc %one : memref<8xf32>
  return
}
