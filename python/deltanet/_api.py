"""High-level kernels on NumPy arrays: tri_inv and the gated delta rule."""

import numpy as np

from . import _gpu_ops, _kernels
from ._validation import (
    check_array,
    check_bool,
    check_choice,
    check_dims,
    check_int,
    check_optional_float,
    check_power_of_two,
    check_str,
    check_target,
)

STRATEGIES = ("blocked", "neumann", "forward-substitution")

# Pipeline options of the API arguments, to name them in compiler errors.
_ARGUMENT_OF_OPTION = {
    "tri-inv-strategy": "strategy",
    "tri-inv-block-size": "block_size",
    "tri-inv-order": "order",
    "tri-inv-residual-steps": "residual_steps",
    "tri-inv-precision": "precision",
    "tri-inv-tolerance": "tolerance",
}


def _tri_inv_options(strategy, block_size, order, residual_steps, precision, tolerance):
    """Checked pipeline options {python name: value} of the tri_inv arguments."""
    strategy = check_choice(strategy.replace("_", "-") if isinstance(strategy, str) else strategy, "strategy", STRATEGIES)
    options = {
        "tri_inv_strategy": strategy,
        "tri_inv_order": -1 if order is None else check_int(order, "order", minimum=1),
        "tri_inv_residual_steps": check_int(residual_steps, "residual_steps", minimum=0),
        # Passed through: the compiler decides which precisions it supports.
        "tri_inv_precision": check_str(precision, "precision"),
    }
    if block_size is not None:  # None: the compiler's default
        options["tri_inv_block_size"] = check_power_of_two(block_size, "block_size")
    tolerance = check_optional_float(tolerance, "tolerance", positive=True)
    if tolerance is not None:
        options["tri_inv_tolerance"] = repr(tolerance)
    return options


def _fit_block_size(options, c, c_name, where):
    """A block larger than a power-of-two C is one block of C; otherwise the block must divide C."""
    block = options.get("tri_inv_block_size")
    if options["tri_inv_strategy"] != "blocked" or block is None:
        return
    if block > c and not c & (c - 1):
        options["tri_inv_block_size"] = c
    elif c % block:
        raise ValueError(f"block_size={block} must divide {c_name}={c} {where}".rstrip())


def tri_inv(a, strategy="blocked", block_size=None, order=None, residual_steps=0, precision="f32", tolerance=None,
            target="cpu"):
    """X = (I + tril(a, -1))^-1 for every trailing C x C matrix of `a`.

    a: C-contiguous float32 or float16 array [..., C, C]; the diagonal and the
    upper triangle are ignored. strategy: "blocked" (exact Neumann inverses
    of diagonal blocks + matmul merges), "neumann" (product form, truncated by
    `order`) or "forward-substitution". block_size: diagonal block size of
    "blocked" (a power of two dividing C, capped at C; None = the compiler's
    default: 16, or 4 with precision="i8", whose Neumann sums inside larger
    blocks lose the cancelling powers).
    order: Neumann product factors
    (None = exact). residual_steps: corrections X <- X + X (I - (I + L) X).
    precision: element type of the matmul operands ("f32", "bf16", "f16",
    "i8" where the compiler supports it); accumulation is f32. tolerance:
    relative error budget the compiler may spend (if it supports the option).
    target: where the kernel runs: "cpu" (NumPy arrays) or "gpu" (torch
    CUDA tensors in and out, float32/float16/bfloat16, launched on torch's
    current stream; NumPy arrays are rejected).
    Returns an array like `a`. Kernels are compiled once per shape, dtype and
    options and cached.
    """
    target = check_target(target)
    if target == "gpu":
        options = _tri_inv_options(strategy, block_size, order, residual_steps, precision, tolerance)
        if hasattr(a, "shape") and len(a.shape) >= 2:
            _fit_block_size(options, a.shape[-1], "C", "(the last dimension of a)")
        return _gpu_ops.tri_inv(a, options, _ARGUMENT_OF_OPTION)
    a = check_array(a, "a", (np.float32, np.float16))
    if a.ndim < 2:
        raise ValueError(f"a must have rank >= 2 [..., C, C], got shape {a.shape}")
    c = a.shape[-1]
    if a.shape[-2] != c:
        raise ValueError(f"a must hold square matrices [..., C, C], got shape {a.shape}")
    if c == 0:
        raise ValueError(f"a must have C >= 1, got shape {a.shape}")
    options = _tri_inv_options(strategy, block_size, order, residual_steps, precision, tolerance)
    _fit_block_size(options, c, "C", "(the last dimension of a)")
    batch = int(np.prod(a.shape[:-2], dtype=np.int64))
    if batch == 0:
        return np.empty_like(a)
    flat = a.reshape(batch, c, c)
    kernel = _kernels.compile_cached(
        _kernels.tri_inv_source(flat.shape, a.dtype), "tri_inv", options, _ARGUMENT_OF_OPTION,
        f"deltanet.tri_inv(a of shape {a.shape}, {a.dtype})", target,
    )
    return kernel(flat).reshape(a.shape)


def check_cu_seqlens(cu_seqlens, batch, tokens):
    """Checks packed-sequence offsets (data, so checked here, at run time).

    `cu_seqlens`: a 1-D int32/int64 array of N + 1 offsets starting at 0,
    never decreasing, ending at T; the batch must be 1. Returns it
    (C-contiguous) and N.
    """
    if not isinstance(cu_seqlens, np.ndarray):
        raise TypeError(f"cu_seqlens must be a numpy.ndarray, got {type(cu_seqlens).__name__}")
    if cu_seqlens.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        raise TypeError(f"cu_seqlens must have dtype int32 or int64, got {cu_seqlens.dtype}")
    if cu_seqlens.ndim != 1 or cu_seqlens.shape[0] < 2:
        raise ValueError(f"cu_seqlens must have shape [N + 1] with N >= 1 sequences, got shape {cu_seqlens.shape}")
    cu_seqlens = np.ascontiguousarray(cu_seqlens)
    if batch != 1:
        raise ValueError(f"with cu_seqlens the sequences are packed along T and the batch B must be 1, got B = {batch}")
    if cu_seqlens[0] != 0:
        raise ValueError(f"cu_seqlens must start at 0, got {int(cu_seqlens[0])}")
    steps = np.diff(cu_seqlens)
    if (steps < 0).any():
        i = int(np.argmax(steps < 0)) + 1
        raise ValueError(
            f"cu_seqlens must not decrease, but offset {i} is {int(cu_seqlens[i])} after {int(cu_seqlens[i - 1])}"
        )
    if cu_seqlens[-1] != tokens:
        raise ValueError(f"the last cu_seqlens offset must be T = {tokens}, got {int(cu_seqlens[-1])}")
    return cu_seqlens, cu_seqlens.shape[0] - 1


def _check_gated_delta_rule_inputs(q, k, v, g, beta, initial_state, cu_seqlens=None):
    """Checks layouts and dtypes; returns the operands (cu_seqlens last, if
    given) and (B, T, H, HV, K, V)."""
    q = check_array(q, "q", (np.float32, np.float16), 4, "[B, T, H, K]")
    k = check_array(k, "k", (q.dtype,), 4, "[B, T, H, K]")
    v = check_array(v, "v", (q.dtype,), 4, "[B, T, HV, V]")
    batch, tokens, heads, key_dim = q.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    check_dims("k", k, q.shape, "[B, T, H, K] (as q)")
    check_dims("v", v, (batch, tokens, value_heads, value_dim), "[B, T, HV, V] (B, T as q)")
    side_dtypes = tuple(dict.fromkeys((np.float32, q.dtype.type)))
    g = check_array(g, "g", side_dtypes, 3, "[B, T, HV]")
    beta = check_array(beta, "beta", side_dtypes, 3, "[B, T, HV]")
    check_dims("g", g, (batch, tokens, value_heads), "[B, T, HV]")
    check_dims("beta", beta, (batch, tokens, value_heads), "[B, T, HV]")
    for name, dim in (("H (q.shape[2])", heads), ("K (q.shape[3])", key_dim),
                      ("HV (v.shape[2])", value_heads), ("V (v.shape[3])", value_dim)):
        if dim == 0:
            raise ValueError(f"{name} must be >= 1")
    if value_heads % heads:
        raise ValueError(f"v: HV = {value_heads} value heads must be a multiple of the H = {heads} heads of q and k")
    states, layout = batch, "[B, HV, K, V]"
    if cu_seqlens is not None:
        cu_seqlens, states = check_cu_seqlens(cu_seqlens, batch, tokens)
        layout = "[N, HV, K, V] (N = len(cu_seqlens) - 1 sequences)"
    state_shape = (states, value_heads, key_dim, value_dim)
    if initial_state is None:
        initial_state = np.zeros(state_shape, dtype=np.float32)
    else:
        initial_state = check_array(initial_state, "initial_state", side_dtypes, 4, layout)
        check_dims("initial_state", initial_state, state_shape, layout)
    operands = (q, k, v, g, beta, initial_state)
    if cu_seqlens is not None:
        operands += (cu_seqlens,)
    return operands, (batch, tokens, heads, value_heads, key_dim, value_dim)


def _gated_delta_rule_gpu(op, q, k, v, g, beta, initial_state, cu_seqlens, attributes, options, out):
    if cu_seqlens is not None:
        raise NotImplementedError("cu_seqlens with target='gpu' is not supported yet (the GPU pipeline does not "
                                  "lower the packed variable-length form)")
    if out is not None:
        raise NotImplementedError("out= with target='gpu' is not supported yet (the GPU kernels are "
                                  "destination-passing already: deltanet.compile(..., target='gpu') takes the "
                                  "output buffers as arguments)")
    return _gpu_ops.gated_delta_rule(op, q, k, v, g, beta, initial_state, attributes, options, _ARGUMENT_OF_OPTION)


def _check_outputs(out, expected, where):
    """The arrays of `out` against the `expected` [(shape, dtype)]: NumPy,
    C-contiguous and writable (the checks the compiled callable makes, for
    the empty calls that do not reach it)."""
    for i, (x, (shape, dtype)) in enumerate(zip(out, expected)):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"out[{i}] of {where} must be a numpy.ndarray, got {type(x).__name__}")
        if x.shape != tuple(shape) or x.dtype != dtype:
            raise ValueError(f"out[{i}] of {where} must have shape {tuple(shape)} and dtype {np.dtype(dtype)}, "
                             f"got {x.shape} {x.dtype}")
        if not x.flags.c_contiguous or not x.flags.writeable:
            raise ValueError(f"out[{i}] of {where} must be C-contiguous and writable")
    return tuple(out)


def _gated_delta_rule(op, operands, dims, attributes, options, target, out=None):
    v, h0 = operands[2], operands[5]
    batch, tokens = dims[0], dims[1]
    if out is not None and (not isinstance(out, (tuple, list)) or len(out) != 2):
        raise TypeError(f"out= of deltanet.{op} takes a tuple of 2 arrays (o, final_state), got "
                        f"{type(out).__name__}" + (f" of {len(out)}" if isinstance(out, (tuple, list)) else ""))
    if batch == 0 or tokens == 0:
        if out is None:
            return np.zeros(v.shape, dtype=v.dtype), h0.copy()
        o, state = _check_outputs(out, [(v.shape, v.dtype), (h0.shape, h0.dtype)], f"deltanet.{op}")
        o[...] = 0
        state[...] = h0
        return o, state
    source = _kernels.gated_delta_rule_source(
        op, [x.shape for x in operands], [x.dtype for x in operands], attributes
    )
    names = ("q", "k", "v", "g", "beta", "initial_state", "cu_seqlens")
    shapes = ", ".join(f"{name} {x.shape} {x.dtype}" for name, x in zip(names, operands))
    if out is not None:
        # The results written into the caller's arrays: nothing allocated
        # (nor page-faulted) per call.
        options = dict(options, results_to_out_params=True)
    kernel = _kernels.compile_cached(
        source, "gdr", options, _ARGUMENT_OF_OPTION, f"deltanet.{op}({shapes}; {', '.join(attributes)})", target
    )
    if out is None:
        return kernel(*operands)
    return kernel(*operands, out=tuple(out))


def _common_attributes(scale, use_qk_l2norm):
    attributes = []
    scale = check_optional_float(scale, "scale")
    if scale is not None:
        with np.errstate(over="ignore"):
            as_f32 = np.float32(scale)
        if not np.isfinite(as_f32) or as_f32 == 0:
            raise ValueError(f"scale must be finite and non-zero in float32, got {scale}")
        attributes.append(f"scale = {_kernels.f32_literal(scale)}")
    if check_bool(use_qk_l2norm, "use_qk_l2norm"):
        attributes.append("use_qk_l2norm")
    return attributes


def chunk_gated_delta_rule(
    q, k, v, g, beta, initial_state=None, chunk_size=64, scale=None, use_qk_l2norm=False, precision="f32",
    tolerance=None, target="cpu", cu_seqlens=None, out=None, **tri_inv_options
):
    """Gated DeltaNet attention, chunk-wise form (prefill); returns (o, final_state).

    Layouts of flash-linear-attention: q, k [B, T, H, K]; v [B, T, HV, V];
    g (log decay, <= 0), beta [B, T, HV]; initial_state [B, HV, K, V] (zeros
    if None); o [B, T, HV, V] with v's dtype, final_state [B, HV, K, V] with
    initial_state's dtype. q, k, v: float32 or float16 (computed in f32);
    g, beta, initial_state: float32 or q's dtype. HV must be a multiple of H.
    chunk_size: a power of two; scale: defaults to K^-1/2; use_qk_l2norm:
    L2-normalise q and k first. precision: matmul operand type of the
    in-chunk triangular inverse ("f32", "bf16", "f16", "i8" where supported).
    tri_inv_options: strategy, block_size, order, residual_steps of that
    inverse, as in tri_inv. target: as in tri_inv ("gpu": torch CUDA
    tensors, q/k/v may be bfloat16, o and final_state returned as CUDA
    tensors; cu_seqlens not yet).
    cu_seqlens: variable-length batch (flash-linear-attention's
    convention): int32/int64 offsets [N + 1] of N sequences packed along T
    with B = 1 (0 first, non-decreasing, T last; checked here since the
    compiled code only clamps them); initial_state and final_state are then
    [N, HV, K, V], one per sequence, and chunks never straddle sequences.
    out: optional (o, final_state) NumPy arrays of the results' shapes and
    dtypes, C-contiguous, writable, overlapping no input nor each other
    (CPU only): the results are written there and returned; the kernel is
    then compiled with results_to_out_params, so a loop into the same
    arrays allocates (and page-faults) nothing per call.
    """
    target = check_target(target)
    if target != "gpu":
        operands, dims = _check_gated_delta_rule_inputs(q, k, v, g, beta, initial_state, cu_seqlens)
    chunk_size = check_power_of_two(chunk_size, "chunk_size")
    unknown = set(tri_inv_options) - {"strategy", "block_size", "order", "residual_steps"}
    if unknown:
        raise TypeError(f"chunk_gated_delta_rule() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    # Without block_size the compiler's default applies (capped by the chunk).
    inverse = {"strategy": "blocked", "block_size": None if chunk_size >= 16 else chunk_size, "order": None,
               "residual_steps": 0}
    inverse.update(tri_inv_options)
    options = _tri_inv_options(precision=precision, tolerance=tolerance, **inverse)
    _fit_block_size(options, chunk_size, "chunk_size", "")
    attributes = [f"chunk_size = {chunk_size} : i64"] + _common_attributes(scale, use_qk_l2norm)
    if target == "gpu":
        return _gated_delta_rule_gpu("chunk_gated_delta_rule", q, k, v, g, beta, initial_state, cu_seqlens,
                                     attributes, options, out)
    return _gated_delta_rule("chunk_gated_delta_rule", operands, dims, attributes, options, target, out)


def recurrent_gated_delta_rule(q, k, v, g, beta, initial_state=None, scale=None, use_qk_l2norm=False,
                               target="cpu", cu_seqlens=None, out=None):
    """Gated DeltaNet attention token by token (decode path); returns (o, final_state).

    Same arguments (cu_seqlens and out included), layouts and results as
    chunk_gated_delta_rule, without chunking options.
    """
    target = check_target(target)
    attributes = _common_attributes(scale, use_qk_l2norm)
    if target == "gpu":
        return _gated_delta_rule_gpu("recurrent_gated_delta_rule", q, k, v, g, beta, initial_state, cu_seqlens,
                                     attributes, {}, out)
    operands, dims = _check_gated_delta_rule_inputs(q, k, v, g, beta, initial_state, cu_seqlens)
    return _gated_delta_rule("recurrent_gated_delta_rule", operands, dims, attributes, {}, target, out)
