//===- TargetInfo.cpp - The registry of deltanet targets ------------------===//
//
// Holds the TargetInfo of every registered target, by name.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/Common/TargetInfo.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ManagedStatic.h"

#include <mutex>

using namespace mlir;
using namespace mlir::deltanet;

TargetInfo::~TargetInfo() = default;

namespace {
struct TargetRegistry {
  std::mutex mutex;
  llvm::StringMap<std::unique_ptr<TargetInfo>> targets;
};
} // namespace

static llvm::ManagedStatic<TargetRegistry> registry;

void mlir::deltanet::registerTargetInfo(std::unique_ptr<TargetInfo> target) {
  std::lock_guard<std::mutex> lock(registry->mutex);
  std::string name = target->getName().str();
  registry->targets.try_emplace(name, std::move(target));
}

const TargetInfo *mlir::deltanet::lookupTargetInfo(llvm::StringRef name) {
  std::lock_guard<std::mutex> lock(registry->mutex);
  auto it = registry->targets.find(name);
  return it == registry->targets.end() ? nullptr : it->second.get();
}

std::string mlir::deltanet::getRegisteredTargetNames() {
  std::lock_guard<std::mutex> lock(registry->mutex);
  llvm::SmallVector<llvm::StringRef> names;
  for (const auto &entry : registry->targets)
    names.push_back(entry.getKey());
  llvm::sort(names);
  return llvm::join(names, ", ");
}
