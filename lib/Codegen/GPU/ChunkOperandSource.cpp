//===- ChunkOperandSource.cpp - The source of a gathered chunk operand ----===//
//
// See ChunkOperandSource.h.
//
//===----------------------------------------------------------------------===//

#include "ChunkOperandSource.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::deltanet;

ElementCopy mlir::deltanet::elementCopyOf(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return ElementCopy::None;
  Block &body = op.getRegion().front();
  Value in = body.getArgument(0);
  // Walk back from the yielded value through extf / truncf to the input.
  SmallVector<Operation *> casts;
  Value v = body.getTerminator()->getOperand(0);
  while (v != in) {
    Operation *cast = v.getDefiningOp();
    if (!isa_and_nonnull<arith::ExtFOp, arith::TruncFOp>(cast) ||
        cast->getBlock() != &body)
      return ElementCopy::None;
    casts.push_back(cast);
    v = cast->getOperand(0);
  }
  if (body.getOperations().size() != casts.size() + 1)
    return ElementCopy::None;
  if (casts.empty())
    return ElementCopy::Exact;
  // truncf(extf(in)) back to in's type: the extension is exact.
  if (casts.size() == 2 && isa<arith::TruncFOp>(casts[0]) &&
      isa<arith::ExtFOp>(casts[1]) &&
      casts[0]->getResult(0).getType() == in.getType())
    return ElementCopy::Exact;
  return ElementCopy::Converted;
}

Type ChunkOperandSource::sourceElement() const {
  return cast<ShapedType>(tensor.getType()).getElementType();
}

/// HV / H if `copy` is the decomposition's chunk gather, else 0 (`why`).
static int64_t chunkGatherHeadRatio(linalg::GenericOp copy, AffineMap map,
                                    std::string &why) {
  auto out = cast<RankedTensorType>(copy.getResult(0).getType());
  auto in = dyn_cast<RankedTensorType>(copy.getDpsInputs()[0].getType());
  int64_t rank = out.getRank(); // 5 with D, 4 without
  if (!in || !in.hasStaticShape() || !out.hasStaticShape() ||
      (rank != 5 && rank != 4) || in.getRank() != rank - 1) {
    why = "the copy is not a static [B, T, H(, D)] -> [B, HV, NC, C(, D)] "
          "gather";
    return 0;
  }
  ArrayRef<int64_t> o = out.getShape(), i = in.getShape();
  int64_t chunk = o[3];
  if (i[0] != o[0] || i[2] <= 0 || o[1] % i[2] != 0 || i[1] < o[2] * chunk ||
      (rank == 5 && i[3] != o[4])) {
    why = "the gather's shapes are not [B, T, H(, D)] -> [B, HV, NC, C(, D)] "
          "with HV a multiple of H and T >= NC * C";
    return 0;
  }
  int64_t ratio = o[1] / i[2];
  MLIRContext *ctx = copy.getContext();
  auto d = [&](unsigned k) { return getAffineDimExpr(k, ctx); };
  SmallVector<AffineExpr> results{d(0), d(2) * chunk + d(3),
                                  ratio == 1 ? d(1) : d(1).floorDiv(ratio)};
  if (rank == 5)
    results.push_back(d(4));
  if (map != AffineMap::get(rank, 0, results, ctx)) {
    why = "the gather does not read (b, c * C + t, hv / (HV / H)(, d))";
    return 0;
  }
  return ratio;
}

ChunkOperandSource mlir::deltanet::traceChunkOperand(Value operand,
                                                     std::string *why) {
  auto type = cast<RankedTensorType>(operand.getType());
  ChunkOperandSource itself;
  itself.tensor = operand;
  itself.chunkShape = {type.getDimSize(0)};
  auto fail = [&](const char *reason) {
    if (why)
      *why = reason;
    return itself;
  };
  Value gathered = operand;
  SmallVector<int64_t> chunkShape{type.getDimSize(0)};
  if (auto collapse = operand.getDefiningOp<tensor::CollapseShapeOp>()) {
    SmallVector<ReassociationIndices> groups =
        collapse.getReassociationIndices();
    if (llvm::any_of(llvm::drop_begin(groups),
                     [](const ReassociationIndices &g) { return g.size() != 1; }))
      return fail("the collapse_shape merges more than the leading dims");
    ArrayRef<int64_t> shape = collapse.getSrcType().getShape();
    chunkShape.assign(shape.begin(), shape.begin() + groups[0].size());
    gathered = collapse.getSrc();
  }
  auto copy = gathered.getDefiningOp<linalg::GenericOp>();
  if (!copy || copy.getNumDpsInputs() != 1)
    return fail("not (a collapse_shape of) a one-input linalg.generic");
  if (!isa<RankedTensorType>(copy.getDpsInputs()[0].getType()))
    return fail("the linalg.generic's input is not a ranked tensor");
  ElementCopy elements = elementCopyOf(copy);
  if (elements == ElementCopy::None)
    return fail("the linalg.generic is not an elementwise copy (one input, "
                "identity init, extf / truncf at most)");
  ChunkOperandSource source;
  source.tensor = copy.getDpsInputs()[0];
  source.copy = copy;
  source.map = copy.getMatchingIndexingMap(copy.getDpsInputOperand(0));
  source.chunkShape = chunkShape;
  source.elements = elements;
  std::string notGather;
  if (int64_t ratio = chunkGatherHeadRatio(copy, source.map, notGather)) {
    auto out = cast<RankedTensorType>(copy.getResult(0).getType());
    source.headRatio = ratio;
    source.valueHeads = out.getDimSize(1);
    source.chunksPerSequence = out.getDimSize(2);
  } else if (why) {
    *why = notGather;
  }
  return source;
}
