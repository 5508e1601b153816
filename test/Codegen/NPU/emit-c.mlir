// RUN: deltanet-opt %s --deltanet-npu-pipeline="target=datacenter" | mlir-translate --mlir-to-cpp | FileCheck %s
// RUN: deltanet-opt %s --deltanet-npu-pipeline="tri-inv-precision=i8" | mlir-translate --mlir-to-cpp | FileCheck %s --check-prefix=I8
// RUN: deltanet-opt %s --deltanet-npu-pipeline="tri-inv-strategy=forward-substitution" | mlir-translate --mlir-to-cpp | FileCheck %s --check-prefix=FS

// tri_inv through EmitC: C that includes the runtime header, defines the
// target for the cost model, and calls the runtime for every npu op; the
// result is an out-parameter.

// CHECK: #include "npu_runtime.h"
// CHECK: NPU_TARGET("datacenter", 1000, 16, 16, 16, 1, 16, 16, 32, 1,
// CHECK: void tri_inv(float* [[A:v[0-9]+]], float* [[X:v[0-9]+]])
// CHECK-DAG: npu_alloc_local(
// CHECK-DAG: npu_dma(
// CHECK-DAG: npu_matmul_f16(
// CHECK-DAG: npu_vec_issue(
// CHECK-DAG: npu_move_issue(
// CHECK-NOT: npu_matmul_i8(

// I8: NPU_TARGET("mobile"
// I8-DAG: npu_matmul_i8(
// I8-DAG: rintf(
// I8-NOT: npu_matmul_f16(

// Forward substitution: vector-unit rows only, no matrix unit.
// FS: for (size_t
// FS: npu_vec_issue(
// FS-NOT: npu_matmul_

func.func @tri_inv(%a: tensor<2x32x32xf32>) -> tensor<2x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<2x32x32xf32>
  return %x : tensor<2x32x32xf32>
}
