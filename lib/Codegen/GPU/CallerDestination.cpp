//===- CallerDestination.cpp - Results written in the caller's buffer -----===//

#include "CallerDestination.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::deltanet;

CallerDestination mlir::deltanet::findCallerDestination(Value result) {
  if (!result.hasOneUse())
    return {};
  Operation *reader = *result.user_begin();
  auto expand = dyn_cast<tensor::ExpandShapeOp>(reader);
  if (expand) {
    if (!expand.getResult().hasOneUse())
      return {};
    reader = *expand.getResult().user_begin();
  }
  auto fill = dyn_cast<bufferization::MaterializeInDestinationOp>(reader);
  if (!fill || !fill.getRestrict() || !fill.getWritable() ||
      !isa<BlockArgument>(fill.getDest()) || !fill.getDest().hasOneUse() ||
      !isa<MemRefType>(fill.getDest().getType()))
    return {};
  // Collapsing back needs a contiguous argument (the identity layout).
  if (expand &&
      !cast<MemRefType>(fill.getDest().getType()).getLayout().isIdentity())
    return {};
  return {fill, expand};
}

Value CallerDestination::buffer(OpBuilder &b, Location loc) const {
  // Op handles are values; their accessors are not const.
  bufferization::MaterializeInDestinationOp copy = fill;
  tensor::ExpandShapeOp reshape = expand;
  if (!reshape)
    return copy.getDest();
  return memref::CollapseShapeOp::create(b, loc, copy.getDest(),
                                         reshape.getReassociationIndices());
}

void CallerDestination::erase(RewriterBase &rewriter) const {
  rewriter.eraseOp(fill);
  if (expand)
    rewriter.eraseOp(expand);
}
