//===- MemRefCall.cpp - Call compiled functions on dense arrays -----------===//
//
// Implements memref descriptors of dense arrays, packed calls and the
// ownership rules of returned memrefs.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Runtime/MemRefCall.h"

using namespace mlir;
using namespace mlir::deltanet;

namespace {
/// MLIR's C interface passes a rank-r memref as {allocated, aligned, offset,
/// sizes[r], strides[r]}, all 8-byte words.
std::size_t descriptorWords(int64_t rank) { return 3 + 2 * rank; }

/// The address MLIR stores in the allocated pointer of global memrefs.
void *const kGlobalAllocated = reinterpret_cast<void *>(0xdeadbeef);
} // namespace

std::vector<ReturnedMemRef>
mlir::deltanet::callPacked(void (*packed)(void **),
                           const std::vector<DenseArray> &args,
                           const std::vector<int64_t> &resultRanks) {
  std::vector<std::vector<int64_t>> argDescriptors;
  argDescriptors.reserve(args.size());
  for (const DenseArray &arg : args) {
    int64_t rank = arg.shape.size();
    std::vector<int64_t> d(descriptorWords(rank));
    d[0] = d[1] = reinterpret_cast<int64_t>(arg.data);
    d[2] = 0;
    int64_t stride = 1;
    for (int64_t i = rank - 1; i >= 0; --i) {
      d[3 + i] = arg.shape[i];
      d[3 + rank + i] = stride;
      stride *= arg.shape[i];
    }
    argDescriptors.push_back(std::move(d));
  }

  // Results come back through one out-pointer to consecutive descriptors.
  std::size_t resultWords = 0;
  for (int64_t rank : resultRanks)
    resultWords += descriptorWords(rank);
  std::vector<int64_t> resultStorage(resultWords, 0);

  std::vector<void *> pointers;
  pointers.reserve(args.size() + 1);
  if (!resultRanks.empty())
    pointers.push_back(resultStorage.data());
  for (std::vector<int64_t> &d : argDescriptors)
    pointers.push_back(d.data());
  std::vector<void *> packedArgs;
  packedArgs.reserve(pointers.size());
  for (void *&p : pointers)
    packedArgs.push_back(&p);
  packed(packedArgs.data());

  std::vector<ReturnedMemRef> results;
  std::size_t word = 0;
  for (int64_t rank : resultRanks) {
    const int64_t *d = resultStorage.data() + word;
    word += descriptorWords(rank);
    ReturnedMemRef r;
    r.allocated = reinterpret_cast<void *>(d[0]);
    r.aligned = reinterpret_cast<void *>(d[1]);
    r.offset = d[2];
    r.sizes.assign(d + 3, d + 3 + rank);
    r.strides.assign(d + 3 + rank, d + 3 + 2 * rank);
    results.push_back(std::move(r));
  }
  markOwnership(results, args);
  return results;
}

void mlir::deltanet::markOwnership(std::vector<ReturnedMemRef> &results,
                                   const std::vector<DenseArray> &args) {
  for (std::size_t i = 0; i < results.size(); ++i) {
    ReturnedMemRef &r = results[i];
    r.owned = r.allocated && r.allocated != kGlobalAllocated;
    for (const DenseArray &arg : args)
      if (arg.data == r.allocated)
        r.owned = false;
    for (std::size_t j = 0; j < i; ++j)
      if (results[j].allocated == r.allocated)
        r.owned = false;
  }
}
