"""Segment summaries of the gated delta rule, and one long sequence split into segments on threads.

Per batch and value head the recurrence maps the state entering a segment of
tokens affinely to the state leaving it: h_out = M h_in + U, with M (K x K)
and U (K x V) independent of h_in. Summaries compose,
(M2, U2) o (M1, U1) = (M2 M1, M2 U1 + U2), so a sequence split into segments
is computed as: the summary of every segment (in parallel), a short scan
giving each segment's entry state, then every segment from its entry state
(in parallel). docs/ContextParallel.md has the math and the measurements.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _kernels
from ._api import _ARGUMENT_OF_OPTION, _check_gated_delta_rule_inputs, _fit_block_size, _tri_inv_options
from ._api import chunk_gated_delta_rule
from ._validation import check_array, check_bool, check_dims, check_int, check_power_of_two, check_target


def _summary_source(shapes, dtypes, attributes):
    """@summary(k, v, g, beta) -> (m, u) applying deltanet.gated_delta_rule_summary."""
    k, v, g, beta = (_kernels.tensor_type(s, d) for s, d in zip(shapes, dtypes))
    batch, _, _, key_dim = shapes[0]
    value_heads, value_dim = shapes[1][2], shapes[1][3]
    m = _kernels.tensor_type((batch, value_heads, key_dim, key_dim), np.float32)
    u = _kernels.tensor_type((batch, value_heads, key_dim, value_dim), np.float32)
    return (
        f"func.func @summary(%k: {k}, %v: {v}, %g: {g}, %beta: {beta}) -> ({m}, {u})"
        " attributes {llvm.emit_c_interface} {\n"
        f"  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %beta {{{', '.join(attributes)}}}"
        f" : ({k}, {v}, {g}, {beta}) -> ({m}, {u})\n"
        f"  return %m, %u : {m}, {u}\n"
        "}\n"
    )


def _check_summary_inputs(k, v, g, beta):
    """Checks layouts and dtypes; returns (B, T, H, HV, K, V)."""
    k = check_array(k, "k", (np.float32, np.float16), 4, "[B, T, H, K]")
    v = check_array(v, "v", (k.dtype,), 4, "[B, T, HV, V]")
    batch, tokens, heads, key_dim = k.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    check_dims("v", v, (batch, tokens, value_heads, value_dim), "[B, T, HV, V] (B, T as k)")
    side_dtypes = tuple(dict.fromkeys((np.float32, k.dtype.type)))
    g = check_array(g, "g", side_dtypes, 3, "[B, T, HV]")
    beta = check_array(beta, "beta", side_dtypes, 3, "[B, T, HV]")
    check_dims("g", g, (batch, tokens, value_heads), "[B, T, HV]")
    check_dims("beta", beta, (batch, tokens, value_heads), "[B, T, HV]")
    for name, dim in (("H (k.shape[2])", heads), ("K (k.shape[3])", key_dim),
                      ("HV (v.shape[2])", value_heads), ("V (v.shape[3])", value_dim)):
        if dim == 0:
            raise ValueError(f"{name} must be >= 1")
    if value_heads % heads:
        raise ValueError(f"v: HV = {value_heads} value heads must be a multiple of the H = {heads} heads of k")
    return (k, v, g, beta), (batch, tokens, heads, value_heads, key_dim, value_dim)


def _chunk_options(chunk_size, precision, tolerance, tri_inv_options, what):
    chunk_size = check_power_of_two(chunk_size, "chunk_size")
    unknown = set(tri_inv_options) - {"strategy", "block_size", "order", "residual_steps"}
    if unknown:
        raise TypeError(f"{what}() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    inverse = {"strategy": "blocked", "block_size": None if chunk_size >= 16 else chunk_size, "order": None,
               "residual_steps": 0}
    inverse.update(tri_inv_options)
    options = _tri_inv_options(precision=precision, tolerance=tolerance, **inverse)
    _fit_block_size(options, chunk_size, "chunk_size", "")
    return chunk_size, options


def gated_delta_rule_summary(k, v, g, beta, chunk_size=64, use_qk_l2norm=False, precision="f32", tolerance=None,
                             target="cpu", **tri_inv_options):
    """Summary (M, U) of a segment: the state leaving it is M h_in + U for the state h_in entering it.

    k [B, T, H, K]; v [B, T, HV, V]; g (log decay), beta [B, T, HV]: the
    layouts, dtypes and options of chunk_gated_delta_rule (no q, no state).
    Returns float32 m [B, HV, K, K] and u [B, HV, K, V]:
    M = prod_t exp(g_t) (I - beta_t k_t k_t^T) (latest token leftmost) and
    U = the final state from a zero state. T = 0 gives (I, 0).
    Compose with compose_summaries, apply with apply_summary.
    target="gpu": torch CUDA tensors in (bfloat16 too), CUDA tensors out.
    """
    target = check_target(target)
    if target == "gpu":
        from . import _gpu_ops

        chunk_size, options = _chunk_options(chunk_size, precision, tolerance, tri_inv_options,
                                             "gated_delta_rule_summary")
        attributes = [f"chunk_size = {chunk_size} : i64"] + (["use_qk_l2norm"] if use_qk_l2norm else [])
        return _gpu_ops.summary(k, v, g, beta, attributes, options, _ARGUMENT_OF_OPTION)
    operands, dims = _check_summary_inputs(k, v, g, beta)
    chunk_size, options = _chunk_options(chunk_size, precision, tolerance, tri_inv_options,
                                         "gated_delta_rule_summary")
    batch, tokens, _, value_heads, key_dim, value_dim = dims
    if batch == 0 or tokens == 0:
        m = np.broadcast_to(np.eye(key_dim, dtype=np.float32), (batch, value_heads, key_dim, key_dim)).copy()
        return m, np.zeros((batch, value_heads, key_dim, value_dim), dtype=np.float32)
    attributes = [f"chunk_size = {chunk_size} : i64"]
    if check_bool(use_qk_l2norm, "use_qk_l2norm"):
        attributes.append("use_qk_l2norm")
    source = _summary_source([x.shape for x in operands], [x.dtype for x in operands], attributes)
    shapes = ", ".join(f"{n} {x.shape} {x.dtype}" for n, x in zip(("k", "v", "g", "beta"), operands))
    kernel = _kernels.compile_cached(source, "summary", options, _ARGUMENT_OF_OPTION,
                                     f"deltanet.gated_delta_rule_summary({shapes}; {', '.join(attributes)})", target)
    return kernel(*operands)


def compose_summaries(first, second):
    """Summary of segment `first` followed by segment `second`: (M2 M1, M2 U1 + U2).

    Each is a pair (m [..., K, K], u [..., K, V]); NumPy matmuls in the
    inputs' precision (float32 summaries stay float32).
    """
    (m1, u1), (m2, u2) = first, second
    return m2 @ m1, m2 @ u1 + u2


def apply_summary(summary, state):
    """The state leaving a segment of summary (m, u) that `state` [..., K, V] enters: m state + u."""
    m, u = summary
    return m @ state + u


# Time of a segment's summary over the time of the chunk op on it (CPU,
# B=1 H=4 K=V=128 C=64, bench/segment_parallel.py --ratio): 1.16 at
# T = 21824 (the segments of T = 65536 on 2 threads), 1.8 at T = 4096. The
# summary's scan runs on K + V state columns instead of V but writes no
# per-chunk states and has no output stage.
SUMMARY_COST_RATIO = 1.2


def _segment_bounds(tokens, chunk_size, threads, ratio=SUMMARY_COST_RATIO):
    """Token bounds of threads + 1 segments of whole chunks, balanced for the two phases.

    Phase 1 runs segment 0 (the chunk op) beside the summaries of segments
    1 .. threads-1, phase 2 the chunk op of segments 1 .. threads: segments
    1 .. threads get L tokens and segment 0 gets ratio * L, so that both
    phases take one summary's time, (1 + ratio) L in all against
    (ratio + threads) L on one thread. Fewer segments when T is short.
    """
    chunks = -(-tokens // chunk_size)
    count = min(threads + 1, chunks)
    weights = [ratio] + [1.0] * (count - 1)
    total = sum(weights)
    cuts = np.cumsum([0.0] + weights) / total * chunks
    edges = sorted(set(int(round(c)) for c in cuts))
    edges = [e * chunk_size for e in edges]
    edges[-1] = tokens
    return list(zip(edges[:-1], edges[1:]))


def segment_parallel_chunk_gated_delta_rule(q, k, v, g, beta, initial_state=None, chunk_size=64, scale=None,
                                            use_qk_l2norm=False, threads=2, precision="f32", tolerance=None,
                                            target="cpu", **tri_inv_options):
    """chunk_gated_delta_rule of one long sequence on `threads` threads by segment summaries.

    Same arguments and results as chunk_gated_delta_rule, plus `threads`
    (>= 1). The sequence is cut into threads + 1 segments of whole chunks;
    phase 1 runs, in parallel, segment 0 from initial_state (its output and
    exit state) and the summaries of segments 1 .. threads-1; a scan over
    those summaries gives the entry state of segments 1 .. threads; phase 2
    runs those segments from their entry states in parallel. Each kernel
    call runs on one thread (the GIL is released during it). With a summary
    costing r times the chunk op (SUMMARY_COST_RATIO) and segment 0 made r
    times longer than the others, the ideal speedup on P free cores is
    (P + r) / (1 + r): 1.45x for P = 2, r = 1.2. It only pays where
    B x HV alone cannot occupy the threads (split heads/batch first).
    Results equal chunk_gated_delta_rule up to float32 rounding.
    """
    threads = check_int(threads, "threads", minimum=1)
    if check_target(target) != "cpu":
        raise ValueError("segment_parallel_chunk_gated_delta_rule runs on CPU threads; on a GPU use "
                         "deltanet.gpu.segment_parallel_chunk_gated_delta_rule (segments as one batch)")
    operands, dims = _check_gated_delta_rule_inputs(q, k, v, g, beta, initial_state)
    chunk_size = check_power_of_two(chunk_size, "chunk_size")
    q, k, v, g, beta, h0 = operands
    tokens = dims[1]
    common = dict(chunk_size=chunk_size, precision=precision, tolerance=tolerance, target=target, **tri_inv_options)
    bounds = _segment_bounds(tokens, chunk_size, threads) if tokens else []
    if threads == 1 or len(bounds) < 3:
        return chunk_gated_delta_rule(q, k, v, g, beta, initial_state=h0, scale=scale,
                                      use_qk_l2norm=use_qk_l2norm, **common)

    def part(x, bound):
        return np.ascontiguousarray(x[:, bound[0]:bound[1]])

    def run(bound, state):
        return chunk_gated_delta_rule(*(part(x, bound) for x in (q, k, v, g, beta)), initial_state=state,
                                      scale=scale, use_qk_l2norm=use_qk_l2norm, **common)

    def summarize(bound):
        return gated_delta_rule_summary(*(part(x, bound) for x in (k, v, g, beta)),
                                        use_qk_l2norm=use_qk_l2norm, **common)

    state_dtype = h0.dtype
    with ThreadPoolExecutor(max_workers=threads) as pool:
        first = pool.submit(run, bounds[0], h0)
        summaries = list(pool.map(summarize, bounds[1:-1]))
        o_first, state = first.result()
        entries = []
        for summary in summaries:
            entries.append(state)
            state = apply_summary(summary, state.astype(np.float32)).astype(state_dtype)
        entries.append(state)
        rest = list(pool.map(run, bounds[1:], entries))
    o = np.concatenate([o_first] + [o for o, _ in rest], axis=1)
    return o, rest[-1][1]
