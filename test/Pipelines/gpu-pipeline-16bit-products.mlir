// chunk-precision=bf16|f16 on the GPU: the chunk stages' products on
// mma.sync m16n8k16 (bf16 through deltanet-gpu-lower-bf16-mma-sync, f16
// through upstream's nvgpu-to-nvvm), none left on tf32; their operands'
// shared tiles in 16 bits. Results: gpu-pipeline-cpu-emulation.test (the
// stages before the thread mapping, SIMT) and the H200 (docs/GPU.md).
// The 16-bit runs keep the generic state scan and output stage
// (scan-mma-chain=false output-mma-chain=false prologue-mma-chain=false; the register chains, on by
// default: gpu-pipeline-{scan,output,prologue}-mma-chain.mlir;
// the mixed run keeps only the generic output stage).
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 scan-mma-chain=false output-mma-chain=false prologue-mma-chain=false" -mlir-print-ir-after=deltanet-gpu-matmuls-to-mma-sync 2>&1 \
// RUN:   | FileCheck %s --check-prefixes=TILES,BF16
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=f16 scan-mma-chain=false output-mma-chain=false prologue-mma-chain=false" | FileCheck %s --check-prefix=F16
// RUN: deltanet-opt %s --deltanet-gpu-pipeline | FileCheck %s --check-prefix=F32
// The SIMT path (the stages' 16-bit products as FMAs) compiles too:
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 tensor-cores=false" | FileCheck %s --check-prefix=SIMT
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=i8" 2>&1 | FileCheck %s --check-prefix=I8
// chunk-stage-precision=chunk_state_scan=f32 beside chunk-precision=bf16:
// the scan kernel keeps tf32 m16n8k8 and the default build's f32 tiles
// (its shared bytes the f32 build's), the prologue and the output stage
// use bf16 m16n8k16 with the bf16 build's shared bytes.
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 chunk-stage-precision=chunk_state_scan=f32 output-mma-chain=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MIXED
// bf16 everywhere: w and k reach the scan in bf16 (stored so by the
// prologue and the k gather), states and v_new the output stage: no f32
// operand tiles beside the bf16 ones. Scan 110592 -> 63760 B, output stage
// 68096 -> 51712 B (the prologue 52496 -> 61200: w's f32 accumulator tile
// before the rounded store).
// Session 13 (ldmatrix): 16-bit rows padded by 16 bytes (8 elements, was
// 4) and 32-byte rows padded too; the prologue packed in another order
// (80144 B in the size order): 61200 -> 68880, 63760 -> 64784,
// 51712 -> 53248.
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 scan-mma-chain=false output-mma-chain=false prologue-mma-chain=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHARED16
// SHARED16: gpu.launch_func @chunk_kernel_1::@chunk_kernel {{.*}} dynamic_shared_memory_size %c68880_i32
// SHARED16: gpu.launch_func @chunk_kernel_3::@chunk_kernel {{.*}} dynamic_shared_memory_size %c64784_i32
// SHARED16: gpu.launch_func @chunk_kernel_5::@chunk_kernel {{.*}} dynamic_shared_memory_size %c53248_i32
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=f64" 2>&1 | FileCheck %s --check-prefix=BAD

// The products' operands in bf16 in shared memory, fragments of bf16
// (the IR after the tensor-core pass, then the PTX).
// TILES: memref.alloc(){{.*}}: memref<{{.*}}xbf16, #gpu.address_space<workgroup>>
// TILES: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>)
// TILES-NOT: tf32Enabled
// TILES: gpu.binary
// BF16-NOT: mma.sync.aligned.m16n8k8
// The 16-bit fragments by ldmatrix (A .x4, B .x2, .trans where stored
// [K][N]):
// BF16: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16: ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16
// BF16-NOT: mma.sync.aligned.m16n8k8
// F16-NOT: mma.sync.aligned.m16n8k8
// F16: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// F16: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// F16-NOT: mma.sync.aligned.m16n8k8
// F16-NOT: bf16.bf16
// The default stays tf32.
// F32-NOT: m16n8k16
// F32-NOT: ldmatrix
// F32: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// F32-NOT: m16n8k16
// F32-NOT: ldmatrix
// SIMT-NOT: mma.sync
// SIMT: .target sm_90
// SIMT-NOT: mma.sync
// I8: deltanet-gpu-pipeline: chunk-precision=i8 is not offered on the GPU
// Launches: the gathers (0-2), the fused prologue (3, 4: two alignment
// versions), the scan (5, 6), the output stage (7, 8).
// MIXED: gpu.launch_func @chunk_kernel_3::@chunk_kernel {{.*}} dynamic_shared_memory_size %c53520_i32
// MIXED: gpu.launch_func @chunk_kernel_5::@chunk_kernel {{.*}} dynamic_shared_memory_size %c80144_i32
// The output stage reads the scan's states and v_new in bf16 (its products'
// type: deltanet-narrow-stage-intermediates; 68096 B with them in f32).
// MIXED: gpu.launch_func @chunk_kernel_7::@chunk_kernel {{.*}} dynamic_shared_memory_size %c53248_i32
// MIXED-LABEL: gpu.module @chunk_kernel_3
// MIXED-NOT: tf32Enabled
// MIXED: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>)
// MIXED-NOT: tf32Enabled
// MIXED-LABEL: gpu.module @chunk_kernel_5
// MIXED-NOT: mmaShape = [16, 8, 16]
// MIXED: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>)
// MIXED-NOT: mmaShape = [16, 8, 16]
// MIXED-LABEL: gpu.module @chunk_kernel_7
// MIXED-NOT: tf32Enabled
// MIXED: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>)
// MIXED-NOT: tf32Enabled
// MIXED-LABEL: gpu.module @chunk_kernel_8
// The PTX: each kernel's binary.
// MIXED: gpu.binary @chunk_kernel_3 {{.*}}mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// MIXED: gpu.binary @chunk_kernel_5 {{.*}}mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// MIXED: gpu.binary @chunk_kernel_7 {{.*}}mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BAD: for the --chunk-precision option: Cannot find option named 'f64'!
func.func @chunk(%q: memref<1x128x1x128xbf16>, %k: memref<1x128x1x128xbf16>, %v: memref<1x128x2x32xbf16>, %g: memref<1x128x2xf32>, %beta: memref<1x128x2xbf16>, %h0: memref<1x2x128x32xf32>,
    %o: memref<1x128x2x32xbf16>, %ht: memref<1x2x128x32xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x128x2x32xbf16> to tensor<1x128x2x32xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x128x2xf32> to tensor<1x128x2xf32>
  %bt = bufferization.to_tensor %beta restrict : memref<1x128x2xbf16> to tensor<1x128x2xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x2x128x32xf32> to tensor<1x2x128x32xf32>
  %ot, %hT = deltanet.chunk_gated_delta_rule %qt, %kt, %vt, %gt, %bt, %h0t {chunk_size = 64 : i64, scale = 0.0883883461 : f32}
    : (tensor<1x128x1x128xbf16>, tensor<1x128x1x128xbf16>, tensor<1x128x2x32xbf16>, tensor<1x128x2xf32>, tensor<1x128x2xbf16>, tensor<1x2x128x32xf32>) -> (tensor<1x128x2x32xbf16>, tensor<1x2x128x32xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x128x2x32xbf16>, memref<1x128x2x32xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x2x128x32xf32>, memref<1x2x128x32xf32>) -> ()
  return
}
