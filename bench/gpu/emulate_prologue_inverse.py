#!/usr/bin/env python3
"""numpy emulation of the prologue chain's inverse (I + A)^-1 (no GPU).

Emulates, per 64 x 64 chunk, the operand rounding of the mma.sync products in
lib/Codegen/GPU/LowerChunkPrologueToMmaChain.cpp (f32 accumulation):
  neumann  the whole-chunk Neumann product (I - A)(I + A^2)...(I + A^32)
           (session 14's chain; its partial products are
           (I - A^(2^m)) (I + A)^-1 and grow with the powers of A);
  blocked  the chain now: each 16 x 16 diagonal block by the Neumann product,
           then log2(C / 16) merges T -= T (A_L T);
with operands rounded to bf16 / f16, split into bf16 high + low parts (three
products: the f32 inverse), or f64. Relative Frobenius errors against
numpy's inverse, on realistic chunks (bench/gpu/gdr_peers.py's decays) and
on correlated keys without decay (tri_inv's `correlated-no-decay`).

  /usr/bin/python3 bench/gpu/emulate_prologue_inverse.py [--chunks 128]
"""
import argparse

import numpy as np


def bf16(x):
    """Round to bf16 (nearest even), as float64."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).astype(np.float64)


def f16(x):
    with np.errstate(over="ignore"):
        return np.asarray(x, np.float32).astype(np.float16).astype(np.float64)


def f32(x):
    return np.asarray(x, np.float32).astype(np.float64)


def parts(x, mode):
    x = f32(x)
    if mode == "bf16":
        return [bf16(x)]
    if mode == "f16":
        return [f16(x)]
    hi = bf16(x)  # split
    return [hi, bf16(x - hi)]


def mm(x, y, mode):
    if mode == "f64":
        return x @ y
    xs, ys = parts(x, mode), parts(y, mode)
    with np.errstate(invalid="ignore", over="ignore"):
        if len(xs) == 1:
            return f32(xs[0] @ ys[0])
        return f32(xs[1] @ ys[0] + xs[0] @ ys[1] + xs[0] @ ys[0])


def neumann(a, mode):
    """(I + a)^-1 = (I - a)(I + a^2)...(I + a^(C/2)) for strictly lower a."""
    c = a.shape[-1]
    x, p = np.eye(c) - a, mm(a, a, mode)
    levels = int(np.log2(c)) - 1
    for m in range(1, levels + 1):
        x = f32(x + mm(x, p, mode))
        if m < levels:
            p = mm(p, p, mode)
    return x


def blocked(a, mode):
    c = a.shape[-1]
    t = np.zeros_like(a)
    for w in range(c // 16):
        s = slice(16 * w, 16 * w + 16)
        t[:, s, s] = neumann(a[:, s, s], mode)
    h = 16
    while h < c:
        lower_left = np.zeros_like(a)
        for start in range(0, c, 2 * h):
            rows, cols = slice(start + h, start + 2 * h), slice(start, start + h)
            lower_left[:, rows, cols] = a[:, rows, cols]
        t = f32(t - mm(t, mm(lower_left, t, mode), mode))
        h *= 2
    return t


def chunks(rng, n, c=64, d=128, corr=0.0, realistic=True):
    noise = rng.standard_normal((n, c, d))
    shared = rng.standard_normal((n, 1, d))
    k = (1 - corr) ** 0.5 * noise + corr ** 0.5 * shared
    k = bf16(k / np.linalg.norm(k, axis=-1, keepdims=True))  # bf16 inputs
    beta = 1 / (1 + np.exp(-rng.standard_normal((n, c))))
    if realistic:  # gdr_peers.inputs' decays
        g = -np.exp(-3.5 + 0.5 * rng.standard_normal((n, c))) * np.log1p(np.exp(rng.standard_normal((n, c))))
        g = np.cumsum(g, -1)
    else:
        g = np.zeros((n, c))
    a = beta[..., None] * f32(k @ k.transpose(0, 2, 1)) * np.exp(g[..., :, None] - g[..., None, :])
    return f32(np.tril(a, -1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chunks", type=int, default=128)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    cases = [("realistic", dict(realistic=True)),
             ("correlated-no-decay (0.9)", dict(corr=0.9, realistic=False)),
             ("correlated-no-decay (0.99)", dict(corr=0.99, realistic=False))]
    for name, kw in cases:
        a = chunks(rng, args.chunks, **kw)
        ref = np.linalg.inv(np.eye(a.shape[-1]) + a)
        err = lambda x: np.linalg.norm(x - ref) / np.linalg.norm(ref)  # noqa: E731
        p16 = np.abs(np.linalg.matrix_power(a, 16)).max()
        print(f"{name}: max |A^16| {p16:.1e}; rounding T to bf16 (the WY products' operand) {err(bf16(ref)):.1e}")
        for method, fn in (("neumann", neumann), ("blocked", blocked)):
            print(f"  {method:8s}" + "".join(f"  {mode} {err(fn(a, mode)):.1e}" for mode in ("f64", "split", "bf16", "f16")))


if __name__ == "__main__":
    main()
