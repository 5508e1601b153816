//===- KernelSession.h - MLIR-free core of the Python extension -*- C++ -*-===//
//
// What the Python extension needs from MLIR (run a pipeline on text, JIT a
// function and call it on dense buffers), behind an interface made of plain
// C++ types only. It is compiled with LLVM's flags (no exceptions) and never
// throws: errors come back as text. The pybind11 layer (DeltaNetModule.cpp)
// converts them into Python exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_PYTHON_KERNELSESSION_H
#define DELTANET_PYTHON_KERNELSESSION_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deltanet_python {

/// Element types a compiled function may take or return.
enum class ElementKind { F32, F64, F16, BF16, I1, I8, I16, I32, I64 };

/// A ranked tensor or memref parameter: element type and dims (-1 = dynamic).
struct BufferSpec {
  ElementKind kind;
  std::vector<int64_t> shape;
  std::string typeText; ///< As MLIR prints it, for messages.
};

/// A dense row-major input buffer.
struct InputBuffer {
  void *data;
  std::vector<int64_t> shape;
};

/// A result memref as the callee returned it. When `owned`, `allocated` came
/// from malloc in the callee and the receiver must free it; otherwise (a
/// global, an input, or a buffer returned twice) the data must be copied.
struct ResultBuffer {
  void *allocated;
  void *aligned;
  int64_t offset;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  bool owned;
};

/// Parses `source`, runs the textual pass `pipeline` on it (see
/// mlirDeltaNetRunPassPipeline for the accepted forms) and prints the result
/// into `output`. On failure returns false and sets `error`.
bool runPipeline(const std::string &source, const std::string &pipeline,
                 std::string &output, std::string &error);

/// The options of `target`'s pipeline and their defaults, as printed by
/// MLIR: `{tri-inv-batch-tile=-1 tri-inv-block-size=0 ...}`; empty for a
/// target without a pipeline.
std::string pipelineOptions(const std::string &target);

/// A function of an MLIR module JIT-compiled for the host (CPU code, or host
/// code launching embedded GPU kernels).
class CompiledFunction {
public:
  /// Compiles `entry` of `source` with the pipeline of `target` ("cpu",
  /// "gpu") and
  /// `options` (space-separated `key=value`). Adds `llvm.emit_c_interface`
  /// to the entry if missing. On failure returns null and sets `error`.
  static std::unique_ptr<CompiledFunction> compile(const std::string &source,
                                                   const std::string &entry,
                                                   const std::string &target,
                                                   const std::string &options,
                                                   std::string &error);
  ~CompiledFunction();

  const std::vector<BufferSpec> &arguments() const { return argSpecs; }
  const std::vector<BufferSpec> &results() const { return resultSpecs; }
  const std::string &name() const { return entryName; }

  /// Calls the function. `inputs` must match `arguments()` (checked by the
  /// caller); returns the results. Thread-safe; does not touch Python.
  std::vector<ResultBuffer> call(const std::vector<InputBuffer> &inputs) const;

  /// Whether the function was compiled with results-to-out-params: it then
  /// returns nothing and writes each of `results()` into a caller buffer.
  bool writesResultsIntoOutputs() const { return outParams; }

  /// Calls a results-to-out-params function: `inputs` as for call(),
  /// `outputs` one writable dense buffer per `results()` (static shapes,
  /// checked by the caller), not overlapping the inputs.
  void callInto(const std::vector<InputBuffer> &inputs,
                const std::vector<InputBuffer> &outputs) const;

  /// The address of `_mlir_ciface_<entry>` (memref descriptor pointers in
  /// parameter order), for callers that build the descriptors themselves:
  /// the GPU target, whose arguments are device pointers (deltanet.gpu).
  uintptr_t cInterfaceAddress() const;

private:
  CompiledFunction();
  struct Impl;
  std::unique_ptr<Impl> impl;
  std::string entryName;
  std::vector<BufferSpec> argSpecs, resultSpecs;
  bool outParams = false;
};

/// Size in bytes of one element of `kind`.
int64_t elementSize(ElementKind kind);

} // namespace deltanet_python

#endif // DELTANET_PYTHON_KERNELSESSION_H
