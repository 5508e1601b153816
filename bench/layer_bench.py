#!/usr/bin/python3
"""A Qwen3.5-style Gated DeltaNet layer on the CPU: time per layer and the share of the inverse.

Compiles examples/qwen35_gated_deltanet.py at the real sizes (hidden 2048,
H = 16, HV = 32, K = V = 128, conv 4, chunk 64) through the Python package,
three times: the chunk op's inverse as forward substitution, as the default
(blocked, f32) and in INT8 (tri-inv-precision=i8). In one process, on one set
of random weights and inputs, it times:

  * the whole layer: prefill at each T (the chunk op) and decode per token
    (T = 1, the recurrent op; no inverse in it);
  * the attention op alone on the layer's shapes (chunk_gated_delta_rule with
    q/k L2 norm), per inverse;
  * the inverse alone: tri_inv on the batch the decomposition builds
    (HV * ceil(T / 64) matrices of 64 x 64, realistic chunk matrices), per
    inverse;
  * decode through the chunk op at T = 1 (what fla's chunk kernel does for
    one token): the whole layer, the attention op and its inverse (32
    matrices) per inverse;
  * the projections in NumPy (OpenBLAS), to model a layer whose projections
    run at BLAS speed (ours are scalar loops): inverse / (attention + BLAS
    projections).

Shares: inverse / layer and inverse / attention; layer-level change of an
inverse = (attention with it - attention with the default) / layer with the
default. Whole-layer times per inverse are also printed (at the smallest T),
but their differences are below the noise of a shared machine; the
component times are the measurement. Outputs are cross-checked: the layer at
the smallest T against the float64 layer, the attention op of every inverse
against the recurrent op. Prints uptime before and after: read ratios.

Usage: PYTHONPATH=build/python_packages python3 bench/layer_bench.py [--tokens 512 4096] [--reps 3]
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

import deltanet  # noqa: E402
import qwen35_gated_deltanet as layer  # noqa: E402
from deltanet import inputs, reference  # noqa: E402

INVERSES = {
    "forward substitution": {"strategy": "forward-substitution"},
    "default (blocked, f32)": {},
    "INT8 (blocked 4x4, i8)": {"precision": "i8"},
}
DEFAULT = "default (blocked, f32)"


def pipeline_options(inverse):
    return {f"tri_inv_{k}": v for k, v in inverse.items()}


def best_of(fn, reps):
    """Median of `reps` timed calls (after one warm-up call), seconds."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[512, 4096])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--layer-reps", type=int, default=2, help="timed whole-layer prefill runs (the fastest counts)")
    parser.add_argument("--all-layers-up-to", type=int, default=512,
                        help="above this T only the default inverse's whole layer is timed (its projections take minutes)")
    args = parser.parse_args()
    cfg = layer.QWEN3_NEXT
    print(f"# start: {uptime()}")
    print(f"config: {cfg}")
    rng = np.random.default_rng(0)
    w = layer.random_weights(cfg, rng)
    weights = [w[n] for n in layer.WEIGHTS]
    t_max = max(args.tokens)
    x = rng.standard_normal((t_max, cfg.hidden)).astype(np.float32)
    qkv = inputs.gated_delta_rule_inputs(rng, 1, t_max, cfg.heads, cfg.value_heads, cfg.key_dim, cfg.value_dim)
    rows = []

    def record(what, t, inverse, seconds, note=""):
        rows.append((what, t, inverse, seconds, note))
        print(f"{what:<28} T={t:<5} {inverse:<24} {seconds * 1e3:10.2f} ms {note}", flush=True)

    # Decode: the recurrent op, no inverse (one compile serves every inverse),
    # and the chunk op on one padded chunk (fla's chunk kernel at T = 1), per inverse.
    conv_cache, state_cache = layer.empty_caches(cfg)
    state_cache[:] = 0.01
    decode = deltanet.compile(layer.build_mlir(cfg, 1, "decode"), "decode")
    record("layer decode (recurrent op)", 1, "-", best_of(lambda: decode(x[:1], *weights, conv_cache, state_cache), 3 * args.reps))
    for name, inverse in INVERSES.items():
        decode = deltanet.compile(layer.build_mlir(cfg, 1, "decode", "chunk"), "decode", **pipeline_options(inverse))
        record("layer decode (chunk op)", 1, name, best_of(lambda: decode(x[:1], *weights, conv_cache, state_cache), 3 * args.reps))
    del decode

    for t in sorted(args.tokens):
        q, k, v, g, beta = (np.ascontiguousarray(a[:, :t]) for a in qkv[:5])
        o_rec, s_rec = deltanet.recurrent_gated_delta_rule(q, k, v, g, beta, use_qk_l2norm=True)
        n_matrices = cfg.value_heads * -(-t // cfg.chunk_size)
        a = inputs.chunk_matrices(np.random.default_rng(1), n_matrices, cfg.chunk_size, "realistic")
        for name, inverse in INVERSES.items():
            if t <= args.all_layers_up_to or name == DEFAULT:
                prefill = deltanet.compile(layer.build_mlir(cfg, t, "prefill"), "prefill", **pipeline_options(inverse))
                caches = layer.empty_caches(cfg)
                times = []
                for _ in range(args.layer_reps):
                    t0 = time.perf_counter()
                    y = prefill(x[:t], *weights, *caches)
                    times.append(time.perf_counter() - t0)
                note = ""
                if t == min(args.tokens) and name == DEFAULT:
                    y_ref, _, s_ref = layer.reference_layer(cfg, w, x[:t], *layer.empty_caches(cfg))
                    note = (f"(vs float64 layer: y {reference.relative_error(y, y_ref):.1e}, "
                            f"state {reference.relative_error(caches[1], s_ref):.1e})")
                record("layer prefill", t, name, min(times), note)
                del prefill
            o, s = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, use_qk_l2norm=True, **inverse)
            note = (f"(vs recurrent op: o {reference.relative_error(o, o_rec):.1e}, "
                    f"state {reference.relative_error(s, s_rec):.1e})")
            record("attention op (chunk)", t, name,
                   best_of(lambda: deltanet.chunk_gated_delta_rule(q, k, v, g, beta, use_qk_l2norm=True, **inverse),
                           args.reps), note)
            record(f"tri_inv x{n_matrices}", t, name, best_of(lambda: deltanet.tri_inv(a, **inverse), 5 * args.reps))
        # The projections in OpenBLAS (NumPy), for the model of a layer whose
        # projections run at BLAS speed (ours are scalar loops: README, Known limits).
        xt = x[:t]
        record("projections (NumPy/OpenBLAS)", t, "-", best_of(
            lambda: (xt @ w["w_qkv"], xt @ w["w_z"], xt @ w["w_b"], xt @ w["w_a"],
                     np.ones((t, cfg.value_heads * cfg.value_dim), np.float32) @ w["w_out"]), args.reps))
        record("attention op (recurrent)", t, "-",
               best_of(lambda: deltanet.recurrent_gated_delta_rule(q, k, v, g, beta, use_qk_l2norm=True), args.reps))

    # Decode through the chunk op (T = 1: one chunk, 63 padded tokens).
    q1, k1, v1, g1, b1 = (np.ascontiguousarray(a[:, :1]) for a in qkv[:5])
    a1 = inputs.chunk_matrices(np.random.default_rng(2), cfg.value_heads, cfg.chunk_size, "realistic")
    for name, inverse in INVERSES.items():
        record("attention op (chunk) T=1", 1, name,
               best_of(lambda: deltanet.chunk_gated_delta_rule(q1, k1, v1, g1, b1, use_qk_l2norm=True, **inverse),
                       3 * args.reps))
        record(f"tri_inv x{cfg.value_heads}", 1, name, best_of(lambda: deltanet.tri_inv(a1, **inverse), 10 * args.reps))
    print(f"# end: {uptime()}")

    # Summary.
    get = {(r[0], r[1], r[2]): r[3] for r in rows}
    decode_layer = get[("layer decode (recurrent op)", 1, "-")]
    print("\n| T | inverse | layer (ms) | attention op (ms) | inverse (ms) | inverse / layer | inverse / attention |"
          " layer change vs default, from the inverse | from the attention op | inverse / (attention + BLAS projections) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in sorted(args.tokens):
        n_matrices = cfg.value_heads * -(-t // cfg.chunk_size)
        layer_default = get.get(("layer prefill", t, DEFAULT))
        att_default = get[("attention op (chunk)", t, DEFAULT)]
        inv_default = get[(f"tri_inv x{n_matrices}", t, DEFAULT)]
        blas = get[("projections (NumPy/OpenBLAS)", t, "-")]
        for name in INVERSES:
            lay = get.get(("layer prefill", t, name))
            att = get[("attention op (chunk)", t, name)]
            inv = get[(f"tri_inv x{n_matrices}", t, name)]
            denom = layer_default if layer_default else float("nan")
            print(f"| {t} | {name} | {lay * 1e3 if lay else float('nan'):.0f} | {att * 1e3:.1f} | {inv * 1e3:.2f} | "
                  f"{inv / denom:.2%} | {inv / att:.1%} | {(inv - inv_default) / denom:+.2%} | "
                  f"{(att - att_default) / denom:+.2%} | {inv / (att + blas):.1%} |")
    print(f"| 1 (decode, recurrent op) | none | {decode_layer * 1e3:.1f} | | 0 | 0 | | | | |")
    decode_default = get[("layer decode (chunk op)", 1, DEFAULT)]
    for name in INVERSES:
        lay = get[("layer decode (chunk op)", 1, name)]
        att = get[("attention op (chunk) T=1", 1, name)]
        inv = get[(f"tri_inv x{cfg.value_heads}", 1, name)]
        att_default = get[("attention op (chunk) T=1", 1, DEFAULT)]
        inv_default = get[(f"tri_inv x{cfg.value_heads}", 1, DEFAULT)]
        print(f"| 1 (decode, chunk op) | {name} | {lay * 1e3:.1f} | {att * 1e3:.2f} | "
              f"{inv * 1e3:.3f} | {inv / decode_default:.2%} | {inv / att:.1%} | {(inv - inv_default) / decode_default:+.2%} | "
              f"{(att - att_default) / decode_default:+.2%} | |")


if __name__ == "__main__":
    main()
