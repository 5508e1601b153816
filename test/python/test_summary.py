"""deltanet.gated_delta_rule_summary, compose/apply_summary and segment_parallel_chunk_gated_delta_rule."""

import numpy as np
import pytest

import deltanet
from deltanet import inputs, reference

B, H, HV, K, V = 2, 1, 2, 32, 16


def summary_reference(k, v, g, beta, use_qk_l2norm=False):
    """float64 (M, U): the product of the per-token maps h -> exp(g)(I - beta k k^T) h + beta k v^T."""
    k, v, g, beta = (np.asarray(x, dtype=np.float64) for x in (k, v, g, beta))
    if use_qk_l2norm:
        k = reference.l2norm(k)
    k = np.repeat(k, v.shape[2] // k.shape[2], axis=2)
    m = np.broadcast_to(np.eye(k.shape[-1]), (k.shape[0], v.shape[2], k.shape[-1], k.shape[-1])).copy()
    u = np.zeros((k.shape[0], v.shape[2], k.shape[-1], v.shape[-1]))
    for t in range(k.shape[1]):
        kt, bt, decay = k[:, t], beta[:, t, :, None, None], np.exp(g[:, t])[..., None, None]
        m = decay * (m - bt * kt[..., :, None] * np.einsum("bhk,bhkx->bhx", kt, m)[..., None, :])
        u = decay * (u - bt * kt[..., :, None] * np.einsum("bhk,bhkx->bhx", kt, u)[..., None, :])
        u += bt * kt[..., :, None] * v[:, t][..., None, :]
    return m, u


def rel(x, ref):
    return np.linalg.norm(x - ref) / np.linalg.norm(ref)


# (Each shape is one JIT compilation: few cases keep the test short.)
@pytest.mark.parametrize("dist,tokens,chunk,l2norm", [("realistic", 100, 16, False), ("adversarial", 70, 64, True)])
def test_summary_matches_float64(dist, tokens, chunk, l2norm):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(np.random.default_rng(tokens), B, tokens, H, HV, K, V, dist)
    if l2norm:
        k = 3 * k
    m, u = deltanet.gated_delta_rule_summary(k, v, g, beta, chunk_size=chunk, use_qk_l2norm=l2norm)
    m_ref, u_ref = summary_reference(k, v, g, beta, l2norm)
    assert m.dtype == u.dtype == np.float32 and m.shape == (B, HV, K, K) and u.shape == (B, HV, K, V)
    # Measured 2e-7 .. 1.5e-6 (adversarial); bound 2e-5.
    assert rel(m, m_ref) < 2e-5 and rel(u, u_ref) < 2e-5
    # Applied to h0 it is the final state of the sequence.
    _, h_ref = reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0, use_qk_l2norm=l2norm)
    assert rel(deltanet.apply_summary((m, u), h0), h_ref) < 2e-5


def test_compose_order_matters():
    _, k, v, g, beta, _ = inputs.gated_delta_rule_inputs(np.random.default_rng(1), B, 80, H, HV, K, V, "correlated")
    whole = summary_reference(k, v, g, beta)
    first = deltanet.gated_delta_rule_summary(*(np.ascontiguousarray(x[:, :30]) for x in (k, v, g, beta)), chunk_size=16)
    second = deltanet.gated_delta_rule_summary(*(np.ascontiguousarray(x[:, 30:]) for x in (k, v, g, beta)),
                                               chunk_size=16)
    m, u = deltanet.compose_summaries(first, second)
    assert rel(m, whole[0]) < 2e-5 and rel(u, whole[1]) < 2e-5
    m, u = deltanet.compose_summaries(second, first)  # the wrong order is visibly wrong
    assert rel(u, whole[1]) > 1e-2


def test_empty_segment_is_identity():
    _, k, v, g, beta, _ = inputs.gated_delta_rule_inputs(np.random.default_rng(2), B, 0, H, HV, K, V)
    m, u = deltanet.gated_delta_rule_summary(k, v, g, beta)
    assert np.array_equal(m, np.broadcast_to(np.eye(K, dtype=np.float32), m.shape)) and not u.any()


# 3 threads: 4 segments of whole chunks; T = 40 on 4 threads: 3 segments
# (fewer chunks than threads + 1).
@pytest.mark.parametrize("threads,tokens,l2norm", [(3, 300, True), (4, 40, False)])
def test_segment_parallel_equals_single(threads, tokens, l2norm):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(np.random.default_rng(threads), B, tokens, H, HV, K, V)
    o1, h1 = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=16, use_qk_l2norm=l2norm)
    o, h = deltanet.segment_parallel_chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=16,
                                                            use_qk_l2norm=l2norm, threads=threads)
    # Measured up to 1.2e-6 (max abs difference over max abs); bound 1e-5.
    assert np.abs(o - o1).max() / np.abs(o1).max() < 1e-5
    assert np.abs(h - h1).max() / np.abs(h1).max() < 1e-5


def test_bad_input():
    _, k, v, g, beta, _ = inputs.gated_delta_rule_inputs(np.random.default_rng(3), B, 20, H, HV, K, V)
    with pytest.raises(ValueError, match="v must have shape"):
        deltanet.gated_delta_rule_summary(k, v[:, :19].copy(), g, beta)
    with pytest.raises(ValueError, match="chunk_size must be a power of two"):
        deltanet.gated_delta_rule_summary(k, v, g, beta, chunk_size=24)
    with pytest.raises(TypeError, match="unexpected keyword"):
        deltanet.gated_delta_rule_summary(k, v, g, beta, chunk=16)
    q = k.copy()
    with pytest.raises(ValueError, match="threads must be >= 1"):
        deltanet.segment_parallel_chunk_gated_delta_rule(q, k, v, g, beta, threads=0)
