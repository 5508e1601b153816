#!/usr/bin/python3
"""Compiles deltanet programs with --deltanet-npu-pipeline to C, runs them on the host
through the npu runtime (runtime/npu/npu_runtime.h) and checks them against float64.

Subcommands:
  tri-inv  batch of DeltaNet chunk matrices -> deltanet.tri_inv; prints the max
           relative Frobenius error vs the float64 inverse and the modeled cycles.
  gdr      deltanet.chunk_gated_delta_rule; prints the relative errors of the
           output and final state vs the float64 token-by-token recurrence.
  summary  deltanet.gated_delta_rule_summary; prints the relative errors of M
           and U vs their float64 token-by-token product and zero-state state.

Each prints one JSON line ({"error": ..., "npu": {cycles, units...}, ...}) and
exits 1 when an error exceeds --max. Tools: --opt (deltanet-opt), --translate
(mlir-translate), --runtime (directory of npu_runtime.h), --cc (C compiler).
Used by test/Integration/NPU and bench/npu/npu_report.py.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdr_testgen  # noqa: E402
import summary_testgen  # noqa: E402
import tri_inv_testgen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

NP_TYPES = {"f32": np.float32, "f16": np.float16}


def tensor(shape, dtype):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{dtype}>"


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.stderr.write(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
        sys.exit(2)
    return proc.stdout


def compile_and_run(args, mlir, entry, inputs, outputs, workdir):
    """Lowers `mlir` to C, builds it with a harness that feeds `inputs`
    (numpy arrays) and returns (output arrays of the given (shape, dtype)s,
    the runtime's report)."""
    src = os.path.join(workdir, "kernel.mlir")
    if args.target_attr:
        mlir = f"module attributes {{npu.target = {args.target_attr}}} {{\n{mlir}}}\n"
    with open(src, "w") as f:
        f.write(mlir)
    pipeline = "deltanet-npu-pipeline"
    if args.options:
        pipeline += "{" + args.options + "}"
    emitc = run([args.opt, src, f"--pass-pipeline=builtin.module({pipeline})"])
    emitc_path = os.path.join(workdir, "kernel.emitc.mlir")
    with open(emitc_path, "w") as f:
        f.write(emitc)
    c_code = run([args.translate, "--mlir-to-cpp", emitc_path])
    with open(os.path.join(workdir, "kernel.c"), "w") as f:
        f.write(c_code)
    n_in, n_out = len(inputs), len(outputs)
    params = ", ".join(f"buf[{i}]" for i in range(n_in + n_out))
    harness = f"""#include "kernel.c"
static void *load(const char *path, size_t bytes) {{
  void *p = malloc(bytes ? bytes : 1);
  FILE *f = fopen(path, "rb");
  if (!p || !f || fread(p, 1, bytes, f) != bytes) {{ fprintf(stderr, "cannot read %s\\n", path); exit(2); }}
  fclose(f);
  return p;
}}
int main(int argc, char **argv) {{
  (void)argc;
  void *buf[{n_in + n_out}];
  npu_reset(&npu_program_target);
  for (int i = 0; i < {n_in + n_out}; ++i) {{
    size_t bytes = (size_t)atol(argv[2 + 2 * i]);
    buf[i] = load(argv[1 + 2 * i], bytes);
    if ({1 if args.on_chip else 0}) {{ /* operands already on chip */
      void *local = npu_alloc_onchip(bytes);
      memcpy(local, buf[i], bytes);
      buf[i] = local;
    }}
  }}
  {entry}({params});
  for (int i = {n_in}; i < {n_in + n_out}; ++i) {{
    FILE *f = fopen(argv[1 + 2 * i], "wb");
    fwrite(buf[i], 1, (size_t)atol(argv[2 + 2 * i]), f);
    fclose(f);
  }}
  npu_report(stdout);
  return 0;
}}
"""
    with open(os.path.join(workdir, "main.c"), "w") as f:
        f.write(harness)
    exe = os.path.join(workdir, "kernel")
    run([args.cc, "-std=gnu11", "-O2", "-w", "-I", args.runtime, "-I", workdir,
         os.path.join(workdir, "main.c"), "-o", exe, "-lm"])
    argv = [exe]
    for i, a in enumerate(inputs):
        path = os.path.join(workdir, f"in{i}.bin")
        np.ascontiguousarray(a).tofile(path)
        argv += [path, str(a.nbytes)]
    for i, (shape, dtype) in enumerate(outputs):
        path = os.path.join(workdir, f"out{i}.bin")
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        np.zeros(nbytes, np.uint8).tofile(path)
        argv += [path, str(nbytes)]
    report = json.loads(run(argv).strip().splitlines()[-1])
    results = [np.fromfile(os.path.join(workdir, f"out{i}.bin"), dtype=dt).reshape(shape)
               for i, (shape, dt) in enumerate(outputs)]
    return results, report


def rel(x, ref):
    return float(np.linalg.norm(x.astype(np.float64) - ref) / np.linalg.norm(ref))


def tri_inv(args, workdir):
    rng = np.random.default_rng(args.seed)
    a = tri_inv_testgen.chunk_matrices(rng, [args.batch], args.c, args.dist)
    a_in = a.astype(NP_TYPES[args.dtype])
    x_ref = tri_inv_testgen.reference_inverse(a_in.astype(np.float64))
    t = tensor([args.batch, args.c, args.c], args.dtype)
    mlir = f"""func.func @tri_inv(%a: {t}) -> {t} {{
  %x = deltanet.tri_inv %a : {t}
  return %x : {t}
}}
"""
    (x,), report = compile_and_run(args, mlir, "tri_inv", [a_in],
                                   [((args.batch, args.c, args.c), NP_TYPES[args.dtype])], workdir)
    errors = [rel(x[i], x_ref[i]) for i in range(args.batch)]
    return {"error": max(errors)}, report


def gdr(args, workdir):
    rng = np.random.default_rng(args.seed)
    b, t, h, hv, kd, vd = args.B, args.T, args.H, args.HV, args.K, args.V
    q, k, v, g, beta, h0 = gdr_testgen.make_inputs(rng, b, t, h, hv, kd, vd, args.dist, with_h0=True)
    scale = kd ** -0.5
    ins = [x.astype(np.float32) for x in (q, k, v, g, beta, h0)]
    o_ref, s_ref = gdr_testgen.recurrent_reference(*[x.astype(np.float64) for x in ins], scale=scale)
    shapes = [(b, t, h, kd), (b, t, h, kd), (b, t, hv, vd), (b, t, hv), (b, t, hv), (b, hv, kd, vd)]
    o_shape, s_shape = (b, t, hv, vd), (b, hv, kd, vd)
    in_types = ", ".join(tensor(s, "f32") for s in shapes)
    res_types = f"{tensor(o_shape, 'f32')}, {tensor(s_shape, 'f32')}"
    names = ["q", "k", "v", "g", "beta", "h0"]
    params = ", ".join(f"%{n}: {tensor(s, 'f32')}" for n, s in zip(names, shapes))
    mlir = f"""func.func @gdr({params}) -> ({res_types}) {{
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {{chunk_size = {args.chunk} : i64, scale = {scale:.9e} : f32}}
      : ({in_types}) -> ({res_types})
  return %o, %hT : {res_types}
}}
"""
    (o, s), report = compile_and_run(args, mlir, "gdr", ins,
                                     [(o_shape, np.float32), (s_shape, np.float32)], workdir)
    return {"error": rel(o, o_ref), "state_error": rel(s, s_ref)}, report


def summary(args, workdir):
    rng = np.random.default_rng(args.seed)
    b, t, h, hv, kd, vd = args.B, args.T, args.H, args.HV, args.K, args.V
    _, k, v, g, beta, _ = gdr_testgen.make_inputs(rng, b, t, h, hv, kd, vd, args.dist)
    ins = [x.astype(np.float32) for x in (k, v, g, beta)]
    m_ref, u_ref = summary_testgen.summary_reference(*[x.astype(np.float64) for x in ins], value_heads=hv)
    shapes = [(b, t, h, kd), (b, t, hv, vd), (b, t, hv), (b, t, hv)]
    m_shape, u_shape = (b, hv, kd, kd), (b, hv, kd, vd)
    in_types = ", ".join(tensor(s, "f32") for s in shapes)
    res_types = f"{tensor(m_shape, 'f32')}, {tensor(u_shape, 'f32')}"
    params = ", ".join(f"%{n}: {tensor(s, 'f32')}" for n, s in zip(["k", "v", "g", "beta"], shapes))
    mlir = f"""func.func @summary({params}) -> ({res_types}) {{
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %beta {{chunk_size = {args.chunk} : i64}}
      : ({in_types}) -> ({res_types})
  return %m, %u : {res_types}
}}
"""
    (m, u), report = compile_and_run(args, mlir, "summary", ins,
                                     [(m_shape, np.float32), (u_shape, np.float32)], workdir)
    return {"error": rel(m, m_ref), "u_error": rel(u, u_ref)}, report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opt", default=os.path.join(ROOT, "build", "bin", "deltanet-opt"))
    parser.add_argument("--translate", default="/usr/lib/llvm-22/bin/mlir-translate")
    parser.add_argument("--runtime", default=os.path.join(ROOT, "runtime", "npu"))
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"))
    parser.add_argument("--options", default="", help="deltanet-npu-pipeline options, e.g. 'target=datacenter tri-inv-precision=i8'")
    parser.add_argument("--max", type=float, default=None, help="fail when an error exceeds this")
    parser.add_argument("--label", default="")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target-attr", default=None,
                        help="an #npu.target<...> attribute for the module (instead of the target= preset)")
    parser.add_argument("--on-chip", action="store_true",
                        help="operands and results on chip, as inside a layer whose previous stage produced "
                             "them: moving them costs local bandwidth and they do not take the kernel's local "
                             "memory (npu_alloc_onchip)")
    parser.add_argument("--keep", default=None, help="keep the generated files in this directory")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tri-inv")
    p.add_argument("--c", type=int, default=64)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--dist", default="realistic", choices=sorted(tri_inv_testgen.DISTRIBUTIONS))
    p.add_argument("--dtype", default="f32", choices=sorted(NP_TYPES))
    for cmd in ("gdr", "summary"):
        p = sub.add_parser(cmd)
        for name, default in (("B", 1), ("T", 100), ("H", 2), ("HV", 2), ("K", 32), ("V", 32), ("chunk", 64)):
            p.add_argument(f"--{name}", type=int, default=default)
        p.add_argument("--dist", default="realistic", choices=sorted(gdr_testgen.DISTRIBUTIONS))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or tmp
        os.makedirs(workdir, exist_ok=True)
        result, report = {"tri-inv": tri_inv, "gdr": gdr, "summary": summary}[args.cmd](args, workdir)
    result.update({"label": args.label, "options": args.options, "npu": report})
    print(json.dumps(result))
    worst = max(v for k, v in result.items() if k.endswith("error"))
    if args.max is not None and not worst <= args.max:
        print(f"FAIL {args.label}: error {worst:.3e} > {args.max:.1e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
