"""Random DeltaNet inputs with realistic or adversarial distributions (tests, report)."""

import numpy as np

# name: (pairwise key correlation, log-decay scale)
DISTRIBUTIONS = {
    "realistic": (0.3, 0.1),
    "correlated": (0.9, 0.02),
    "decaying": (0.6, 0.5),
    "adversarial": (0.98, 0.0),
}


def keys(rng, shape, corr):
    """L2-normalised vectors along the last axis with correlation `corr` to a shared direction."""
    shared = rng.standard_normal(shape[-1])
    x = np.sqrt(1 - corr) * rng.standard_normal(shape) + np.sqrt(corr) * shared
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def chunk_matrices(rng, batch, c, dist="realistic", head_dim=128, garbage=True):
    """`batch` float32 chunk matrices A = tril(diag(beta) K K^T exp(G_i - G_j), -1), shape [batch, C, C].

    beta = sigmoid(N(0,1)), g = -|N(0,1)| * decay, G = cumsum(g). With
    `garbage`, the diagonal and upper triangle hold large noise tri_inv must
    ignore.
    """
    corr, decay = DISTRIBUTIONS[dist]
    k = keys(rng, (batch, c, head_dim), corr)
    beta = 1.0 / (1.0 + np.exp(-rng.standard_normal((batch, c))))
    g = np.cumsum(-np.abs(rng.standard_normal((batch, c))) * decay, axis=-1)
    a = beta[:, :, None] * (k @ np.swapaxes(k, -1, -2)) * np.exp(g[:, :, None] - g[:, None, :])
    a = np.tril(a, -1)
    if garbage:
        a += np.triu(rng.standard_normal((batch, c, c)) * 100.0)
    return a.astype(np.float32)


def gated_delta_rule_inputs(rng, batch, tokens, heads, value_heads, key_dim, value_dim, dist="realistic"):
    """float32 (q, k, v, g, beta, initial_state) in flash-linear-attention layouts."""
    corr, decay = DISTRIBUTIONS[dist]
    q = keys(rng, (batch, tokens, heads, key_dim), 0.0)
    k = keys(rng, (batch, tokens, heads, key_dim), corr)
    v = rng.standard_normal((batch, tokens, value_heads, value_dim))
    g = -np.abs(rng.standard_normal((batch, tokens, value_heads))) * decay
    beta = 1.0 / (1.0 + np.exp(-rng.standard_normal((batch, tokens, value_heads))))
    h0 = 0.1 * rng.standard_normal((batch, value_heads, key_dim, value_dim))
    return tuple(np.ascontiguousarray(x, dtype=np.float32) for x in (q, k, v, g, beta, h0))
