#!/usr/bin/python3
"""Generates gated-delta-rule integration programs with float64 references, and checks runs.

Subcommands:
  gen    prints an MLIR program whose @main runs deltanet.chunk_gated_delta_rule
         (or deltanet.recurrent_gated_delta_rule with --chunk-size 0) on random
         q, k, v, g, beta and initial state, and prints [output error, state
         error]: the relative Frobenius errors of the whole o tensor and of the
         whole final state against the float64 token-by-token recurrence
         (computed here with NumPy on the rounded inputs and embedded as hex
         dense literals; the errors are computed in f64 in the program, so
         printing precision does not blur them).
  check  reads the program's output and asserts bounds on both errors;
         optionally appends the output error to a file.
  falls  asserts that the errors recorded in a file fall strictly.

The module also exposes the float64 references used by the self-test
(gdr_reference_selftest.py): recurrent_reference (the normative recurrence)
and chunk_reference (the chunk-wise form the compiler lowering follows), both
python/deltanet/reference.py's, so the package and the oracle share them.

Testing aid: `gen --identity-op` replaces the deltanet op with zero-filled
results, so the program runs with upstream mlir-opt/mlir-runner and must print
exactly [1, 1]; this validates the in-IR error computation end to end.
"""

import argparse
import importlib.util
import os
import sys

import numpy as np

from testgen_common import add_check_and_falls_parsers, falls, printed_values, round_to, tensor_type

DISTRIBUTIONS = {
    # name: (pairwise key correlation, decay scale)
    "realistic": (0.3, 0.1),
    "correlated": (0.9, 0.02),
    "adversarial": (0.98, 0.0),
}

# ----------------------------------------------------------------------------
# float64 references: python/deltanet/reference.py, the package's normative
# references, loaded by file path (it needs NumPy only), so that the test
# oracle and the package share one implementation and the generators run
# without the build tree on PYTHONPATH.
# ----------------------------------------------------------------------------


def _load_package_reference():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python", "deltanet", "reference.py")
    spec = importlib.util.spec_from_file_location("deltanet_reference", os.path.normpath(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_reference = _load_package_reference()
L2NORM_EPS = _reference.L2NORM_EPS
l2norm = _reference.l2norm
unit_lower_inverse = _reference.tri_inv


def recurrent_reference(q, k, v, g, beta, h0, scale=None, use_qk_l2norm=False):
    """The gated delta rule token by token, in float64; returns (o, final state)."""
    return _reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0, scale=scale, use_qk_l2norm=use_qk_l2norm)


def chunk_reference(q, k, v, g, beta, h0, scale=None, use_qk_l2norm=False, chunk_size=64):
    """The chunk-wise form of the gated delta rule, in float64; returns (o, final state)."""
    return _reference.chunk_gated_delta_rule(
        q, k, v, g, beta, h0, chunk_size=chunk_size, scale=scale, use_qk_l2norm=use_qk_l2norm
    )


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------


def make_inputs(rng, b, t, h, hv, kdim, vdim, dist, l2norm_in_op=False, with_h0=False):
    """float64 q, k, v, g, beta, h0 drawn from distribution `dist`.

    Keys are sqrt(1-corr) * noise + sqrt(corr) * shared, with one shared
    direction per (batch, head); queries are N(0,1). Both are L2-normalised
    along K, unless the op normalises them itself (`l2norm_in_op`), in which
    case they are passed un-normalised (times 3). v ~ N(0,1);
    beta = sigmoid(N(0,1)); g = -|N(0,1)| * decay; h0 ~ 0.1 N(0,1) or zeros.
    """
    corr, decay = DISTRIBUTIONS[dist]
    shared = rng.standard_normal((b, 1, h, kdim))
    k = np.sqrt(1 - corr) * rng.standard_normal((b, t, h, kdim)) + np.sqrt(corr) * shared
    q = rng.standard_normal((b, t, h, kdim))
    if l2norm_in_op:
        q, k = 3.0 * q, 3.0 * k
    else:
        q = q / np.linalg.norm(q, axis=-1, keepdims=True)
        k = k / np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.standard_normal((b, t, hv, vdim))
    beta = 1.0 / (1.0 + np.exp(-rng.standard_normal((b, t, hv))))
    g = -np.abs(rng.standard_normal((b, t, hv))) * decay
    h0 = rng.standard_normal((b, hv, kdim, vdim)) * 0.1 if with_h0 else np.zeros((b, hv, kdim, vdim))
    return q, k, v, g, beta, h0


# ----------------------------------------------------------------------------
# gen
# ----------------------------------------------------------------------------


def hex_literal(raw):
    return f'dense<"0x{raw.hex().upper()}">'


def gen(args):
    rng = np.random.default_rng(args.seed)
    b, t, h, hv, kd, vd = args.B, args.T, args.H, args.HV, args.K, args.V
    if min(b, t, h, hv, kd, vd) < 1 or hv % h:
        raise SystemExit("error: all dims must be >= 1 and HV a multiple of H")
    inputs = make_inputs(rng, b, t, h, hv, kd, vd, args.dist, l2norm_in_op=args.l2norm, with_h0=args.h0)
    dtypes = [args.dtype] * 3 + ["f32"] * 3  # q, k, v; g, beta, h0
    rounded, raw = zip(*(round_to(x, dt) for x, dt in zip(inputs, dtypes)))
    # The op takes an f32 scale: the reference uses the same rounded value.
    scale = None if args.scale is None else float(np.float32(args.scale))
    o_ref, state_ref = recurrent_reference(*rounded, scale=scale, use_qk_l2norm=args.l2norm)

    dt = args.dtype
    shapes = [[b, t, h, kd], [b, t, h, kd], [b, t, hv, vd], [b, t, hv], [b, t, hv], [b, hv, kd, vd]]
    static_in = [tensor_type(s, e) for s, e in zip(shapes, dtypes)]
    o_shape, state_shape = [b, t, hv, vd], [b, hv, kd, vd]
    static_o, static_state = tensor_type(o_shape, dt), tensor_type(state_shape, "f32")

    def call_type(shape, elt, dims_bt):
        # dims_bt: how many leading dims are B, T (dynamic with --dynamic).
        lead = ["?"] * dims_bt if args.dynamic else shape[:dims_bt]
        return tensor_type(list(lead) + shape[dims_bt:], elt)

    call_in = [call_type(s, e, 1 if i == 5 else 2) for i, (s, e) in enumerate(zip(shapes, dtypes))]
    call_o, call_state = call_type(o_shape, dt, 2), call_type(state_shape, "f32", 1)
    in_list = ", ".join(call_in)
    res_list = f"{call_o}, {call_state}"

    names = ["q", "k", "v", "g", "beta", "h0"]
    params = ", ".join(f"%{n}: {ty}" for n, ty in zip(names, call_in))
    operands = ", ".join(f"%{n}" for n in names)
    if args.identity_op:
        body = identity_body(args, dt, call_o, call_state, call_in[2])
    else:
        attrs = []
        if args.chunk_size:
            attrs.append(f"chunk_size = {args.chunk_size} : i64")
        if scale is not None:
            attrs.append(f"scale = {scale:.9e} : f32")
        if args.l2norm:
            attrs.append("use_qk_l2norm")
        attr_dict = f" {{{', '.join(attrs)}}}" if attrs else ""
        op = "chunk_gated_delta_rule" if args.chunk_size else "recurrent_gated_delta_rule"
        body = (
            f"%o, %hT = deltanet.{op} {operands}{attr_dict}\n"
            f"        : ({in_list}) -> ({res_list})"
        )

    consts = "\n    ".join(
        f"%{n}_s = arith.constant {hex_literal(r)} : {ty}" for n, r, ty in zip(names, raw, static_in)
    )
    casts = "\n    ".join(
        f"%{n}_c = tensor.cast %{n}_s : {s} to {c}" for n, s, c in zip(names, static_in, call_in)
    )
    call_args = ", ".join(f"%{n}_c" for n in names)
    ref_o_t, ref_state_t = tensor_type(o_shape, "f64"), tensor_type(state_shape, "f64")
    print(
        f"""// Generated by gdr_testgen.py gen {' '.join(sys.argv[2:])}
#all = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
module {{
  func.func private @printMemrefF64(memref<*xf64>)

  func.func @gdr({params}) -> ({res_list}) attributes {{llvm.emit_c_interface}} {{
    {body}
    return %o, %hT : {res_list}
  }}

  func.func @main() {{
    {consts}
    {casts}
    %oc, %hTc = call @gdr({call_args}) : ({in_list}) -> ({res_list})
    %o = tensor.cast %oc : {call_o} to {static_o}
    %hT = tensor.cast %hTc : {call_state} to {static_state}
    %o_ref = arith.constant {hex_literal(o_ref.astype(np.float64).tobytes())} : {ref_o_t}
    %hT_ref = arith.constant {hex_literal(state_ref.astype(np.float64).tobytes())} : {ref_state_t}
    %zero = arith.constant 0.0 : f64
    %empty = tensor.empty() : tensor<f64>
    %acc = linalg.fill ins(%zero : f64) outs(%empty : tensor<f64>) -> tensor<f64>
{sum_squares("o", "%o", "%o_ref", static_o, ref_o_t, dt)}
{sum_squares("s", "%hT", "%hT_ref", static_state, ref_state_t, "f32")}
{relative_error("o")}
{relative_error("s")}
    %errs = tensor.from_elements %err_o, %err_s : tensor<2xf64>
    %m = bufferization.to_buffer %errs : tensor<2xf64> to memref<2xf64>
    %u = memref.cast %m : memref<2xf64> to memref<*xf64>
    call @printMemrefF64(%u) : (memref<*xf64>) -> ()
    return
  }}
}}"""
    )


def gen_stages(args):
    """The chunk-wise algorithm spelled with the stage ops (gated_kkt, tri_inv,
    wy_repr, chunk_state_scan, chunk_output) on inputs gathered into chunks
    here, for any chunk size C: chunk_gated_delta_rule only accepts powers of
    two, the stage ops any C. Prints [output error, state error] against the
    float64 recurrence like `gen`; the output is compared in the chunked
    layout [B * HV, NC, C, V] (padded tokens have q = k = v = 0, beta = g = 0:
    their reference output is 0 and they leave the state unchanged)."""
    rng = np.random.default_rng(args.seed)
    b, t, h, hv, kd, vd, c = args.B, args.T, args.H, args.HV, args.K, args.V, args.chunk_size
    if min(b, t, h, hv, kd, vd, c) < 1 or hv % h:
        raise SystemExit("error: all dims and the chunk size must be >= 1 and HV a multiple of H")
    if args.dtype != "f32" or args.l2norm or args.dynamic or args.identity_op:
        raise SystemExit("error: --stages takes f32 inputs without --l2norm, --dynamic or --identity-op")
    inputs = make_inputs(rng, b, t, h, hv, kd, vd, args.dist, with_h0=args.h0)
    q, k, v, g, beta, h0 = (round_to(x, "f32")[0] for x in inputs)
    scale = kd ** -0.5 if args.scale is None else float(np.float32(args.scale))
    o_ref, state_ref = recurrent_reference(q, k, v, g, beta, h0, scale=scale)

    nc = -(-t // c)
    m, n = b * hv, b * hv * nc

    def chunks(x, group):
        """[B, T, heads, *] -> [B * HV * NC, C, *]: zero padded, heads broadcast."""
        x = np.repeat(x, group, axis=2)
        x = np.pad(x, [(0, 0), (0, nc * c - t)] + [(0, 0)] * (x.ndim - 2))
        x = x.reshape((b, nc, c) + x.shape[2:])
        x = np.moveaxis(x, 3, 1)  # [B, HV, NC, C, *]
        return x.reshape((n, c) + x.shape[4:])

    group = hv // h
    qn, kn, vn, betan = chunks(q, group), chunks(k, group), chunks(v, 1), chunks(beta, 1)
    gn = np.cumsum(chunks(g, 1), axis=-1)  # in-chunk cumulative log decay G
    o_ref_chunks = chunks(o_ref, 1).reshape(m, nc, c, vd)
    state_ref = state_ref.reshape(b, hv, kd, vd)

    def ty(*shape):
        return tensor_type(list(shape), "f32")

    nck, ncv, ncc, nc_ = ty(n, c, kd), ty(n, c, vd), ty(n, c, c), ty(n, c)
    mk, mv, mg, mkv = ty(m, nc, c, kd), ty(m, nc, c, vd), ty(m, nc, c), ty(m, kd, vd)
    states_t, nkv = ty(m, nc, kd, vd), ty(n, kd, vd)
    o4, s4 = ty(m, nc, c, vd), ty(b, hv, kd, vd)
    attrs = f" {args.attrs}" if args.attrs else ""
    names = ["q", "k", "v", "g", "beta", "h0"]
    values = [qn, kn, vn, gn, betan, h0.reshape(m, kd, vd)]
    types = [nck, nck, ncv, nc_, nc_, mkv]
    consts = "\n    ".join(
        f"%{name} = arith.constant {hex_literal(x.astype(np.float32).tobytes())} : {ty_}"
        for name, x, ty_ in zip(names, values, types))
    params = ", ".join(f"%{name}: {ty_}" for name, ty_ in zip(names, types))
    print(
        f"""// Generated by gdr_testgen.py gen {' '.join(sys.argv[2:])}
#all = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
module {{
  func.func private @printMemrefF64(memref<*xf64>)

  func.func @stages({params}) -> ({o4}, {s4}) attributes {{llvm.emit_c_interface}} {{
    %a = deltanet.gated_kkt %k, %g, %beta : ({nck}, {nc_}, {nc_}) -> {ncc}
    %t = deltanet.tri_inv %a{attrs} : {ncc}
    %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : ({ncc}, {nck}, {ncv}, {nc_}, {nc_}) -> ({nck}, {ncv})
    %k4 = tensor.expand_shape %k [[0, 1], [2], [3]] output_shape [{m}, {nc}, {c}, {kd}] : {nck} into {mk}
    %w4 = tensor.expand_shape %w [[0, 1], [2], [3]] output_shape [{m}, {nc}, {c}, {kd}] : {nck} into {mk}
    %u4 = tensor.expand_shape %u [[0, 1], [2], [3]] output_shape [{m}, {nc}, {c}, {vd}] : {ncv} into {mv}
    %g3 = tensor.expand_shape %g [[0, 1], [2]] output_shape [{m}, {nc}, {c}] : {nc_} into {mg}
    %states, %vnew, %final = deltanet.chunk_state_scan %k4, %w4, %u4, %g3, %h0 : ({mk}, {mk}, {mv}, {mg}, {mkv}) -> ({states_t}, {mv}, {mkv})
    %states3 = tensor.collapse_shape %states [[0, 1], [2], [3]] : {states_t} into {nkv}
    %vnew3 = tensor.collapse_shape %vnew [[0, 1], [2], [3]] : {mv} into {ncv}
    %o = deltanet.chunk_output %q, %k, %vnew3, %states3, %g {{scale = {scale:.9e} : f32}} : ({nck}, {nck}, {ncv}, {nkv}, {nc_}) -> {ncv}
    %o4 = tensor.expand_shape %o [[0, 1], [2], [3]] output_shape [{m}, {nc}, {c}, {vd}] : {ncv} into {o4}
    %s4 = tensor.expand_shape %final [[0, 1], [2], [3]] output_shape [{b}, {hv}, {kd}, {vd}] : {mkv} into {s4}
    return %o4, %s4 : {o4}, {s4}
  }}

  func.func @main() {{
    {consts}
    %o, %hT = call @stages({", ".join("%" + name for name in names)}) : ({", ".join(types)}) -> ({o4}, {s4})
    %o_ref = arith.constant {hex_literal(o_ref_chunks.astype(np.float64).tobytes())} : {o4.replace('f32', 'f64')}
    %hT_ref = arith.constant {hex_literal(state_ref.astype(np.float64).tobytes())} : {s4.replace('f32', 'f64')}
    %zero = arith.constant 0.0 : f64
    %empty = tensor.empty() : tensor<f64>
    %acc = linalg.fill ins(%zero : f64) outs(%empty : tensor<f64>) -> tensor<f64>
{sum_squares("o", "%o", "%o_ref", o4, o4.replace('f32', 'f64'), "f32")}
{sum_squares("s", "%hT", "%hT_ref", s4, s4.replace('f32', 'f64'), "f32")}
{relative_error("o")}
{relative_error("s")}
    %errs = tensor.from_elements %err_o, %err_s : tensor<2xf64>
    %mem = bufferization.to_buffer %errs : tensor<2xf64> to memref<2xf64>
    %u = memref.cast %mem : memref<2xf64> to memref<*xf64>
    call @printMemrefF64(%u) : (memref<*xf64>) -> ()
    return
  }}
}}"""
    )


def sum_squares(prefix, value, ref, value_t, ref_t, elt):
    """A linalg.generic reducing sum((x - ref)^2), sum(ref^2) into rank-0 tensors."""
    ext = "" if elt == "f64" else f"%xe = arith.extf %xv : {elt} to f64"
    xe = "%xv" if elt == "f64" else "%xe"
    par = ", ".join(['"reduction"'] * 4)
    return f"""    %{prefix}_sums:2 = linalg.generic {{indexing_maps = [#all, #all, #scalar, #scalar], iterator_types = [{par}]}}
        ins({value}, {ref} : {value_t}, {ref_t}) outs(%acc, %acc : tensor<f64>, tensor<f64>) {{
    ^bb0(%xv: {elt}, %rv: f64, %num: f64, %den: f64):
      {ext}
      %d = arith.subf {xe}, %rv : f64
      %d2 = arith.mulf %d, %d : f64
      %r2 = arith.mulf %rv, %rv : f64
      %num2 = arith.addf %num, %d2 : f64
      %den2 = arith.addf %den, %r2 : f64
      linalg.yield %num2, %den2 : f64, f64
    }} -> (tensor<f64>, tensor<f64>)"""


def relative_error(prefix):
    """%err_<prefix> = sqrt(num / den) of the two rank-0 sums %<prefix>_sums."""
    return f"""    %{prefix}_num = tensor.extract %{prefix}_sums#0[] : tensor<f64>
    %{prefix}_den = tensor.extract %{prefix}_sums#1[] : tensor<f64>
    %{prefix}_q = arith.divf %{prefix}_num, %{prefix}_den : f64
    %err_{prefix} = math.sqrt %{prefix}_q : f64"""


def identity_body(args, dt, call_o, call_state, v_type):
    """Zero-filled results in place of the deltanet op (--identity-op)."""
    lines = []
    if args.dynamic:
        lines += [
            "%c0 = arith.constant 0 : index",
            "%c1 = arith.constant 1 : index",
            f"%nb = tensor.dim %v, %c0 : {v_type}",
            f"%nt = tensor.dim %v, %c1 : {v_type}",
        ]
        o_sizes, s_sizes = "%nb, %nt", "%nb"
    else:
        o_sizes = s_sizes = ""
    lines += [
        f"%zo = arith.constant 0.0 : {dt}",
        "%zs = arith.constant 0.0 : f32",
        f"%eo = tensor.empty({o_sizes}) : {call_o}",
        f"%es = tensor.empty({s_sizes}) : {call_state}",
        f"%o = linalg.fill ins(%zo : {dt}) outs(%eo : {call_o}) -> {call_o}",
        f"%hT = linalg.fill ins(%zs : f32) outs(%es : {call_state}) -> {call_state}",
    ]
    return "\n    ".join(lines)


# ----------------------------------------------------------------------------
# check / falls
# ----------------------------------------------------------------------------

def check(args):
    errors = printed_values(sys.stdin.read())
    if errors is None:
        return 1
    if len(errors) != 2:
        print(f"error: expected 2 printed errors [output, state], got {errors}", file=sys.stderr)
        return 1
    err_o, err_s = (e if np.isfinite(e) else float("inf") for e in errors)
    label = f"{args.label}: " if args.label else ""
    max_state = args.max if args.max_state is None else args.max_state
    bounds = f" (bounds {args.max:.2g} / {max_state:.2g}: {err_o / args.max:.2f}x / {err_s / max_state:.2f}x)" \
        if args.max else ""
    print(f"{label}output error = {err_o:.3e}, state error = {err_s:.3e}{bounds}")
    if args.append:
        with open(args.append, "a") as f:
            f.write(f"{err_o!r}\n")
    status = 0
    for name, err, bound in (("output", err_o, args.max), ("state", err_s, max_state)):
        if bound is not None and not err <= bound:
            print(f"FAIL: {name} error {err:.3e} > {bound:.1e}", file=sys.stderr)
            status = 1
    if args.min is not None and not err_o >= args.min:
        print(f"FAIL: output error {err_o:.3e} < {args.min:.1e} (expected a visibly wrong result)", file=sys.stderr)
        status = 1
    return status


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--B", type=int, default=1, help="batch size B")
    g.add_argument("--T", type=int, required=True, help="sequence length T (tokens)")
    g.add_argument("--H", type=int, default=1, help="q/k heads H")
    g.add_argument("--HV", type=int, default=None, help="value heads HV, a multiple of H (default: H)")
    g.add_argument("--K", type=int, default=16, help="key dim K")
    g.add_argument("--V", type=int, default=16, help="value dim V")
    g.add_argument(
        "--chunk-size", type=int, default=64,
        help="chunk_size of deltanet.chunk_gated_delta_rule; 0 emits deltanet.recurrent_gated_delta_rule",
    )
    g.add_argument(
        "--dist", choices=sorted(DISTRIBUTIONS), default="realistic",
        help="key correlation / decay: realistic 0.3 / 0.1, correlated 0.9 / 0.02, adversarial 0.98 / 0",
    )
    g.add_argument("--seed", type=int, default=0, help="NumPy random seed")
    g.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32", help="type of q, k, v and o (g, beta, states: f32)")
    g.add_argument("--scale", type=float, help="scale attribute (default: absent, i.e. K^-1/2)")
    g.add_argument("--l2norm", action="store_true", help="set use_qk_l2norm and pass un-normalised q, k")
    g.add_argument("--h0", action="store_true", help="random initial state 0.1 N(0,1) (default: zeros)")
    g.add_argument("--dynamic", action="store_true", help="call through a function with dynamic B and T dims")
    g.add_argument(
        "--stages", action="store_true",
        help="the stage ops (gated_kkt ... chunk_output) on inputs chunked here, for any --chunk-size >= 1",
    )
    g.add_argument("--attrs", default="", help="attribute dictionary of the tri_inv stage (--stages)")
    g.add_argument(
        "--identity-op", action="store_true",
        help="testing aid: zero-filled results instead of the deltanet op (the program must print [1, 1])",
    )
    check_parser = add_check_and_falls_parsers(sub, what="output error (and state error, unless --max-state)")
    check_parser.add_argument("--max-state", type=float, help="largest allowed state error (default: --max)")
    args = parser.parse_args()
    if args.cmd == "gen":
        if args.HV is None:
            args.HV = args.H
        (gen_stages if args.stages else gen)(args)
        return 0
    if args.cmd == "check":
        return check(args)
    return falls(args)


if __name__ == "__main__":
    sys.exit(main())
