#!/usr/bin/python3
"""Checks gdr_testgen.chunk_reference against gdr_testgen.recurrent_reference.

The token-by-token recurrence is normative; the chunk-wise form is what the
compiler lowering of deltanet.chunk_gated_delta_rule follows. Both run in
float64 on the same inputs, so they must agree to rounding (1e-10 relative
Frobenius error on the output and on the final state). Exits non-zero on a
mismatch.
"""

import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdr_testgen import chunk_reference, make_inputs, recurrent_reference  # noqa: E402

TOLERANCE = 1e-10
B, H, HV, K, V = 2, 2, 4, 16, 8


def rel(x, ref):
    return np.linalg.norm(x - ref) / np.linalg.norm(ref)


def main():
    failures = 0
    cases = itertools.product([1, 7, 64, 65, 200], [16, 64], [False, True], ["realistic", "correlated", "adversarial"])
    for seed, (t, chunk, l2, dist) in enumerate(cases):
        rng = np.random.default_rng(seed)
        q, k, v, g, beta, h0 = make_inputs(rng, B, t, H, HV, K, V, dist, l2norm_in_op=l2, with_h0=True)
        if dist == "adversarial":
            # No decay in this distribution: add a strong one to exercise the
            # exp(G_i - G_j) masking and the carried decays.
            g = -np.abs(rng.standard_normal(g.shape)) * 0.5
        scale = None if seed % 4 else 0.37
        o_r, s_r = recurrent_reference(q, k, v, g, beta, h0, scale=scale, use_qk_l2norm=l2)
        o_c, s_c = chunk_reference(q, k, v, g, beta, h0, scale=scale, use_qk_l2norm=l2, chunk_size=chunk)
        err_o, err_s = rel(o_c, o_r), rel(s_c, s_r)
        ok = o_c.shape == o_r.shape and err_o <= TOLERANCE and err_s <= TOLERANCE
        failures += not ok
        print(
            f"{'ok  ' if ok else 'FAIL'} T={t:3d} C={chunk:2d} l2norm={l2!s:5} {dist:11s} "
            f"scale={scale}: output {err_o:.2e}, state {err_s:.2e}"
        )
    # Sanity: the recurrence itself against a plain per-(b, j) loop.
    rng = np.random.default_rng(123)
    q, k, v, g, beta, h0 = make_inputs(rng, B, 9, H, HV, K, V, "realistic", with_h0=True)
    o_r, s_r = recurrent_reference(q, k, v, g, beta, h0)
    o_l, s_l = np.empty_like(o_r), np.empty_like(s_r)
    for b, j in itertools.product(range(B), range(HV)):
        i = j // (HV // H)
        s = h0[b, j].copy()
        for t in range(q.shape[1]):
            s = s * np.exp(g[b, t, j])
            u = beta[b, t, j] * (v[b, t, j] - s.T @ k[b, t, i])
            s = s + np.outer(k[b, t, i], u)
            o_l[b, t, j] = s.T @ (K**-0.5 * q[b, t, i])
        s_l[b, j] = s
    loop_ok = rel(o_r, o_l) <= TOLERANCE and rel(s_r, s_l) <= TOLERANCE
    failures += not loop_ok
    print(f"{'ok  ' if loop_ok else 'FAIL'} vectorised recurrence vs per-head loop")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
