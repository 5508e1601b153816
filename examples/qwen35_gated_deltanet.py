#!/usr/bin/python3
"""A Qwen3.5-style Gated DeltaNet layer as one MLIR module, its float64 reference, random weights.

The layer (Qwen3-Next 80B-A3B linear attention: hidden 2048, 16 q/k heads,
32 value heads, head dim 128, causal conv of 4), written the way a model
compiler would hand it to deltanet-mlir: upstream linalg/tensor/math for
everything but the attention, which is one deltanet op.

  qkv = x W_qkv; z = x W_z; b = x W_b; a = x W_a            (linalg.matmul)
  qkv = silu(causal depthwise conv1d(qkv, kernel 4))         (linalg.generic)
  q, k, v = split(qkv)  [T, H, K], [T, H, K], [T, HV, V]
  beta = sigmoid(b);  g = -exp(A_log) * softplus(a + dt_bias)
  o, S = deltanet.{chunk,recurrent}_gated_delta_rule(q, k, v, g, beta, S0, use_qk_l2norm)
  o = rmsnorm(o) * norm_w * silu(z)   (per value head, eps 1e-6: gated RMSNorm)
  y = o W_out

Entry points (B = 1, float32):
  @prefill(x [T, D], weights..., conv_cache memref [3, C], state_cache memref [1, HV, K, V]) -> y [T, D]
      chunk op from a zero state; writes the caches (the last 3 conv inputs, the final state).
  @decode(x [1, D], weights..., conv_cache, state_cache) -> y [1, D]
      T = 1: the recurrent op; reads and updates both caches in place (the
      caller's buffers, through bufferization.to_tensor restrict writable /
      materialize_in_destination).
C = 2 H K + HV V is the conv width (8192 at the real sizes). The conv cache
holds the last kernel-1 = 3 inputs (what the next output needs; transformers
keeps 4 of which the oldest is never read again).

  python3 examples/qwen35_gated_deltanet.py --mode prefill --tokens 512 > prefill.mlir
  python3 examples/qwen35_gated_deltanet.py --mode decode --small > decode.mlir
"""

import argparse
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Config:
    hidden: int = 2048
    heads: int = 16  # q/k heads H
    value_heads: int = 32  # HV
    key_dim: int = 128  # K
    value_dim: int = 128  # V
    conv: int = 4
    chunk_size: int = 64
    eps: float = 1e-6

    @property
    def conv_dim(self):
        return 2 * self.heads * self.key_dim + self.value_heads * self.value_dim


QWEN3_NEXT = Config()
SMALL = Config(hidden=64, heads=2, value_heads=4, key_dim=16, value_dim=8, chunk_size=16)

# Weight names, in the order of the entry points' arguments, and their shapes.
WEIGHTS = ("w_qkv", "w_z", "w_b", "w_a", "conv_w", "a_log", "dt_bias", "norm_w", "w_out")


def weight_shapes(cfg):
    d, c, hv = cfg.hidden, cfg.conv_dim, cfg.value_heads
    return {
        "w_qkv": (d, c),
        "w_z": (d, hv * cfg.value_dim),
        "w_b": (d, hv),
        "w_a": (d, hv),
        "conv_w": (cfg.conv, c),
        "a_log": (hv,),
        "dt_bias": (hv,),
        "norm_w": (cfg.value_dim,),
        "w_out": (hv * cfg.value_dim, d),
    }


def random_weights(cfg, rng):
    """float32 weights at the scale of a trained layer (unit-variance activations)."""
    shapes = weight_shapes(cfg)
    w = {}
    for name in ("w_qkv", "w_z", "w_b", "w_a", "w_out"):
        fan_in = shapes[name][0]
        w[name] = rng.standard_normal(shapes[name]) / np.sqrt(fan_in)
    w["conv_w"] = rng.standard_normal(shapes["conv_w"]) * 0.5
    w["a_log"] = np.log(rng.uniform(1, 16, shapes["a_log"]))  # A in [1, 16], as Qwen3-Next's init
    w["dt_bias"] = rng.standard_normal(shapes["dt_bias"]) * 0.5
    w["norm_w"] = 1 + 0.1 * rng.standard_normal(shapes["norm_w"])
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items()}


def empty_caches(cfg):
    return (np.zeros((cfg.conv - 1, cfg.conv_dim), np.float32),
            np.zeros((1, cfg.value_heads, cfg.key_dim, cfg.value_dim), np.float32))


# ---------------------------------------------------------------------------
# float64 reference
# ---------------------------------------------------------------------------


def _silu(x):
    return x / (1 + np.exp(-x))


def _softplus(x):
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def _l2norm(x):
    return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + 1e-6)


def reference_layer(cfg, w, x, conv_cache, state):
    """The layer on x [T, D] from the caches, in float64 token by token.

    Returns (y [T, D], new conv cache [3, C], new state [1, HV, K, V]).
    """
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = x.astype(np.float64)
    t_len = x.shape[0]
    qkv = x @ w["w_qkv"]
    window = np.concatenate([conv_cache.astype(np.float64), qkv])  # [3 + T, C]
    conv = sum(w["conv_w"][j] * window[j : j + t_len] for j in range(cfg.conv))
    qkv = _silu(conv)
    hk, hv = cfg.heads * cfg.key_dim, cfg.value_heads
    q = _l2norm(qkv[:, :hk].reshape(t_len, cfg.heads, cfg.key_dim))
    k = _l2norm(qkv[:, hk : 2 * hk].reshape(t_len, cfg.heads, cfg.key_dim))
    v = qkv[:, 2 * hk :].reshape(t_len, hv, cfg.value_dim)
    beta = 1 / (1 + np.exp(-(x @ w["w_b"])))
    g = -np.exp(w["a_log"]) * _softplus(x @ w["w_a"] + w["dt_bias"])
    group = hv // cfg.heads
    q, k = np.repeat(q, group, axis=1), np.repeat(k, group, axis=1)
    s = state[0].astype(np.float64).copy()  # [HV, K, V]
    o = np.empty((t_len, hv, cfg.value_dim))
    scale = cfg.key_dim**-0.5
    for t in range(t_len):
        s *= np.exp(g[t])[:, None, None]
        u = beta[t][:, None] * (v[t] - np.einsum("hkv,hk->hv", s, k[t]))
        s += k[t][:, :, None] * u[:, None, :]
        o[t] = np.einsum("hkv,hk->hv", s, scale * q[t])
    z = (x @ w["w_z"]).reshape(t_len, hv, cfg.value_dim)
    o = o / np.sqrt(np.mean(o * o, axis=-1, keepdims=True) + cfg.eps) * w["norm_w"] * _silu(z)
    y = o.reshape(t_len, -1) @ w["w_out"]
    return y, window[-(cfg.conv - 1) :], s[None]


# ---------------------------------------------------------------------------
# MLIR
# ---------------------------------------------------------------------------


def _t(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def _m(shape):
    return "memref<" + "".join(f"{d}x" for d in shape) + "f32>"


class _Emitter:
    def __init__(self):
        self.lines, self.n = [], 0

    def fresh(self, hint="v"):
        self.n += 1
        return f"%{hint}{self.n}"

    def op(self, text, hint="v"):
        name = self.fresh(hint)
        self.lines.append(f"    {name} = {text}")
        return name

    def zeros(self, shape):
        empty = self.op(f"tensor.empty() : {_t(shape)}")
        zero = self.op("arith.constant 0.0 : f32")
        return self.op(f"linalg.fill ins({zero} : f32) outs({empty} : {_t(shape)}) -> {_t(shape)}")

    def matmul(self, a, b, m, k, n):
        acc = self.zeros((m, n))
        return self.op(
            f"linalg.matmul ins({a}, {b} : {_t((m, k))}, {_t((k, n))}) outs({acc} : {_t((m, n))}) -> {_t((m, n))}"
        )

    def generic(self, inputs, out_shape, maps, iterators, body, init=None):
        """linalg.generic; `inputs` [(value, shape)], `maps` input maps then output map
        (affine map texts over d0..), `body(args)` -> list of body lines ending in the yielded name."""
        if init is None:
            init = self.op(f"tensor.empty() : {_t(out_shape)}")
        names = [f"%in{i}" for i in range(len(inputs))] + ["%out"]
        lines, result = body(names)
        ins = ", ".join(v for v, _ in inputs)
        in_types = ", ".join(_t(s) for _, s in inputs)
        rank = len(iterators)
        dims = ", ".join(f"d{i}" for i in range(rank))
        map_text = ", ".join(f"affine_map<({dims}) -> ({m})>" for m in maps)
        its = ", ".join(f'"{i}"' for i in iterators)
        block_args = ", ".join(f"{n}: f32" for n in names)
        text = (
            f"linalg.generic {{indexing_maps = [{map_text}], iterator_types = [{its}]}}"
            f" ins({ins} : {in_types}) outs({init} : {_t(out_shape)}) {{\n"
            f"    ^bb0({block_args}):\n"
            + "".join(f"      {line}\n" for line in lines)
            + f"      linalg.yield {result} : f32\n"
            f"    }} -> {_t(out_shape)}"
        )
        return self.op(text)


def _silu_body(x, out):
    return [
        f"%neg = arith.negf {x} : f32",
        "%e = math.exp %neg : f32",
        "%one = arith.constant 1.0 : f32",
        "%den = arith.addf %one, %e : f32",
        f"%s = arith.divf {x}, %den : f32",
    ], "%s"


def build_mlir(cfg, tokens, mode, decode_op="recurrent"):
    """MLIR text of @prefill (chunk op, `tokens` tokens) or @decode (T = 1).

    `decode_op`: the op of @decode, "recurrent" (the decode path) or "chunk"
    (one padded chunk from the cached state, as fla's chunk kernel at T = 1;
    for measuring the inverse in decode).
    """
    assert mode in ("prefill", "decode") and decode_op in ("recurrent", "chunk")
    if mode == "decode":
        tokens = 1
    e = _Emitter()
    d, c, hv, kd, vd, h = cfg.hidden, cfg.conv_dim, cfg.value_heads, cfg.key_dim, cfg.value_dim, cfg.heads
    hk = h * kd
    t = tokens
    shapes = weight_shapes(cfg)
    conv_cache_shape, state_shape = (cfg.conv - 1, c), (1, hv, kd, vd)
    args = [f"%hidden: {_t((t, d))}"] + [f"%{n}: {_t(shapes[n])}" for n in WEIGHTS]
    args += [f"%conv_cache: {_m(conv_cache_shape)}", f"%state_cache: {_m(state_shape)}"]

    # Caches as tensors that bufferize in place into the caller's buffers.
    conv_prev = e.op(f"bufferization.to_tensor %conv_cache restrict writable : {_m(conv_cache_shape)} to {_t(conv_cache_shape)}")
    state_prev = e.op(f"bufferization.to_tensor %state_cache restrict writable : {_m(state_shape)} to {_t(state_shape)}")

    # Projections.
    qkv = e.matmul("%hidden", "%w_qkv", t, d, c)
    z = e.matmul("%hidden", "%w_z", t, d, hv * vd)
    b = e.matmul("%hidden", "%w_b", t, d, hv)
    a = e.matmul("%hidden", "%w_a", t, d, hv)

    # Causal depthwise conv (kernel cfg.conv) over [previous inputs; qkv], then SiLU.
    k1 = cfg.conv - 1
    if mode == "prefill":
        # A fresh sequence: the previous inputs are zeros (prefill ignores the cache's contents).
        zero = e.op("arith.constant 0.0 : f32")
        window = e.op(
            f"tensor.pad {qkv} low[{k1}, 0] high[0, 0] {{\n    ^bb0(%i: index, %j: index):\n"
            f"      tensor.yield {zero} : f32\n    }} : {_t((t, c))} to {_t((t + k1, c))}"
        )
    else:
        window = e.op(f"tensor.concat dim(0) {conv_prev}, {qkv} : ({_t(conv_cache_shape)}, {_t((t, c))}) -> {_t((t + k1, c))}")
    conv_init = e.zeros((t, c))
    conv = e.generic(
        [(window, (t + k1, c)), ("%conv_w", (cfg.conv, c))], (t, c),
        ["d0 + d2, d1", "d2, d1", "d0, d1"], ["parallel", "parallel", "reduction"],
        lambda n: ([f"%p = arith.mulf {n[0]}, {n[1]} : f32", f"%s = arith.addf {n[2]}, %p : f32"], "%s"),
        init=conv_init,
    )
    act = e.generic([(conv, (t, c))], (t, c), ["d0, d1", "d0, d1"], ["parallel", "parallel"],
                    lambda n: _silu_body(n[0], n[1]))
    conv_next = e.op(f"tensor.extract_slice {window}[{t}, 0] [{k1}, {c}] [1, 1] : {_t((t + k1, c))} to {_t(conv_cache_shape)}")

    # Heads: q, k [1, T, H, K]; v [1, T, HV, V].
    def heads(offset, width, nh, hd):
        part = e.op(f"tensor.extract_slice {act}[0, {offset}] [{t}, {width}] [1, 1] : {_t((t, c))} to {_t((t, width))}")
        return e.op(f"tensor.expand_shape {part} [[0, 1], [2, 3]] output_shape [1, {t}, {nh}, {hd}] : {_t((t, width))} into {_t((1, t, nh, hd))}")

    q = heads(0, hk, h, kd)
    k = heads(hk, hk, h, kd)
    v = heads(2 * hk, hv * vd, hv, vd)

    # Gates: beta = sigmoid(b); g = -exp(A_log) * softplus(a + dt_bias).
    beta2 = e.generic([(b, (t, hv))], (t, hv), ["d0, d1", "d0, d1"], ["parallel", "parallel"],
                      lambda n: ([f"%neg = arith.negf {n[0]} : f32", "%e = math.exp %neg : f32",
                                  "%one = arith.constant 1.0 : f32", "%den = arith.addf %one, %e : f32",
                                  "%s = arith.divf %one, %den : f32"], "%s"))
    g2 = e.generic(
        [(a, (t, hv)), ("%dt_bias", (hv,)), ("%a_log", (hv,))], (t, hv),
        ["d0, d1", "d1", "d1", "d0, d1"], ["parallel", "parallel"],
        lambda n: ([
            f"%x = arith.addf {n[0]}, {n[1]} : f32",
            # softplus(x) = max(x, 0) + log1p(exp(-|x|)), stable for any x.
            "%ax = math.absf %x : f32", "%nax = arith.negf %ax : f32", "%e = math.exp %nax : f32",
            "%l = math.log1p %e : f32", "%zero = arith.constant 0.0 : f32",
            "%r = arith.maximumf %x, %zero : f32", "%sp = arith.addf %r, %l : f32",
            f"%A = math.exp {n[2]} : f32", "%nA = arith.negf %A : f32",
            "%g = arith.mulf %nA, %sp : f32"], "%g"),
    )
    beta = e.op(f"tensor.expand_shape {beta2} [[0, 1], [2]] output_shape [1, {t}, {hv}] : {_t((t, hv))} into {_t((1, t, hv))}")
    g = e.op(f"tensor.expand_shape {g2} [[0, 1], [2]] output_shape [1, {t}, {hv}] : {_t((t, hv))} into {_t((1, t, hv))}")

    # The attention.
    types = f"({_t((1, t, h, kd))}, {_t((1, t, h, kd))}, {_t((1, t, hv, vd))}, {_t((1, t, hv))}, {_t((1, t, hv))}, {_t(state_shape)})"
    results = f"({_t((1, t, hv, vd))}, {_t(state_shape)})"
    if mode == "prefill":
        h0 = e.zeros(state_shape)
        op = f"deltanet.chunk_gated_delta_rule {q}, {k}, {v}, {g}, {beta}, {h0} {{chunk_size = {cfg.chunk_size} : i64, use_qk_l2norm}}"
    elif decode_op == "chunk":
        op = f"deltanet.chunk_gated_delta_rule {q}, {k}, {v}, {g}, {beta}, {state_prev} {{chunk_size = {cfg.chunk_size} : i64, use_qk_l2norm}}"
    else:
        op = f"deltanet.recurrent_gated_delta_rule {q}, {k}, {v}, {g}, {beta}, {state_prev} {{use_qk_l2norm}}"
    name = e.fresh("attn")
    e.lines.append(f"    {name}:2 = {op} : {types} -> {results}")
    o, state_next = f"{name}#0", f"{name}#1"

    # Gated RMSNorm per value head, then the output projection.
    o3 = e.op(f"tensor.collapse_shape {o} [[0, 1], [2], [3]] : {_t((1, t, hv, vd))} into {_t((t, hv, vd))}")
    z3 = e.op(f"tensor.expand_shape {z} [[0], [1, 2]] output_shape [{t}, {hv}, {vd}] : {_t((t, hv * vd))} into {_t((t, hv, vd))}")
    sumsq = e.generic([(o3, (t, hv, vd))], (t, hv), ["d0, d1, d2", "d0, d1"], ["parallel", "parallel", "reduction"],
                      lambda n: ([f"%p = arith.mulf {n[0]}, {n[0]} : f32", f"%s = arith.addf {n[1]}, %p : f32"], "%s"),
                      init=e.zeros((t, hv)))
    normed = e.generic(
        [(o3, (t, hv, vd)), (sumsq, (t, hv)), ("%norm_w", (vd,)), (z3, (t, hv, vd))], (t, hv, vd),
        ["d0, d1, d2", "d0, d1", "d2", "d0, d1, d2", "d0, d1, d2"], ["parallel"] * 3,
        lambda n: ([
            f"%n = arith.constant {float(vd)!r} : f32", f"%ms = arith.divf {n[1]}, %n : f32",
            f"%eps = arith.constant {cfg.eps:.6e} : f32", "%ve = arith.addf %ms, %eps : f32",
            "%r = math.rsqrt %ve : f32", f"%x = arith.mulf {n[0]}, %r : f32", f"%xw = arith.mulf %x, {n[2]} : f32",
            f"%neg = arith.negf {n[3]} : f32", "%e = math.exp %neg : f32", "%one = arith.constant 1.0 : f32",
            "%den = arith.addf %one, %e : f32", f"%sz = arith.divf {n[3]}, %den : f32",
            "%y = arith.mulf %xw, %sz : f32"], "%y"),
    )
    flat = e.op(f"tensor.collapse_shape {normed} [[0], [1, 2]] : {_t((t, hv, vd))} into {_t((t, hv * vd))}")
    y = e.matmul(flat, "%w_out", t, hv * vd, d)

    e.lines.append(f"    bufferization.materialize_in_destination {conv_next} in restrict writable %conv_cache : ({_t(conv_cache_shape)}, {_m(conv_cache_shape)}) -> ()")
    e.lines.append(f"    bufferization.materialize_in_destination {state_next} in restrict writable %state_cache : ({_t(state_shape)}, {_m(state_shape)}) -> ()")
    e.lines.append(f"    return {y} : {_t((t, d))}")
    header = f"  func.func @{mode}({', '.join(args)}) -> {_t((t, d))} attributes {{llvm.emit_c_interface}} {{"
    return "module {\n" + header + "\n" + "\n".join(e.lines) + "\n  }\n}\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("prefill", "decode"), default="prefill")
    parser.add_argument("--tokens", type=int, default=512, help="prefill length T")
    parser.add_argument("--decode-op", choices=("recurrent", "chunk"), default="recurrent",
                        help="the op of @decode (chunk: one padded chunk, to measure the inverse in decode)")
    parser.add_argument("--small", action="store_true", help="test sizes instead of Qwen3-Next's")
    args = parser.parse_args()
    print(build_mlir(SMALL if args.small else QWEN3_NEXT, args.tokens, args.mode, args.decode_op), end="")


if __name__ == "__main__":
    main()
