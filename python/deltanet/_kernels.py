"""MLIR text of the deltanet kernels for one shape, and their compile cache."""

import threading

import numpy as np

from . import _pipeline

_MLIR_TYPES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.float16): "f16",
    np.dtype(np.float64): "f64",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
}


def tensor_type(shape, dtype):
    return "tensor<" + "".join(f"{d}x" for d in shape) + _MLIR_TYPES[np.dtype(dtype)] + ">"


def f32_literal(value):
    """An exact f32 attribute: the bit pattern of float32(value) in hex."""
    bits = np.array(value, dtype=np.float32).view(np.uint32)
    return f"0x{int(bits):08X} : f32"


def tri_inv_source(shape, dtype):
    """@tri_inv(%a: shape) applying deltanet.tri_inv (options come from the pipeline)."""
    t = tensor_type(shape, dtype)
    return (
        f"func.func @tri_inv(%a: {t}) -> {t} attributes {{llvm.emit_c_interface}} {{\n"
        f"  %x = deltanet.tri_inv %a : {t}\n"
        f"  return %x : {t}\n"
        "}\n"
    )


def gated_delta_rule_source(op, shapes, dtypes, attributes):
    """@gdr(q, k, v, g, beta, h0[, cu_seqlens]) -> (o, final_state) applying `op`.

    `shapes`/`dtypes`: the six operands' (seven with the cu_seqlens offsets
    of a packed variable-length batch); `attributes`: MLIR attribute texts
    (`chunk_size = 64 : i64`, `use_qk_l2norm`, ...).
    """
    types = [tensor_type(s, d) for s, d in zip(shapes, dtypes)]
    q, k, v, g, beta, h0 = types[:6]
    varlen = len(types) == 7
    args = f"%q: {q}, %k: {k}, %v: {v}, %g: {g}, %beta: {beta}, %h0: {h0}"
    offsets = ""
    if varlen:
        args += f", %cu_seqlens: {types[6]}"
        offsets = " cu_seqlens(%cu_seqlens)"
    results = f"{v}, {h0}"
    attrs = f" {{{', '.join(attributes)}}}" if attributes else ""
    return (
        f"func.func @gdr({args})"
        f" -> ({results}) attributes {{llvm.emit_c_interface}} {{\n"
        f"  %o, %hT = deltanet.{op} %q, %k, %v, %g, %beta, %h0{offsets}{attrs}"
        f" : ({', '.join(types)}) -> ({results})\n"
        f"  return %o, %hT : {results}\n"
        "}\n"
    )


class KernelCache:
    """Compiled kernels keyed by (source, entry, target, options); one compilation per key."""

    def __init__(self):
        self._kernels = {}
        self._lock = threading.Lock()
        self._key_locks = {}

    def get(self, source, entry, options, target="cpu"):
        key = (source, entry, target, tuple(sorted(options.items())))
        with self._lock:
            kernel = self._kernels.get(key)
            if kernel is not None:
                return kernel
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                kernel = self._kernels.get(key)
            if kernel is None:
                kernel = _pipeline.compile(source, entry, target=target, **options)
                with self._lock:
                    self._kernels[key] = kernel
        return kernel

    def __len__(self):
        return len(self._kernels)

    def clear(self):
        with self._lock:
            self._kernels.clear()
            self._key_locks.clear()


CACHE = KernelCache()


def compile_cached(source, entry, options, argument_of_option, what, target="cpu"):
    """CACHE.get, with compiler errors re-raised naming the API argument.

    `argument_of_option`: {pipeline option name (dashes): API argument name};
    `what`: the call, for errors that no option explains (such as
    "deltanet.tri_inv(a of shape (24, 24), float32)").
    """
    try:
        return CACHE.get(source, entry, options, target)
    except ValueError as error:
        message = str(error)
        if message.startswith(f"invalid --deltanet-{target}-pipeline option"):
            for option, argument in argument_of_option.items():
                if option in message:
                    value = options.get(option.replace("-", "_"))
                    raise ValueError(f"{argument}={value!r} is rejected by the compiler: {message}") from None
        raise ValueError(f"{what} with options {options}: the compiler rejected the kernel: {message}") from None
