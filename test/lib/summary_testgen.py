#!/usr/bin/python3
"""Generates context-parallel programs (segment summaries) with float64 references, and checks runs.

Subcommands:
  gen    prints an MLIR program whose @main splits one random sequence (T
         tokens) into a first segment of --split tokens and the rest, and
         computes with deltanet ops:
           (M, U)    = gated_delta_rule_summary of the whole sequence,
           (Ma, Ua), (Mb, Ub) of the two segments, composed with
           compose_summaries into (Mab, Uab),
           h_b       = Ma h0 + Ua (compose_summaries after (*, h0)),
           o_b, h_T  = chunk_gated_delta_rule of the second segment from h_b;
         it prints the relative Frobenius errors [M, U, Mab, Uab, o_b, h_T]
         against float64 references computed here: M and U as the product
         M = prod_t exp(g_t) (I - beta_t k_t k_t^T) and the zero-state final
         state (token by token, independent of the chunked form), o and h_T
         by the token-by-token recurrence of the whole sequence.
  check  reads the program's output and asserts a bound on every error.
"""

import argparse
import sys

import numpy as np

from gdr_testgen import (DISTRIBUTIONS, hex_literal, l2norm, make_inputs, recurrent_reference, relative_error,
                         sum_squares)
from testgen_common import printed_values, round_to, tensor_type

NAMES = ["M", "U", "Mab", "Uab", "o_b", "h_T"]


def summary_reference(k, v, g, beta, value_heads, use_qk_l2norm=False):
    """(M [B, HV, K, K], U [B, HV, K, V]) of a segment, token by token, in float64.

    h -> exp(g_t) (I - beta_t k_t k_t^T) h + beta_t k_t v_t^T per token, so
    M is the product of those factors (latest leftmost) and U the final state
    from a zero state.
    """
    k = np.asarray(k, dtype=np.float64)
    if use_qk_l2norm:
        k = l2norm(k)
    k = np.repeat(k, value_heads // k.shape[2], axis=2)
    b, t, hv, kd = k.shape
    vd = v.shape[-1]
    m = np.broadcast_to(np.eye(kd), (b, hv, kd, kd)).copy()
    u = np.zeros((b, hv, kd, vd))
    for i in range(t):
        kt = k[:, i]  # [B, HV, K]
        decay = np.exp(g[:, i])[..., None, None]
        bt = beta[:, i][..., None, None]
        # (I - beta k k^T) X = X - beta k (k^T X)
        def step(x):
            return decay * (x - bt * kt[..., :, None] * np.einsum("bhk,bhkx->bhx", kt, x)[..., None, :])
        m = step(m)
        u = step(u) + beta[:, i][..., None, None] * kt[..., :, None] * v[:, i][..., None, :]
    return m, u


def gen(args):
    rng = np.random.default_rng(args.seed)
    b, t, h, hv, kd, vd, split = args.B, args.T, args.H, args.HV, args.K, args.V, args.split
    if min(b, h, hv, kd, vd) < 1 or hv % h or not 0 < split < t:
        raise SystemExit("error: dims must be >= 1, HV a multiple of H and 0 < split < T")
    inputs = make_inputs(rng, b, t, h, hv, kd, vd, args.dist, l2norm_in_op=args.l2norm, with_h0=True)
    rounded, raw = zip(*(round_to(x, "f32") for x in inputs))
    q, k, v, g, beta, h0 = rounded
    m_ref, u_ref = summary_reference(k, v, g, beta, hv, args.l2norm)
    o_ref, state_ref = recurrent_reference(q, k, v, g, beta, h0, use_qk_l2norm=args.l2norm)
    o_b_ref = np.ascontiguousarray(o_ref[:, split:])

    names = ["q", "k", "v", "g", "beta", "h0"]
    shapes = [[b, t, h, kd], [b, t, h, kd], [b, t, hv, vd], [b, t, hv], [b, t, hv], [b, hv, kd, vd]]
    types = [tensor_type(s, "f32") for s in shapes]
    consts = "\n    ".join(f"%{n} = arith.constant {hex_literal(r)} : {ty}" for n, r, ty in zip(names, raw, types))

    def segment(name, start, length):
        """extract_slice of q, k, v, g, beta along T: %<x>_<name>."""
        lines = []
        for n, s in zip(names[:5], shapes[:5]):
            sizes = [s[0], length] + s[2:]
            offsets = ", ".join(["0", str(start)] + ["0"] * (len(s) - 2))
            lines.append(
                f"%{n}_{name} = tensor.extract_slice %{n}[{offsets}] [{', '.join(map(str, sizes))}]"
                f" [{', '.join(['1'] * len(s))}] : {tensor_type(s, 'f32')} to {tensor_type(sizes, 'f32')}"
            )
        return "\n    ".join(lines)

    attrs = [f"chunk_size = {args.chunk_size} : i64"] + (["use_qk_l2norm"] if args.l2norm else [])
    attr = "{" + ", ".join(attrs) + "}"
    m_t, u_t = tensor_type([b, hv, kd, kd], "f32"), tensor_type([b, hv, kd, vd], "f32")

    def summary(res, seg, length):
        sfx = "" if seg is None else f"_{seg}"
        ins = ", ".join(f"%{n}{sfx}" for n in ("k", "v", "g", "beta"))
        in_t = ", ".join(tensor_type(s[:1] + [length] + s[2:], "f32") for s in shapes[1:5])
        return f"%m{res}, %u{res} = deltanet.gated_delta_rule_summary {ins} {attr} : ({in_t}) -> ({m_t}, {u_t})"

    tb = t - split
    seg_t = [tensor_type(s[:1] + [tb] + s[2:], "f32") for s in shapes[:5]]
    o_b_t = tensor_type([b, tb, hv, vd], "f32")
    ref_t = {n: tensor_type(list(x.shape), "f64") for n, x in
             (("M", m_ref), ("U", u_ref), ("o_b", o_b_ref), ("h_T", state_ref))}
    refs = "\n    ".join(
        f"%{n}_ref = arith.constant {hex_literal(x.astype(np.float64).tobytes())} : {ref_t[n]}"
        for n, x in (("M", m_ref), ("U", u_ref), ("o_b", o_b_ref), ("h_T", state_ref))
    )
    checks = [("M", "%m", "%M_ref", m_t, ref_t["M"]), ("U", "%u", "%U_ref", u_t, ref_t["U"]),
              ("Mab", "%mab", "%M_ref", m_t, ref_t["M"]), ("Uab", "%uab", "%U_ref", u_t, ref_t["U"]),
              ("o_b", "%o_b", "%o_b_ref", o_b_t, ref_t["o_b"]), ("h_T", "%h_T", "%h_T_ref", types[5], ref_t["h_T"])]
    sums = "\n".join(sum_squares(p, val, ref, vt, rt, "f32") for p, val, ref, vt, rt in checks)
    errs = "\n".join(relative_error(p) for p, *_ in checks)
    err_list = ", ".join(f"%err_{p}" for p, *_ in checks)
    print(
        f"""// Generated by summary_testgen.py gen {' '.join(sys.argv[2:])}
#all = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
module {{
  func.func private @printMemrefF64(memref<*xf64>)

  func.func @main() {{
    {consts}
    {segment("a", 0, split)}
    {segment("b", split, tb)}
    {summary("", None, t)}
    {summary("a", "a", split)}
    {summary("b", "b", tb)}
    %mab, %uab = deltanet.compose_summaries {"%mb, %ub, %ma, %ua" if args.swap_order else "%ma, %ua, %mb, %ub"} : ({m_t}, {u_t}, {m_t}, {u_t}) -> ({m_t}, {u_t})
    %unused, %h_b = deltanet.compose_summaries %ma, %h0, %ma, %ua : ({m_t}, {u_t}, {m_t}, {u_t}) -> ({m_t}, {u_t})
    %o_b, %h_T = deltanet.chunk_gated_delta_rule %q_b, %k_b, %v_b, %g_b, %beta_b, %h_b {attr}
        : ({', '.join(seg_t)}, {types[5]}) -> ({o_b_t}, {types[5]})
    {refs}
    %zero = arith.constant 0.0 : f64
    %empty = tensor.empty() : tensor<f64>
    %acc = linalg.fill ins(%zero : f64) outs(%empty : tensor<f64>) -> tensor<f64>
{sums}
{errs}
    %errs = tensor.from_elements {err_list} : tensor<{len(checks)}xf64>
    %mem = bufferization.to_buffer %errs : tensor<{len(checks)}xf64> to memref<{len(checks)}xf64>
    %unranked = memref.cast %mem : memref<{len(checks)}xf64> to memref<*xf64>
    call @printMemrefF64(%unranked) : (memref<*xf64>) -> ()
    return
  }}
}}"""
    )


def check(args):
    errors = printed_values(sys.stdin.read())
    if errors is None:
        return 1
    if len(errors) != len(NAMES):
        print(f"error: expected {len(NAMES)} printed errors {NAMES}, got {errors}", file=sys.stderr)
        return 1
    label = f"{args.label}: " if args.label else ""
    print(label + ", ".join(f"{n} {e:.2e}" for n, e in zip(NAMES, errors)))
    bad = [f"{n} error {e:.3e} > {args.max:.1e}" for n, e in zip(NAMES, errors) if not e <= args.max]
    for line in bad:
        print("FAIL: " + line, file=sys.stderr)
    return 1 if bad else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    for name, default in (("B", 1), ("H", 1), ("HV", None), ("K", 16), ("V", 16)):
        g.add_argument(f"--{name}", type=int, default=default)
    g.add_argument("--T", type=int, required=True, help="tokens of the whole sequence")
    g.add_argument("--split", type=int, required=True, help="tokens of the first segment (0 < split < T)")
    g.add_argument("--chunk-size", type=int, default=16)
    g.add_argument("--dist", choices=sorted(DISTRIBUTIONS), default="realistic")
    g.add_argument("--l2norm", action="store_true", help="use_qk_l2norm, un-normalised q and k")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--swap-order", action="store_true",
                   help="testing aid: compose the segments in the wrong order (Mab, Uab must then be wrong)")
    c = sub.add_parser("check")
    c.add_argument("--max", type=float, required=True)
    c.add_argument("--label", default="")
    args = parser.parse_args()
    if args.cmd == "gen":
        if args.HV is None:
            args.HV = args.H
        gen(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
