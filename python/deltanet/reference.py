"""float64 NumPy references of tri_inv and the gated delta rule (normative semantics)."""

import numpy as np

L2NORM_EPS = 1e-6


def tri_inv(a):
    """(I + tril(a, -1))^-1 of every trailing C x C matrix, in float64.

    Forward substitution; the diagonal and the upper triangle of `a` are
    ignored, as by deltanet.tri_inv.
    """
    a = np.asarray(a, dtype=np.float64)
    c = a.shape[-1]
    x = np.broadcast_to(np.eye(c), a.shape).copy()
    for i in range(1, c):
        x[..., i, :] -= np.einsum("...j,...jc->...c", a[..., i, :i], x[..., :i, :])
    return x


def l2norm(x):
    """x / sqrt(sum(x * x) + 1e-6) along the last axis."""
    return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + L2NORM_EPS)


def _prepare(q, k, v, g, beta, initial_state, scale, use_qk_l2norm):
    """float64 copies, zero initial state by default, q/k expanded to HV heads."""
    q, k, v, g, beta = (np.asarray(x, dtype=np.float64) for x in (q, k, v, g, beta))
    batch, _, heads, key_dim = q.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    if value_heads % heads:
        raise ValueError(f"HV = {value_heads} is not a multiple of H = {heads}")
    if initial_state is None:
        h0 = np.zeros((batch, value_heads, key_dim, value_dim))
    else:
        h0 = np.asarray(initial_state, dtype=np.float64)
    if use_qk_l2norm:
        q, k = l2norm(q), l2norm(k)
    # Value head j reads q/k head j // (HV // H).
    q = np.repeat(q, value_heads // heads, axis=2)
    k = np.repeat(k, value_heads // heads, axis=2)
    if scale is None:
        scale = key_dim**-0.5
    return q, k, v, g, beta, h0, float(scale)


def recurrent_gated_delta_rule(q, k, v, g, beta, initial_state=None, scale=None, use_qk_l2norm=False):
    """The gated delta rule token by token, in float64; returns (o, final_state).

    Layouts: q, k [B, T, H, K]; v [B, T, HV, V]; g, beta [B, T, HV];
    initial_state [B, HV, K, V] (zeros if None). Per batch b and value head j
    (q/k head j // (HV / H)), S = initial_state[b, j], for t = 0..T-1:
      S <- S * exp(g_t);  u = beta_t (v_t - S^T k_t);  S <- S + k_t u^T;
      o_t = S^T (scale * q_t)
    scale defaults to K^-1/2.
    """
    q, k, v, g, beta, s, scale = _prepare(q, k, v, g, beta, initial_state, scale, use_qk_l2norm)
    s = s.copy()
    o = np.empty_like(v)
    for t in range(v.shape[1]):
        s *= np.exp(g[:, t])[..., None, None]
        u = beta[:, t, :, None] * (v[:, t] - np.einsum("bjk,bjkv->bjv", k[:, t], s))
        s += k[:, t, :, :, None] * u[:, :, None, :]
        o[:, t] = np.einsum("bjk,bjkv->bjv", scale * q[:, t], s)
    return o, s


def chunk_gated_delta_rule(
    q, k, v, g, beta, initial_state=None, chunk_size=64, scale=None, use_qk_l2norm=False
):
    """The chunk-wise form of the gated delta rule, in float64; returns (o, final_state).

    Equal to recurrent_gated_delta_rule up to float64 rounding, much faster
    for long sequences. Tokens are padded to a multiple of C = chunk_size with
    identity steps (q = k = v = 0, beta = 0, g = 0). Per chunk, with G the
    in-chunk cumulative sum of g, S the state entering the chunk and
    D_ij = exp(G_i - G_j):
      A = tril(diag(beta) K K^T * D, -1);  Tm = (I + A)^-1 diag(beta)
      w = Tm (K * exp(G));  u = Tm V;  v_new = u - w S
      o = scale ((Q * exp(G)) S + tril(Q K^T * D) v_new)
      S <- exp(G_last) S + (K * exp(G_last - G))^T v_new
    """
    q, k, v, g, beta, s, scale = _prepare(q, k, v, g, beta, initial_state, scale, use_qk_l2norm)
    tokens = v.shape[1]
    pad = -tokens % chunk_size

    def chunks(x):  # [B, T, HV, ...] -> [B, HV, N, C, ...]
        x = np.pad(x, [(0, 0), (0, pad)] + [(0, 0)] * (x.ndim - 2))
        x = x.reshape((x.shape[0], -1, chunk_size) + x.shape[2:])
        return np.moveaxis(x, 3, 1)

    qc, kc, vc, gc, bc = (chunks(x) for x in (q, k, v, g, beta))
    gcum = np.cumsum(gc, axis=-1)
    diff = gcum[..., :, None] - gcum[..., None, :]
    strict = np.tril(np.ones((chunk_size, chunk_size), dtype=bool), -1)
    causal = np.tril(np.ones((chunk_size, chunk_size), dtype=bool))
    # Mask before exp: above the diagonal G_i - G_j >= 0 may overflow.
    decay_strict = np.exp(np.where(strict, diff, -np.inf))
    decay_causal = np.exp(np.where(causal, diff, -np.inf))

    a = bc[..., :, None] * np.einsum("...ik,...jk->...ij", kc, kc) * decay_strict
    tm = tri_inv(a) * bc[..., None, :]
    w = tm @ (kc * np.exp(gcum)[..., None])
    u = tm @ vc
    attn = np.einsum("...ik,...jk->...ij", qc, kc) * decay_causal
    q_decayed = qc * np.exp(gcum)[..., None]
    k_to_end = kc * np.exp(gcum[..., -1:] - gcum)[..., None]

    s = s.copy()
    oc = np.empty_like(vc)
    for n in range(qc.shape[2]):
        v_new = u[:, :, n] - w[:, :, n] @ s
        oc[:, :, n] = scale * (q_decayed[:, :, n] @ s) + scale * (attn[:, :, n] @ v_new)
        s = np.exp(gcum[:, :, n, -1])[..., None, None] * s + np.swapaxes(k_to_end[:, :, n], -1, -2) @ v_new
    o = np.moveaxis(oc, 1, 3).reshape(vc.shape[0], -1, vc.shape[1], vc.shape[-1])
    return o[:, :tokens], s


def relative_error(x, reference):
    """||x - reference||_F / ||reference||_F over the whole arrays, in float64."""
    x = np.asarray(x, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    denominator = np.linalg.norm(reference)
    return float(np.linalg.norm(x - reference) / (denominator if denominator else 1.0))


def max_matrix_relative_error(x, reference):
    """The largest per-matrix relative Frobenius error over the trailing C x C matrices."""
    x = np.asarray(x, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    c = reference.shape[-1]
    num = np.linalg.norm((x - reference).reshape(-1, c * c), axis=1)
    den = np.linalg.norm(reference.reshape(-1, c * c), axis=1)
    return float(np.max(num / den)) if num.size else 0.0
