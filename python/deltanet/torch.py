"""PyTorch drop-in for flash-linear-attention's gated delta rule (CPU).

    from deltanet.torch import chunk_gated_delta_rule, fused_recurrent_gated_delta_rule

Same signatures, layouts and semantics as `fla.ops.gated_delta_rule`:
q, k [B, T, H, K]; v [B, T, HV, V]; g (per-token log decay, <= 0) and
beta [B, T, HV]; initial_state [B, HV, K, V] (or [N, HV, K, V] with
cu_seqlens); value head j reads q/k head j // (HV / H). Returns
(o, final_state): o [B, T, HV, V] with v's dtype, final_state float32 and
None unless output_final_state. `cu_seqlens` (int32/int64 [N + 1], B = 1)
packs N sequences along T, each with its own state.

Tensors: float32, float16 and bfloat16 on the CPU (CUDA tensors: the op
functions with target="gpu", or deltanet.gpu's ahead-of-time kernels),
forward only (no autograd: inputs are detached). Data crosses
into the compiled kernels without copies where the layout allows:
contiguous float32/float16 tensors are NumPy views of the same memory, and
results are returned as tensors over the kernels' output buffers
(`torch.from_numpy`). Copies happen only for
  * non-contiguous tensors (made contiguous, as fla does),
  * bfloat16, which has no NumPy dtype: bf16 tensors are converted to
    float32 explicitly (the kernels compute in f32 anyway) and o is
    converted back to bfloat16,
  * dtypes the op does not take together (g or beta in a third dtype,
    a float16/bfloat16 initial state): converted to float32.
The kernels are compiled once per shape, dtype and option set and cached
(`deltanet.kernel_cache`); the first call of a shape pays the compilation.
"""

import numpy as np
import torch

from . import _api
from .context_parallel import context_parallel_chunk_gated_delta_rule

__all__ = ["chunk_gated_delta_rule", "context_parallel_chunk_gated_delta_rule", "fused_recurrent_gated_delta_rule"]

_NUMPY_DTYPES = {torch.float32: np.float32, torch.float16: np.float16}


def _check_tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.device.type != "cpu":
        raise ValueError(f"{name} is on {x.device}: deltanet.torch runs on the CPU only; for CUDA tensors "
                         f"use deltanet.chunk_gated_delta_rule(..., target='gpu') or deltanet.gpu")
    if x.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise TypeError(f"{name} must be float32, float16 or bfloat16, got {x.dtype}")
    return x


def _as_numpy(x, dtype):
    """`x` as a C-contiguous NumPy array of `dtype` (a view when x already is one)."""
    x = x.detach()
    if x.dtype != dtype:
        x = x.to(dtype)
    return x.contiguous().numpy()


def _offsets(cu_seqlens):
    if cu_seqlens is None:
        return None
    if isinstance(cu_seqlens, torch.Tensor):
        if cu_seqlens.dtype not in (torch.int32, torch.int64):
            raise TypeError(f"cu_seqlens must have dtype int32 or int64, got {cu_seqlens.dtype}")
        return cu_seqlens.detach().cpu().contiguous().numpy()
    raise TypeError(f"cu_seqlens must be a torch.Tensor, got {type(cu_seqlens).__name__}")


def _operands(q, k, v, g, beta, initial_state):
    """NumPy operands in the dtypes the op takes, and the dtype of o."""
    for name, x in (("q", q), ("k", k), ("v", v), ("g", g), ("beta", beta)):
        _check_tensor(x, name)
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"q, k and v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    out_dtype = v.dtype
    # bfloat16 has no NumPy dtype: computed from float32 copies.
    data = torch.float32 if q.dtype == torch.bfloat16 else q.dtype
    side = lambda x: x.dtype if x.dtype in (torch.float32, data) else torch.float32  # noqa: E731
    arrays = [_as_numpy(x, data) for x in (q, k, v)]
    arrays += [_as_numpy(x, side(x)) for x in (g, beta)]
    if initial_state is not None:
        _check_tensor(initial_state, "initial_state")
        # The final state takes the initial state's type: always float32, as fla's.
        initial_state = _as_numpy(initial_state, torch.float32)
    return arrays, initial_state, out_dtype


def _results(o, final_state, out_dtype, output_final_state):
    o = torch.from_numpy(o)
    if o.dtype != out_dtype:
        o = o.to(out_dtype)
    if not output_final_state:
        return o, None
    return o, torch.from_numpy(final_state)


def _check_flag(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def chunk_gated_delta_rule(
    q,
    k,
    v,
    g,
    beta,
    scale=None,
    initial_state=None,
    output_final_state=False,
    use_qk_l2norm_in_kernel=False,
    cu_seqlens=None,
    *,
    chunk_size=64,
    **compiler_options,
):
    """fla's `chunk_gated_delta_rule` (prefill), compiled by deltanet-mlir for the CPU.

    Returns (o, final_state); final_state is None unless output_final_state.
    scale defaults to K^-1/2; use_qk_l2norm_in_kernel L2-normalises q and k
    (x / sqrt(sum(x^2) + 1e-6)) first. Keyword-only extras (not in fla):
    chunk_size (64, as fla) and the compiler options of
    `deltanet.chunk_gated_delta_rule` (precision=, strategy=, block_size=, ...).
    """
    _check_flag(output_final_state, "output_final_state")
    _check_flag(use_qk_l2norm_in_kernel, "use_qk_l2norm_in_kernel")
    arrays, h0, out_dtype = _operands(q, k, v, g, beta, initial_state)
    o, final_state = _api.chunk_gated_delta_rule(
        *arrays,
        initial_state=h0,
        chunk_size=chunk_size,
        scale=scale,
        use_qk_l2norm=use_qk_l2norm_in_kernel,
        cu_seqlens=_offsets(cu_seqlens),
        **compiler_options,
    )
    return _results(o, final_state, out_dtype, output_final_state)


def fused_recurrent_gated_delta_rule(
    q,
    k,
    v,
    g=None,
    beta=None,
    scale=None,
    initial_state=None,
    output_final_state=False,
    use_qk_l2norm_in_kernel=False,
    cu_seqlens=None,
    *,
    gk=None,
    gv=None,
):
    """fla's `fused_recurrent_gated_delta_rule` (decode), compiled for the CPU.

    As chunk_gated_delta_rule, token by token. As in fla, g=None means no
    decay (g = 0) and beta=None means beta = 1. fla's per-key/per-value gates
    (gk, gv) are not supported: passing one raises NotImplementedError.
    """
    if gk is not None or gv is not None:
        raise NotImplementedError("gk / gv (per-key and per-value gates) are not supported by deltanet.torch")
    _check_flag(output_final_state, "output_final_state")
    _check_flag(use_qk_l2norm_in_kernel, "use_qk_l2norm_in_kernel")
    _check_tensor(v, "v")
    if g is None:
        g = torch.zeros(v.shape[:3], dtype=torch.float32)
    if beta is None:
        beta = torch.ones(v.shape[:3], dtype=torch.float32)
    arrays, h0, out_dtype = _operands(q, k, v, g, beta, initial_state)
    o, final_state = _api.recurrent_gated_delta_rule(
        *arrays,
        initial_state=h0,
        scale=scale,
        use_qk_l2norm=use_qk_l2norm_in_kernel,
        cu_seqlens=_offsets(cu_seqlens),
    )
    return _results(o, final_state, out_dtype, output_final_state)
