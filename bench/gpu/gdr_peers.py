#!/usr/bin/env python3
"""Gated delta rule on the GPU: the peers' numbers and errors against float64
(deltanet-mlir's GPU pipeline does not compile this op yet: docs/GPU.md).

  PYTHONPATH=.gpu python3 bench/gpu/gdr_peers.py fla          # fla chunk_gated_delta_rule
  python3 bench/gpu/gdr_peers.py transformers                 # HF torch path (no fla importable!)

Same seeded inputs in both processes (bf16 q/k/v/beta, f32 log decay g),
Qwen3-Next-like: L2-normalised keys, beta = sigmoid(N(0,1)),
g = -exp(N(-3.5, 0.5)) * softplus(N(0,1)) per token. Reference: the
recurrence in float64 on the GPU. Prints one JSON line per shape.
"""
import json
import statistics
import sys

import torch

SHAPES = [dict(B=1, T=8192, H=16, HV=32, K=128, V=128), dict(B=1, T=4096, H=4, HV=4, K=128, V=128)]


def inputs(s, seed=5):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    B, T, H, HV, K, V = (s[x] for x in ("B", "T", "H", "HV", "K", "V"))
    r = lambda *shape: torch.randn(*shape, generator=gen, device="cuda")  # noqa: E731
    q = r(B, T, H, K)
    k = r(B, T, H, K)
    k = k / k.norm(dim=-1, keepdim=True)
    q = q / q.norm(dim=-1, keepdim=True)
    v = r(B, T, HV, V)
    beta = torch.sigmoid(r(B, T, HV))
    g = -torch.exp(-3.5 + 0.5 * r(B, T, HV)) * torch.nn.functional.softplus(r(B, T, HV))
    return q.bfloat16(), k.bfloat16(), v.bfloat16(), g.float(), beta.bfloat16()


def adversarial_inputs(s, seed=6, corr=0.9):
    """The issue's hard case (as tri_inv's `correlated-no-decay`): keys
    strongly correlated (one random direction per sequence and key head
    plus small noise, sqrt(corr) : sqrt(1 - corr), then L2-normalised), no
    decay (g = 0), beta in (0, 1). In-chunk A = beta_i k_i.k_j ~ 0.9 beta_i:
    products of many A entries do not decay, which breaks methods whose
    intermediates are powers of A."""
    gen = torch.Generator(device="cuda").manual_seed(seed)
    B, T, H, HV, K, V = (s[x] for x in ("B", "T", "H", "HV", "K", "V"))
    r = lambda *shape: torch.randn(*shape, generator=gen, device="cuda")  # noqa: E731
    shared = r(B, 1, H, K)
    k = corr ** 0.5 * shared / shared.norm(dim=-1, keepdim=True) + (1 - corr) ** 0.5 * r(B, T, H, K) / K ** 0.5
    k = k / k.norm(dim=-1, keepdim=True)
    q = r(B, T, H, K)
    q = q / q.norm(dim=-1, keepdim=True)
    v = r(B, T, HV, V)
    beta = torch.sigmoid(r(B, T, HV))
    g = torch.zeros(B, T, HV, device="cuda")
    return q.bfloat16(), k.bfloat16(), v.bfloat16(), g.float(), beta.bfloat16()


def reference(q, k, v, g, beta, scale, h0=None):
    """o_t = S_t^T q_t scale, S_t = e^{g_t} S_{t-1} + k_t (beta_t (v_t - (e^{g_t} S_{t-1})^T k_t))^T, S_0 = h0 (zeros)."""
    B, T, H, K = q.shape
    HV, V = v.shape[2], v.shape[3]
    rep = HV // H
    q = q.double().repeat_interleave(rep, 2)
    k = k.double().repeat_interleave(rep, 2)
    v, g, beta = v.double(), g.double(), beta.double()
    S = torch.zeros(B, HV, K, V, dtype=torch.float64, device="cuda") if h0 is None else h0.double().clone()
    o = torch.empty(B, T, HV, V, dtype=torch.float64, device="cuda")
    for t in range(T):
        S = S * torch.exp(g[:, t])[..., None, None]
        kt, vt = k[:, t], v[:, t]
        pred = torch.einsum("bhkv,bhk->bhv", S, kt)
        u = beta[:, t][..., None] * (vt - pred)
        S = S + kt[..., :, None] * u[..., None, :]
        o[:, t] = torch.einsum("bhkv,bhk->bhv", S, q[:, t]) * scale
    return o, S


def time_ms(fn, iters=30, warmup=5):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(iters):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        ts.append(s.elapsed_time(e))
    return statistics.median(ts)


def main():
    which = sys.argv[1]
    if which == "fla":
        from fla.ops.gated_delta_rule import chunk_gated_delta_rule as fla_gdr

        def run(q, k, v, g, beta, scale):
            return fla_gdr(q, k, v, g, beta, scale=scale, output_final_state=True)
    else:
        try:
            import fla  # noqa: F401
            sys.exit("fla is importable: transformers would dispatch to it; run without it")
        except ImportError:
            pass
        from transformers.models.qwen3_next.modeling_qwen3_next import torch_chunk_gated_delta_rule

        def run(q, k, v, g, beta, scale):
            rep = v.shape[2] // q.shape[2]
            # HF has no grouped heads (the model repeats q/k) and always scales by K^-0.5.
            return torch_chunk_gated_delta_rule(q.repeat_interleave(rep, 2), k.repeat_interleave(rep, 2), v, g, beta,
                                                chunk_size=64, output_final_state=True)
    for s in SHAPES:
        q, k, v, g, beta = inputs(s)
        scale = s["K"] ** -0.5
        o, hT = run(q, k, v, g, beta, scale)
        torch.cuda.synchronize()
        o_ref, h_ref = reference(q, k, v, g, beta, scale)
        err = ((o.double() - o_ref).norm() / o_ref.norm()).item()
        err_h = ((hT.double() - h_ref).norm() / h_ref.norm()).item()
        t = time_ms(lambda: run(q, k, v, g, beta, scale), iters=30 if which == "fla" else 5, warmup=3 if which == "fla" else 1)
        print(json.dumps(dict(impl=which, **s, ms=round(t, 4), o_rel_err=f"{err:.2e}", state_rel_err=f"{err_h:.2e}")), flush=True)


if __name__ == "__main__":
    main()
