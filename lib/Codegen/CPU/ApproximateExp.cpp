//===- ApproximateExp.cpp - math.exp as inline polynomial code -----------===//
//
// Rewrites f32 math.exp into upstream MLIR's polynomial approximation so that
// loops computing decay factors vectorise instead of calling libm's scalar
// expf once per element.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUAPPROXIMATEEXP
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct DeltaNetCpuApproximateExpPass
    : public deltanet::impl::DeltaNetCpuApproximateExpBase<
          DeltaNetCpuApproximateExpPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Upstream's patterns only; exp alone (its error is a few ulp, far below
    // the tolerances of the stages that use it).
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { return name == math::ExpOp::getOperationName(); });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
