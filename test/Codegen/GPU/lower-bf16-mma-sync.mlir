// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(gpu.module(deltanet-gpu-lower-bf16-mma-sync))" | FileCheck %s
// Then upstream's NVVM lowering and PTX (gpu-module-to-binary, format=isa):
// the bf16 m16n8k16 instruction (upstream's -convert-nvgpu-to-nvvm alone
// rejects it: "failed to deduce operand PTX types").
// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(nvvm-attach-target{chip=sm_90 features=+ptx80},gpu.module(deltanet-gpu-lower-bf16-mma-sync,convert-nvgpu-to-nvvm,convert-gpu-to-nvvm,reconcile-unrealized-casts),gpu-module-to-binary{format=isa})" \
// RUN:   | FileCheck %s --check-prefix=PTX
// The gap (when upstream closes it, this line fails and the pass can go):
// MLIR 22's lowering reports the error, the pass does not fail, the op stays.
// RUN: deltanet-opt %s --pass-pipeline="builtin.module(gpu.module(convert-nvgpu-to-nvvm))" 2>&1 | FileCheck %s --check-prefix=UPSTREAM

// Each register pair of bf16 packed into an i32 (A: 4, B: 2), the
// accumulator's 4 f32 in, the result struct's 4 f32 out.
// CHECK-LABEL: gpu.func @bf16
// CHECK-COUNT-6: vector.bitcast {{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK: nvvm.mma.sync A[{{.*}}, {{.*}}, {{.*}}, {{.*}}] B[{{.*}}, {{.*}}] C[{{.*}}, {{.*}}, {{.*}}, {{.*}}]
// CHECK-SAME: layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>
// CHECK-SAME: multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>
// CHECK-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK-SAME: (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-4: llvm.extractvalue
// CHECK: vector.from_elements {{.*}} : vector<2x2xf32>
// CHECK-NOT: nvgpu.mma.sync
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// UPSTREAM: failed to deduce operand PTX types
gpu.module @kernels {
  gpu.func @bf16(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %c: vector<2x2xf32>, %out: memref<4xf32>) kernel {
    %d = nvgpu.mma.sync(%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %x = vector.extract %d[1, 1] : f32 from vector<2x2xf32>
    memref.store %x, %out[%c1] : memref<4xf32>
    gpu.return
  }
}

// -----

// f16 and tf32 products are upstream's: left alone.
// CHECK-LABEL: gpu.func @f16_tf32
// CHECK-NOT: nvvm.mma.sync
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled}
// CHECK-NOT: nvvm.mma.sync
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
gpu.module @upstream_kernels {
  gpu.func @f16_tf32(%a: vector<4x2xf16>, %b: vector<2x2xf16>, %c: vector<2x2xf32>,
                     %at: vector<4x1xf32>, %bt: vector<2x1xf32>, %out: memref<4xf32>) kernel {
    %d = nvgpu.mma.sync(%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
    %e = nvgpu.mma.sync(%at, %bt, %d) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
    %c0 = arith.constant 0 : index
    %x = vector.extract %e[0, 0] : f32 from vector<2x2xf32>
    memref.store %x, %out[%c0] : memref<4xf32>
    gpu.return
  }
}
