#!/usr/bin/env python3
"""Measures the rule table behind `--deltanet-lower-tri-inv="tolerance=E"`.

For every strategy, matrix size C (16..128), matmul precision, Neumann order
and number of residual steps, emulates in NumPy the arithmetic the lowering
emits (same slices, same operand rounding or INT8 quantisation, f32 sums)
on a calibration set of realistic chunk matrices and records the worst
relative Frobenius error against the float64 inverse. The table's bound is
twice that worst error.

Calibration set: A = tril(diag(beta) K K^T exp(G_i - G_j), -1) with
L2-normalised keys of key correlation {0, 0.3, 0.6}, per-token log decay
-|N(0,1)| * {0.05, 0.5}, beta = sigmoid(N(0,1)), head dim 128; 8 chunks per
combination, fixed seed.

Usage: calibrate-tri-inv-tolerance.py --inc FILE --md FILE
  --inc: the C++ table included by lib/Dialect/DeltaNet/Transforms
  --md:  the documented table (docs/TriInvTolerance.md)
"""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "lib"))
from testgen_common import round_to  # noqa: E402

SIZES = [16, 32, 64, 128]
PRECISIONS = ["f32", "bf16", "f16", "i8"]
CORRELATIONS = [0.0, 0.3, 0.6]
DECAYS = [0.05, 0.5]
PER_COMBINATION = 8
SAFETY = 2.0
MAX_RESIDUAL_STEPS = 2


def calibration_set(c, rng):
    mats = []
    for corr in CORRELATIONS:
        for decay in DECAYS:
            for _ in range(PER_COMBINATION):
                shared = rng.standard_normal(128)
                keys = math.sqrt(1 - corr) * rng.standard_normal((c, 128)) + math.sqrt(corr) * shared
                keys /= np.linalg.norm(keys, axis=1, keepdims=True)
                beta = 1.0 / (1.0 + np.exp(-rng.standard_normal(c)))
                g = np.cumsum(-np.abs(rng.standard_normal(c)) * decay)
                a = beta[:, None] * (keys @ keys.T) * np.exp(g[:, None] - g[None, :])
                mats.append(np.tril(a, -1))
    return np.stack(mats)


def quantize(x, axis):
    """Symmetric INT8 as deltanet.quantize: scale = max|x| / 127 over `axis`."""
    m = np.abs(x).max(axis=axis, keepdims=True)
    factor = np.where(m > 0, 127.0 / np.where(m > 0, m, 1.0), 0.0).astype(np.float32)
    q = np.clip(np.round(x * factor), -127, 127)
    return q, (m / 127.0).astype(np.float32)


def matmul(a, b, precision, acc=None):
    """acc + a @ b as the lowering emits it for `precision` (f32 sums)."""
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    if precision == "f32":
        p = a @ b
    elif precision in ("bf16", "f16"):
        p = round_to(a, precision)[0].astype(np.float32) @ round_to(b, precision)[0].astype(np.float32)
    else:
        qa, sa = quantize(a, 2)
        qb, sb = quantize(b, 1)
        p = ((qa.astype(np.int64) @ qb.astype(np.int64)).astype(np.float32) * sa) * sb
    p = p.astype(np.float32)
    return p if acc is None else (acc + p).astype(np.float32)


def neumann(l, factors, precision):
    n = l.shape[1]
    eye = np.eye(n, dtype=np.float32)
    x = (eye - l).astype(np.float32)
    power = l
    k, f = 1, 1
    while f < factors and 2 * k < n:
        m = n - 2 * k
        band = matmul(power[:, 2 * k:, k:n - k], power[:, k:n - k, :n - 2 * k], precision)
        x = x.copy()
        x[:, 2 * k:, :m] = matmul(x[:, 2 * k:, 2 * k:], band, precision, x[:, 2 * k:, :m])
        if f + 1 < factors and 4 * k < n:
            power = np.zeros_like(l)
            power[:, 2 * k:, :m] = band
        f += 1
        k *= 2
    return x


def blocked(l, block, factors, precision):
    n = l.shape[1]
    x = np.zeros_like(l)
    for p in range(n // block):
        s = slice(p * block, (p + 1) * block)
        x[:, s, s] = neumann(l[:, s, s], factors, precision)
    size = block
    while size < n:
        for p in range(n // (2 * size)):
            o = p * 2 * size
            x11 = x[:, o:o + size, o:o + size]
            x22 = x[:, o + size:o + 2 * size, o + size:o + 2 * size]
            neg_l21 = -l[:, o + size:o + 2 * size, o:o + size]
            x[:, o + size:o + 2 * size, o:o + size] = matmul(x22, matmul(neg_l21, x11, precision), precision)
        size *= 2
    return x


def forward_substitution(l, precision):
    n = l.shape[1]
    x = np.broadcast_to(np.eye(n, dtype=np.float32), l.shape).copy()
    for i in range(1, n):
        x[:, i:i + 1, :i] = matmul(-l[:, i:i + 1, :i], x[:, :i, :i], precision, x[:, i:i + 1, :i])
    return x


def residual_step(l, x, precision):
    n = l.shape[1]
    lx = matmul(l, x, precision)
    r = (np.eye(n, dtype=np.float32) - (x + lx)).astype(np.float32)
    return matmul(x, r, precision, x)


def default_block(precision):
    return 4 if precision == "i8" else 16


def rows():
    rng = np.random.default_rng(2026)
    out = []
    for c in SIZES:
        a = calibration_set(c, rng)
        ref = np.linalg.inv(np.eye(c) + a)
        l = a.astype(np.float32)

        def error(x):
            num = np.linalg.norm((x.astype(np.float64) - ref).reshape(len(a), -1), axis=1)
            den = np.linalg.norm(ref.reshape(len(a), -1), axis=1)
            return float(np.max(num / den))

        for precision in PRECISIONS:
            configs = [("forward_substitution", -1, lambda p=precision: forward_substitution(l, p))]
            for f in range(1, int(math.log2(c)) + 1):
                configs.append(("neumann", f, lambda f=f, p=precision: neumann(l, f, p)))
            block = default_block(precision)
            for f in range(1, int(math.log2(block)) + 1):
                configs.append(("blocked", f, lambda f=f, p=precision: blocked(l, block, f, p)))
            for strategy, order, run in configs:
                x = run()
                for steps in range(MAX_RESIDUAL_STEPS + 1):
                    if steps:
                        x = residual_step(l, x, precision)
                    e = error(x)
                    bound = SAFETY * e if np.isfinite(e) else float("inf")
                    out.append((strategy, c, precision, order, steps, bound))
                    print(f"{strategy:21s} C={c:3d} {precision:4s} order={order:2d} steps={steps} worst={e:.2e}",
                          file=sys.stderr)
    return out


CPP_STRATEGY = {"forward_substitution": "ForwardSubstitution", "neumann": "Neumann", "blocked": "Blocked"}
CPP_PRECISION = {"f32": "F32", "bf16": "BF16", "f16": "F16", "i8": "I8"}


def write_inc(path, table):
    with open(path, "w") as f:
        f.write("// Generated by scripts/calibrate-tri-inv-tolerance.py: do not edit.\n")
        f.write("// {strategy, C, precision, order (-1: n/a), residual steps, bound}\n")
        for strategy, c, precision, order, steps, bound in table:
            b = "INFINITY" if not math.isfinite(bound) or bound > 1e30 else f"{bound:.3e}"
            f.write(f"{{TriInvStrategy::{CPP_STRATEGY[strategy]}, {c}, TriInvPrecision::{CPP_PRECISION[precision]}, "
                    f"{order}, {steps}, {b}}},\n")


def write_md(path, table):
    with open(path, "w") as f:
        f.write("# tri_inv tolerance rule table\n\n")
        f.write("Generated by `scripts/calibrate-tri-inv-tolerance.py` (do not edit). "
                "`--deltanet-lower-tri-inv=\"tolerance=E\"` (pipeline: `tri-inv-tolerance=E`) picks, for every "
                "`deltanet.tri_inv` that sets neither `order` nor `residual_steps`, the cheapest (fewest "
                "multiply-adds) row of its strategy, matrix size C (rounded up to a tabulated size) and precision "
                "whose bound is <= E, and reports the choice in a remark. A tolerance no row meets is an error.\n\n")
        f.write("Bound = 2 x the worst relative Frobenius error measured on the calibration set: realistic chunk "
                "matrices with key correlation 0, 0.3, 0.6 and decay 0.05, 0.5 (8 chunks each), the compiled "
                "arithmetic emulated in NumPy (same slices, operand rounding / INT8 quantisation, f32 sums). "
                "`order` is the number of Neumann product factors (of the whole matrix for `neumann`, of the "
                "diagonal blocks for `blocked`: 16 x 16, or 4 x 4 in INT8); `steps` the residual corrections. "
                "Bounds above 1 mean the configuration is useless on that set (the Neumann powers grow by "
                "orders of magnitude with correlated keys and weak decay before cancelling).\n\n")
        for strategy in ["blocked", "neumann", "forward_substitution"]:
            f.write(f"## {strategy}\n\n| C | precision | order | steps=0 | steps=1 | steps=2 |\n|---|---|---|---|---|---|\n")
            keys = sorted({(c, p, o) for s, c, p, o, _, _ in table if s == strategy},
                          key=lambda k: (k[0], PRECISIONS.index(k[1]), k[2]))
            for c, p, o in keys:
                cells = [b for s, cc, pp, oo, st, b in sorted(table, key=lambda r: r[4])
                         if s == strategy and cc == c and pp == p and oo == o]
                order = "exact" if o == -1 else str(o)
                f.write(f"| {c} | {p} | {order} | " + " | ".join(f"{b:.1e}" for b in cells) + " |\n")
            f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inc", required=True)
    parser.add_argument("--md", required=True)
    args = parser.parse_args()
    np.seterr(all="ignore")
    table = rows()
    write_inc(args.inc, table)
    write_md(args.md, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
