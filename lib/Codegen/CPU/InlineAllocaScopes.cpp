//===- InlineAllocaScopes.cpp - Inline memref.alloca_scope without allocas ===//
//
// Inlines the memref.alloca_scope that convert-scf-to-openmp wraps around
// each parallel loop body when the body holds no stack allocation, so that
// the body's loops can become multi-block control flow.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUINLINEALLOCASCOPES
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct DeltaNetCpuInlineAllocaScopesPass
    : public deltanet::impl::DeltaNetCpuInlineAllocaScopesBase<
          DeltaNetCpuInlineAllocaScopesPass> {
  using Base::Base;

  void runOnOperation() override {
    // Upstream's canonicalization (AllocaScopeInliner) keeps a scope that
    // contains any op without memory-effect information, such as the
    // func.call of the buffer deallocation's helper; here only real stack
    // allocations keep it.
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation()->walk([&](memref::AllocaScopeOp scope) {
      bool hasAlloca = scope
                           ->walk([](Operation *op) {
                             return isa<memref::AllocaOp, LLVM::AllocaOp>(op)
                                        ? WalkResult::interrupt()
                                        : WalkResult::advance();
                           })
                           .wasInterrupted();
      if (!hasAlloca && scope.getNumResults() == 0 &&
          scope.getBodyRegion().hasOneBlock())
        scopes.push_back(scope);
    });
    IRRewriter rewriter(&getContext());
    for (memref::AllocaScopeOp scope : scopes) {
      Block *body = &scope.getBodyRegion().front();
      rewriter.eraseOp(body->getTerminator());
      rewriter.inlineBlockBefore(body, scope);
      rewriter.eraseOp(scope);
    }
  }
};

} // namespace
