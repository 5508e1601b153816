// RUN: deltanet-opt %s --deltanet-gpu-pipeline | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="threads=64 tri-inv-block-size=8" -mlir-disable-threading -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s --check-prefix=KERNEL
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="global-alignment=0" | FileCheck %s --check-prefix=NOGLOBAL
// RUN: deltanet-opt %s --deltanet-gpu-pipeline | FileCheck %s --check-prefix=GLOBAL
// RUN: deltanet-opt %s --deltanet-gpu-pipeline | grep "gpu.binary @tri_inv_kernel_0" | FileCheck %s --check-prefix=FALLBACK
// RUN: deltanet-opt %s --deltanet-gpu-pipeline -mlir-disable-threading -mlir-print-ir-after=deltanet-gpu-annotate-vector-alignment -o /dev/null 2>&1 | FileCheck %s --check-prefix=VERSIONED
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=alignment-versioning=phase -mlir-disable-threading -mlir-print-ir-after=deltanet-gpu-annotate-vector-alignment -o /dev/null 2>&1 | FileCheck %s --check-prefix=PHASE
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline=alignment-versioning=loop 2>&1 | FileCheck %s --check-prefix=BADVERSIONING
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="check-global-alignment=false" | FileCheck %s --check-prefix=PROMISED
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="global-alignment=12" 2>&1 | FileCheck %s --check-prefix=ALIGN
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="format=elf" 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="threads=100" 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="tensor-cores-warp-tiling=cols" 2>&1 | FileCheck %s --check-prefix=TILING
// RUN: not env PATH=/nonexistent CUDA_ROOT= CUDA_HOME= CUDA_PATH= deltanet-opt %s --deltanet-gpu-pipeline="format=bin" 2>&1 | FileCheck %s --check-prefix=PTXAS

// The GPU pipeline leaves LLVM host code that loads an embedded PTX module
// (format=isa: no CUDA toolkit needed) and launches one block per matrix.

// CHECK-NOT: deltanet.
// CHECK-NOT: linalg.
// CHECK-LABEL: llvm.func @tri_inv(
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @tri_inv_kernel::@tri_inv_kernel blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) : i64 dynamic_shared_memory_size
// CHECK-LABEL: llvm.func @_mlir_ciface_tri_inv(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: gpu.binary @tri_inv_kernel {{ *}}[#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, properties = {{.*}}assembly = "
// CHECK-SAME: .target sm_90
// CHECK-SAME: .entry tri_inv_kernel
// CHECK-SAME: ld.shared.v4
// CHECK-SAME: fma.rn.f32
// CHECK-SAME: bar.sync
func.func @tri_inv(%a: memref<?x64x64xf32>, %x: memref<?x64x64xf32>) attributes {llvm.emit_c_interface} {
  %at = bufferization.to_tensor %a restrict : memref<?x64x64xf32> to tensor<?x64x64xf32>
  %xt = deltanet.tri_inv %at : tensor<?x64x64xf32>
  bufferization.materialize_in_destination %xt in restrict writable %x
      : (tensor<?x64x64xf32>, memref<?x64x64xf32>) -> ()
  return
}

// One kernel, 64 threads, grid = batch; every thread tile is vector code on
// shared memory (dynamic shared memory, no device temporaries), barriers
// between the stages; the result goes straight to the destination.
// KERNEL: gpu.launch_func @tri_inv_kernel::@tri_inv_kernel blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %{{.*}} args(
// KERNEL: gpu.module @tri_inv_kernel
// KERNEL: gpu.func @tri_inv_kernel({{.*}}) kernel attributes {known_block_size = array<i32: 64, 1, 1>
// KERNEL: gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// KERNEL: gpu.block_id  x
// KERNEL: gpu.thread_id  x
// KERNEL: vector.load {{.*}} {alignment = 16 : i64} : memref<{{.*}}#gpu.address_space<workgroup>>, vector<4xf32>
// KERNEL: vector.fma
// KERNEL: gpu.barrier
// KERNEL-NOT: memref.alloc
// KERNEL: gpu.return

// The caller's buffers may be views at any element offset. By default
// (global-alignment=16, checked) the host tests both buffers' addresses
// and launches one of two kernels (the other with an empty grid): rows of
// 64 floats read and written 16 bytes at a time when both are 16-byte
// aligned, else 4 bytes at a time. global-alignment=0: scalar only;
// check-global-alignment=false: the caller promises the alignment, vector
// accesses only. alignment-versioning=phase: one kernel, branching on the
// test (here the whole first phase, the load of A, is versioned).
// NOGLOBAL-NOT: ld.global.v4
// GLOBAL: gpu.binary @tri_inv_kernel
// GLOBAL-SAME: ld.global.v4.b32
// GLOBAL-SAME: st.global.v4.b32
// GLOBAL-NEXT: gpu.binary @tri_inv_kernel_0
// GLOBAL-SAME: ld.global.b32
// GLOBAL-SAME: st.global.b32
// FALLBACK-NOT: ld.global.v4
// FALLBACK-NOT: st.global.v4
// VERSIONED: memref.extract_aligned_pointer_as_index %arg0
// VERSIONED: memref.extract_aligned_pointer_as_index %arg1
// VERSIONED: %[[BOTH:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// VERSIONED: %[[GA:.*]] = arith.select %[[BOTH]]
// VERSIONED: %[[GS:.*]] = arith.select %[[BOTH]]
// VERSIONED: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GA]],
// VERSIONED: vector.load %{{.*}} {alignment = 16 : i64} : memref<1x8x4xf32, strided<[4096, 64, 1], offset: ?>>, vector<4xf32>
// VERSIONED: gpu.terminator
// VERSIONED: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GS]],
// VERSIONED-NOT: {alignment = 16 : i64} : memref<1x8x4xf32, strided<[4096, 64, 1], offset: ?>>
// VERSIONED: gpu.terminator
// PHASE: %[[BOTH:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// PHASE: gpu.launch
// PHASE: scf.if %[[BOTH]] {
// PHASE-NEXT: vector.load %{{.*}} {alignment = 16 : i64} : memref<1x8x4xf32, strided<[4096, 64, 1], offset: ?>>, vector<4xf32>
// PHASE: } else {
// PHASE-COUNT-4: memref.load %{{.*}} : memref<1x8x4xf32, strided<[4096, 64, 1], offset: ?>>
// PHASE: gpu.terminator
// PHASE-NOT: gpu.launch
// BADVERSIONING: deltanet-gpu-pipeline: alignment-versioning must be kernel or phase, got 'loop'
// PROMISED-NOT: ld.global.b32
// PROMISED: ld.global.v4.b32
// PROMISED-SAME: st.global.v4.b32
// PROMISED-NOT: st.global.b32
// ALIGN: deltanet-gpu-pipeline: global-alignment must be 0 or a power of two, got 12

// FORMAT: deltanet-gpu-pipeline: format must be isa, bin or fatbin, got 'elf'
// THREADS: deltanet-gpu-pipeline: threads must be a multiple of 32 in [32, 1024], got 100
// TILING: deltanet-gpu-pipeline: tensor-cores-warp-tiling must be rows or min-loads, got 'cols'
// PTXAS: deltanet-gpu-pipeline: format=bin needs ptxas
