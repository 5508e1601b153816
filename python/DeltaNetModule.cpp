//===- DeltaNetModule.cpp - pybind11 module deltanet._deltanet ------------===//
//
// Python bindings of KernelSession.h: run_pipeline, cpu_pipeline_options and
// compile -> CompiledFunction, callable on NumPy arrays. Every error becomes a
// Python exception (ValueError for MLIR errors and bad values, TypeError for
// bad types); nothing crashes the interpreter.
//
//===----------------------------------------------------------------------===//

#include "KernelSession.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <cstring>

namespace py = pybind11;
using namespace deltanet_python;

namespace {

/// The NumPy dtype of `kind`; bf16 has none.
py::dtype dtypeOf(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return py::dtype("float32");
  case ElementKind::F64:
    return py::dtype("float64");
  case ElementKind::F16:
    return py::dtype("float16");
  case ElementKind::I1:
    return py::dtype("bool");
  case ElementKind::I8:
    return py::dtype("int8");
  case ElementKind::I16:
    return py::dtype("int16");
  case ElementKind::I32:
    return py::dtype("int32");
  case ElementKind::I64:
    return py::dtype("int64");
  case ElementKind::BF16:
    break;
  }
  throw py::type_error("bf16 buffers have no NumPy dtype");
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
    if (i + 1 < shape.size() || shape.size() == 1)
      s += ",";
    if (i + 1 < shape.size())
      s += " ";
  }
  return s + ")";
}

/// Checks `obj` against `spec` and returns it as an array (no copy).
py::array checkArgument(const py::handle &obj, const BufferSpec &spec,
                        const std::string &what) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(
        what + " must be a numpy.ndarray, got " +
        std::string(py::str(py::type::of(obj).attr("__name__"))));
  auto array = py::reinterpret_borrow<py::array>(obj);
  py::dtype expected = dtypeOf(spec.kind);
  if (!array.dtype().is(expected) && !array.dtype().equal(expected))
    throw py::type_error(what + " must have dtype " +
                         std::string(py::str(expected)) + " (" + spec.typeText +
                         "), got " + std::string(py::str(array.dtype())));
  if (static_cast<size_t>(array.ndim()) != spec.shape.size())
    throw py::value_error(
        what + " must have rank " + std::to_string(spec.shape.size()) + " (" +
        spec.typeText + "), got shape " +
        shapeText({array.shape(), array.shape() + array.ndim()}));
  for (size_t i = 0; i < spec.shape.size(); ++i)
    if (spec.shape[i] >= 0 && array.shape(i) != spec.shape[i])
      throw py::value_error(
          what + " must have shape " + shapeText(spec.shape) + " (" +
          spec.typeText + "), got " +
          shapeText({array.shape(), array.shape() + array.ndim()}));
  if (!(array.flags() & py::array::c_style))
    throw py::value_error(
        what + " must be C-contiguous (use numpy.ascontiguousarray)");
  if (!array.attr("flags").attr("aligned").cast<bool>())
    throw py::value_error(what + " must be aligned to its element size");
  return array;
}

/// Wraps a callee-allocated result: NumPy takes ownership of an owned buffer,
/// anything else is copied.
py::array wrapResult(const ResultBuffer &r, const BufferSpec &spec) {
  int64_t itemSize = elementSize(spec.kind);
  std::vector<py::ssize_t> shape(r.sizes.begin(), r.sizes.end());
  std::vector<py::ssize_t> strides;
  for (int64_t s : r.strides)
    strides.push_back(s * itemSize);
  char *data = static_cast<char *>(r.aligned) + r.offset * itemSize;
  py::dtype dtype = dtypeOf(spec.kind);
  if (!r.owned) {
    py::array view(dtype, shape, strides, data, py::none());
    return py::array(view.attr("copy")());
  }
  py::capsule owner(r.allocated, [](void *p) { std::free(p); });
  return py::array(dtype, shape, strides, data, owner);
}

/// Frees the owned results of a call whose outputs could not be wrapped.
void freeOwned(const std::vector<ResultBuffer> &results, size_t from) {
  for (size_t i = from; i < results.size(); ++i)
    if (results[i].owned)
      std::free(results[i].allocated);
}

/// The outputs of a results-to-out-params function: the arrays of `out` (one
/// array or a sequence, one per result, checked like arguments, writable and
/// not overlapping any input) or, for None, new uninitialised arrays that the
/// function fills.
std::vector<py::array> outputArrays(const CompiledFunction &fn,
                                    const py::object &out,
                                    const std::vector<py::array> &inputs) {
  const std::vector<BufferSpec> &specs = fn.results();
  std::vector<py::array> arrays;
  if (out.is_none()) {
    for (const BufferSpec &spec : specs)
      arrays.push_back(py::array(dtypeOf(spec.kind), spec.shape));
    return arrays;
  }
  py::list given;
  if (py::isinstance<py::array>(out))
    given.append(out);
  else if (py::isinstance<py::tuple>(out) || py::isinstance<py::list>(out))
    given = py::list(out);
  else
    throw py::type_error(
        "out= of @" + fn.name() +
        " must be a numpy.ndarray or a tuple of them, got " +
        std::string(py::str(py::type::of(out).attr("__name__"))));
  if (given.size() != specs.size())
    throw py::type_error("out= of @" + fn.name() + " takes " +
                         std::to_string(specs.size()) + " arrays, got " +
                         std::to_string(given.size()));
  for (size_t i = 0; i < specs.size(); ++i) {
    std::string what = "out[" + std::to_string(i) + "] (result " +
                       std::to_string(i) + " of @" + fn.name() + ")";
    arrays.push_back(checkArgument(given[i], specs[i], what));
    const py::array &a = arrays.back();
    if (!a.writeable())
      throw py::value_error(what + " must be writable");
    auto overlaps = [](const py::array &x, const py::array &y) {
      auto begin = [](const py::array &z) {
        return static_cast<const char *>(z.data());
      };
      return x.nbytes() && y.nbytes() && begin(x) < begin(y) + y.nbytes() &&
             begin(y) < begin(x) + x.nbytes();
    };
    for (size_t j = 0; j < inputs.size(); ++j)
      if (overlaps(a, inputs[j]))
        throw py::value_error(what + " overlaps argument " + std::to_string(j));
    for (size_t j = 0; j + 1 < arrays.size(); ++j)
      if (overlaps(a, arrays[j]))
        throw py::value_error(what + " overlaps out[" + std::to_string(j) +
                              "]");
  }
  return arrays;
}

py::object callCompiled(const CompiledFunction &fn, const py::args &args,
                        const py::kwargs &kwargs) {
  py::object out = py::none();
  for (auto [key, value] : kwargs) {
    std::string name = py::str(key);
    if (name != "out")
      throw py::type_error("@" + fn.name() +
                           " got an unexpected keyword argument '" + name +
                           "'");
    out = py::reinterpret_borrow<py::object>(value);
  }
  if (!out.is_none() && !fn.writesResultsIntoOutputs())
    throw py::type_error("out= needs a function compiled with "
                         "results_to_out_params=True; @" +
                         fn.name() + " returns its results");
  const std::vector<BufferSpec> &specs = fn.arguments();
  if (args.size() != specs.size())
    throw py::type_error("@" + fn.name() + " takes " +
                         std::to_string(specs.size()) + " arguments, got " +
                         std::to_string(args.size()));
  std::vector<py::array> arrays;
  std::vector<InputBuffer> inputs;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].kind == ElementKind::BF16)
      throw py::type_error("argument " + std::to_string(i) + " of @" +
                           fn.name() + " is " + specs[i].typeText +
                           ": bf16 buffers have no NumPy dtype");
    arrays.push_back(
        checkArgument(args[i], specs[i],
                      "argument " + std::to_string(i) + " of @" + fn.name()));
    py::array &a = arrays.back();
    // Kernels never write their inputs (public function arguments are
    // read-only for bufferization), so read-only arrays are fine.
    inputs.push_back(
        {const_cast<void *>(a.data()), {a.shape(), a.shape() + a.ndim()}});
  }
  for (const BufferSpec &spec : fn.results())
    if (spec.kind == ElementKind::BF16)
      throw py::type_error("@" + fn.name() + " returns " + spec.typeText +
                           ": bf16 buffers have no NumPy dtype");
  if (fn.writesResultsIntoOutputs()) {
    std::vector<py::array> outArrays = outputArrays(fn, out, arrays);
    std::vector<InputBuffer> outputs;
    for (py::array &a : outArrays)
      outputs.push_back({a.mutable_data(), {a.shape(), a.shape() + a.ndim()}});
    {
      py::gil_scoped_release release;
      fn.callInto(inputs, outputs);
    }
    if (outArrays.size() == 1)
      return outArrays[0];
    py::tuple results(outArrays.size());
    for (size_t i = 0; i < outArrays.size(); ++i)
      results[i] = outArrays[i];
    return std::move(results);
  }
  std::vector<ResultBuffer> results;
  {
    py::gil_scoped_release release;
    results = fn.call(inputs);
  }
  py::tuple wrapped(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    try {
      wrapped[i] = wrapResult(results[i], fn.results()[i]);
    } catch (...) {
      freeOwned(results, i);
      throw;
    }
  }
  if (results.size() == 1)
    return wrapped[0];
  return std::move(wrapped);
}

py::list specList(const std::vector<BufferSpec> &specs) {
  py::list list;
  for (const BufferSpec &spec : specs)
    list.append(spec.typeText);
  return list;
}

} // namespace

PYBIND11_MODULE(_deltanet, m) {
  m.doc() = "deltanet compiler bindings (MLIR pipelines and CPU JIT)";

  m.def(
      "run_pipeline",
      [](const std::string &source, const std::string &pipeline) {
        std::string output, error;
        bool ok;
        {
          py::gil_scoped_release release;
          ok = runPipeline(source, pipeline, output, error);
        }
        if (!ok)
          throw py::value_error(error);
        return output;
      },
      py::arg("mlir_text"), py::arg("pipeline"),
      "Parses mlir_text, runs the textual pass pipeline, returns the printed "
      "module. Raises ValueError with the diagnostics on failure.");

  // The mgpu* runtime that GPU code JIT-compiled by `compile` calls (the
  // same shared library, so deltanet.gpu sets its device and stream).
  m.attr("GPU_RUNTIME_LIBRARY") = DELTANET_GPU_RUNTIME_LIBRARY;

  m.def("pipeline_options", &pipelineOptions, py::arg("target") = "cpu",
        "The options of the target's pipeline (deltanet-<target>-pipeline) "
        "with their defaults, as MLIR prints them; empty for a target "
        "without a pipeline.");

  py::class_<CompiledFunction>(m, "CompiledFunction")
      .def_property_readonly("name", &CompiledFunction::name)
      .def_property_readonly(
          "argument_types",
          [](const CompiledFunction &fn) { return specList(fn.arguments()); })
      .def_property_readonly(
          "result_types",
          [](const CompiledFunction &fn) { return specList(fn.results()); })
      .def_property_readonly("c_interface_address",
                             &CompiledFunction::cInterfaceAddress)
      .def_property_readonly("results_to_out_params",
                             &CompiledFunction::writesResultsIntoOutputs)
      .def("__call__", &callCompiled,
           "Calls the function on C-contiguous NumPy arrays; returns the "
           "result array, or a tuple of them. A function compiled with "
           "results_to_out_params=True writes them into `out=` (an array or "
           "a tuple, one per result: C-contiguous, writable, the results' "
           "dtypes and shapes, not overlapping an argument) and returns "
           "those arrays; without out= it allocates them.");

  m.def(
      "compile",
      [](const std::string &source, const std::string &entry,
         const std::string &target, const std::string &options) {
        std::string error;
        std::unique_ptr<CompiledFunction> fn;
        {
          py::gil_scoped_release release;
          fn = CompiledFunction::compile(source, entry, target, options, error);
        }
        if (!fn)
          throw py::value_error(error);
        return fn;
      },
      py::arg("mlir_text"), py::arg("entry"), py::arg("target") = "cpu",
      py::arg("options") = "",
      "JIT-compiles @entry with the target's pipeline and the given "
      "space-separated options. Raises ValueError with the diagnostics on "
      "failure.");
}
