"""Pipelines and JIT compilation of MLIR text, with option checking."""

import functools
import re

from . import _deltanet

CPU_PIPELINE = "deltanet-cpu-pipeline"


@functools.lru_cache(maxsize=None)
def pipeline_options(target="cpu"):
    """The options of deltanet-<target>-pipeline: {name: default value text}.

    The compiler declares them (the tri_inv options once, in the pass's ODS
    declaration); this only reads what it prints. Raises ValueError for a
    target without a pipeline.
    """
    text = _deltanet.pipeline_options(target).strip()
    if not text:
        raise ValueError(f"target {target!r} has no pipeline in this build")
    text = text[1:-1] if text.startswith("{") and text.endswith("}") else text
    options = {}
    for item in text.split():
        name, _, value = item.partition("=")
        options[name] = value
    return options


def cpu_pipeline_options():
    """The options of --deltanet-cpu-pipeline: {name: default value text}."""
    return pipeline_options("cpu")


def format_options(options, what, known=None):
    """`{python_name: value}` -> "mlir-name=value ..."; checks names in `known`."""
    parts = []
    for key, value in options.items():
        name = key.replace("_", "-")
        if known is not None and name not in known:
            raise ValueError(
                f"unknown option {key!r} of {what}; known options: "
                + ", ".join(sorted(k.replace("-", "_") for k in known))
            )
        if isinstance(value, bool):
            value = "true" if value else "false"
        value = str(value)
        if not value or re.search(r"[\s{}=,()]", value):
            raise ValueError(f"option {key!r} of {what}: invalid value {value!r}")
        parts.append(f"{name}={value}")
    return " ".join(parts)


def run_pipeline(mlir_text, pipeline=CPU_PIPELINE, **options):
    """Parses `mlir_text`, runs `pipeline` with `options`, returns the printed module.

    `pipeline` is a pass or pipeline name (`deltanet-cpu-pipeline`,
    `deltanet-lower-tri-inv`, ...), to which `options` are attached
    (`tri_inv_strategy="neumann"` -> `{tri-inv-strategy=neumann}`), or, without
    options, any textual pipeline (`builtin.module(a,func.func(b))`, `a,b`).
    MLIR errors raise ValueError with the diagnostics and their locations.
    """
    if not isinstance(mlir_text, str):
        raise TypeError(f"mlir_text must be a str, got {type(mlir_text).__name__}")
    if not isinstance(pipeline, str):
        raise TypeError(f"pipeline must be a str, got {type(pipeline).__name__}")
    if options:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", pipeline.strip()):
            raise ValueError(
                f"pipeline: options can only be attached to a single pass or pipeline name, got {pipeline!r}"
            )
        match = re.fullmatch(r"deltanet-(\w+)-pipeline", pipeline.strip())
        known = pipeline_options(match.group(1)) if match else None
        pipeline = f"{pipeline.strip()}{{{format_options(options, pipeline.strip(), known)}}}"
    return _deltanet.run_pipeline(mlir_text, pipeline)


def compile(mlir_text, entry, target="cpu", **options):
    """JIT-compiles function `entry` of `mlir_text` through deltanet-<target>-pipeline.

    `target` is a target with a pipeline and a JIT in this build ("cpu",
    "gpu"). `options` are the pipeline's (`tri_inv_strategy="neumann"`,
    `tri_inv_block_size=8`, ...).

    cpu: returns a callable taking C-contiguous NumPy arrays (one per
    function argument; dtypes and static dims must match the function's
    types) and returning the result array, or a tuple of them. Tensor and
    identity-layout memref arguments/results of f32, f64, f16, i1, i8..i64
    are supported. With `results_to_out_params=True` (static result shapes)
    the callable writes the results into `out=` (one array or a tuple, one
    per result: C-contiguous, writable, not overlapping an argument) and
    returns those arrays, allocating them when `out` is omitted: a loop
    calling it into the same arrays allocates nothing per call.

    gpu: `entry` must be destination-passing (memref arguments, results
    written into them, nothing returned; see docs/GPU.md). Returns a
    deltanet.gpu.EntryPoint: called on device buffers (torch CUDA tensors or
    `__cuda_array_interface__` objects, C-contiguous, the memrefs' shapes
    and element types, bf16 included), it launches the kernels on torch's
    current stream and returns None. NumPy arrays are rejected (host
    memory). Compiling needs no GPU; without a driver a call raises
    RuntimeError("... no CUDA driver ...").

    `llvm.emit_c_interface` is added to `entry` if missing.
    """
    if not isinstance(mlir_text, str):
        raise TypeError(f"mlir_text must be a str, got {type(mlir_text).__name__}")
    if not isinstance(entry, str) or not entry:
        raise TypeError(f"entry must be a non-empty str, got {entry!r}")
    if not isinstance(target, str):
        raise TypeError(f"target must be a str, got {type(target).__name__}")
    if target not in ("cpu", "gpu"):
        raise ValueError(f"target must be 'cpu' or 'gpu' (the JIT targets of this build), got {target!r}")
    option_text = format_options(options, f"deltanet-{target}-pipeline", pipeline_options(target))
    function = _deltanet.compile(mlir_text, entry.lstrip("@"), target, option_text)
    if target == "cpu":
        return function
    from . import gpu

    return gpu.jit_entry_point(function, _deltanet.GPU_RUNTIME_LIBRARY,
                               promised_alignment=gpu.promised_alignment(option_text))
