//===- NPUAttrs.cpp - #npu.target verification and presets ---------------===//
//
// Verifies machine descriptions and builds the two presets of docs/NPU.md.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/NPU/IR/NPUAttrs.h"
#include "deltanet/Dialect/NPU/IR/NPUDialect.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::deltanet::npu;

LogicalResult
TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef name,
                   int64_t clockMhz, ArrayRef<int64_t> tileF16,
                   int64_t cyclesF16, ArrayRef<int64_t> tileI8,
                   int64_t cyclesI8, int64_t mmLatency, int64_t vectorBits,
                   int64_t vectorIssue, int64_t vectorLatency, int64_t lhsBytes,
                   int64_t rhsBytes, int64_t accBytes, int64_t localBytes,
                   int64_t dmaGlobal, int64_t dmaLocal, int64_t dmaLatency) {
  for (ArrayRef<int64_t> tile : {tileF16, tileI8}) {
    if (tile.size() != 3)
      return emitError() << "a matrix-unit tile is [M, N, K], got "
                         << tile.size() << " values";
    if (llvm::any_of(tile, [](int64_t v) { return v < 0; }))
      return emitError() << "matrix-unit tile sizes must be >= 0";
  }
  if (clockMhz <= 0 || cyclesF16 <= 0 || cyclesI8 <= 0 || vectorIssue <= 0 ||
      dmaGlobal <= 0 || dmaLocal <= 0)
    return emitError() << "clock, throughputs and bandwidths must be > 0";
  if (vectorBits < 32 || vectorBits % 32 != 0)
    return emitError() << "vector_bits must be a positive multiple of 32, got "
                       << vectorBits;
  if (mmLatency < 0 || vectorLatency < 0 || dmaLatency < 0 || lhsBytes < 0 ||
      rhsBytes < 0 || accBytes < 0 || localBytes < 0)
    return emitError() << "latencies and buffer sizes must be >= 0";
  return success();
}

ArrayRef<int64_t> TargetAttr::getTileFor(Type type) const {
  ArrayRef<int64_t> tile;
  if (type.isF16())
    tile = getMmTileF16();
  else if (type.isInteger(8))
    tile = getMmTileI8();
  if (tile.size() != 3 || llvm::is_contained(tile, 0))
    return {};
  return tile;
}

int64_t TargetAttr::getCapacity(LocalSpace space) const {
  switch (space) {
  case LocalSpace::MatrixLhs:
    return getMmLhsBytes();
  case LocalSpace::MatrixRhs:
    return getMmRhsBytes();
  case LocalSpace::MatrixAcc:
    return getMmAccBytes();
  case LocalSpace::Vector:
    return getLocalBytes();
  }
  llvm_unreachable("unknown local space");
}

TargetAttr mlir::deltanet::npu::getTargetPreset(MLIRContext *ctx,
                                                StringRef name) {
  // Every figure is discussed in docs/NPU.md ("Presets"): cited where public,
  // otherwise an assumption with a sensitivity row.
  if (name == "mobile")
    // Hexagon class (v73+ with HMX): 32x32 fp16 tiles, 1024-bit HVX, 8 MiB
    // VTCM (HMX reads its operands from VTCM).
    return TargetAttr::get(ctx, "mobile", /*clockMhz=*/1000,
                           /*tileF16=*/{32, 32, 32}, /*cyclesF16=*/16,
                           /*tileI8=*/{32, 32, 32}, /*cyclesI8=*/8,
                           /*mmLatency=*/32, /*vectorBits=*/1024,
                           /*vectorIssue=*/2, /*vectorLatency=*/4,
                           /*lhsBytes=*/256 << 10, /*rhsBytes=*/256 << 10,
                           /*accBytes=*/256 << 10, /*localBytes=*/8 << 20,
                           /*dmaGlobal=*/32, /*dmaLocal=*/256,
                           /*dmaLatency=*/500);
  if (name == "datacenter")
    // Ascend class (Da Vinci core): 16x16x16 fp16 cube per cycle (4096
    // MACs), 8192 int8 MACs (16x16x32), L0A/L0B 64 KiB, L0C 128 KiB, unified
    // buffer 192 KiB.
    return TargetAttr::get(ctx, "datacenter", /*clockMhz=*/1000,
                           /*tileF16=*/{16, 16, 16}, /*cyclesF16=*/1,
                           /*tileI8=*/{16, 16, 32}, /*cyclesI8=*/1,
                           /*mmLatency=*/16, /*vectorBits=*/2048,
                           /*vectorIssue=*/1, /*vectorLatency=*/4,
                           /*lhsBytes=*/64 << 10, /*rhsBytes=*/64 << 10,
                           /*accBytes=*/128 << 10, /*localBytes=*/192 << 10,
                           /*dmaGlobal=*/32, /*dmaLocal=*/128,
                           /*dmaLatency=*/300);
  return {};
}
