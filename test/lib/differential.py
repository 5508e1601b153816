#!/usr/bin/python3
"""Differential tester: random deltanet programs compiled and compared with float64.

Every configuration draws (from its own seed) an op and its shapes, element
types, input distribution, tri_inv strategy / block size / batch tile /
precision, chunk size, whether the options go through pipeline options or op
attributes, a pass pipeline and an mlir-runner optimisation level. The program
comes from the existing generators (tri_inv_testgen.py, gdr_testgen.py: the
float64 reference is embedded and the relative Frobenius error is computed in
the program), goes through deltanet-opt and mlir-runner, and its error must be
within the configuration's tolerance. A mismatch prints the commands that
reproduce it; so does `--show INDEX`.

Usage:
  differential.py [--build BUILD] [--configs N] [--seed S] [--jobs J] [--only I[,I...]] [--show I] [--verbose]
                  [--i8-share P] [--npot-share P]

Exit status 1 if any configuration mismatched or failed to compile or run.

--i8-share P makes a share P of the configurations use INT8 tri_inv matmuls
(if the build supports precision=i8), --npot-share P a share P use a matrix or
chunk size that is not a power of two (NPOT_SIZES; gated delta rule
configurations then use the stage ops, gdr_testgen.py gen --stages, since
chunk_gated_delta_rule only accepts powers of two). Both are decided by an RNG
of their own (seeded by the configuration's seed).

Tolerances (TOLERANCES, about 3-10x the largest errors measured, see the
comment there): tri_inv in f32 with the exact strategies (blocked, forward
substitution, neumann at its exact order) 1e-6 on realistic-like inputs and
2e-5 on correlated or adversarial keys; bf16 matmul operands 5e-3, f16 5e-4,
i8 1e-2 on realistic-like inputs (3e-2 on correlated or adversarial keys);
f16/bf16 element types add their output rounding. The gated delta rule ops
against the float64 recurrence: 1e-6 (realistic) and 1e-5 (correlated or
adversarial keys) in f32, i8 3e-2. Truncated Neumann series (an explicit
order below the exact one) are only accurate for small L and are not drawn.
To add a dimension of the configuration space, extend draw_tri_inv /
draw_gdr and tolerance(); to add a precision, extend TOLERANCES.
"""

import argparse
import concurrent.futures
import contextlib
import io
import math
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from testgen_common import printed_values  # noqa: E402

LLVM = "/usr/lib/llvm-22"
PY = "/usr/bin/python3"
RUNNER_LIBS = f"{LLVM}/lib/libmlir_runner_utils.so,{LLVM}/lib/libmlir_c_runner_utils.so"

# Matmul operand precisions of tri_inv and the tolerance (relative Frobenius)
# of a result, by op and input class: "mild" keys (realistic, decaying,
# uncorrelated) and "hard" ones (correlated, adversarial). "i8" is used only
# if the build accepts it. Low precisions are only drawn on mild keys, except
# i8 with --i8-share. The gated delta rule outputs carry the tri_inv error
# about 1:1. Largest errors of a 150-configuration run (seed 7, shares 0.25 /
# 0.3) and of the lit tests, against these: tri_inv f32 mild 1.6e-7 (lit,
# 32x32 blocks), hard 2e-6 (lit, C = 128); gated delta rule f32 mild 1.9e-7,
# hard 2.4e-6 (K = 1, adversarial); bf16 1.8e-3 (tri-inv-bench, C = 128),
# f16 2.4e-4 (idem); i8 tri_inv mild 4.1e-3, hard 1.3e-2, gated delta rule
# 1.7e-2 (tri_inv 1.5e-2 on adversarial keys at C = 128, lit).
TOLERANCES = {
    "f32": {"tri_inv": {"mild": 1e-6, "hard": 2e-5}, "gdr": {"mild": 1e-6, "hard": 1e-5}},
    "bf16": {"tri_inv": {"mild": 5e-3, "hard": 5e-3}, "gdr": {"mild": 5e-3, "hard": 5e-3}},
    "f16": {"tri_inv": {"mild": 5e-4, "hard": 5e-4}, "gdr": {"mild": 5e-4, "hard": 5e-4}},
    "i8": {"tri_inv": {"mild": 1e-2, "hard": 3e-2}, "gdr": {"mild": 3e-2, "hard": 3e-2}},
}
MILD = ("realistic", "decaying", "uncorrelated")
# Matrix sizes (tri_inv) and chunk sizes (stage ops) of --npot-share.
NPOT_SIZES = [3, 5, 6, 7, 12, 20, 24, 40, 48, 96]
# Output rounding of f16/bf16 element types (the reference is the float64
# result on the rounded inputs, the program's result is rounded once).
IO_ROUNDING = {"f32": 0.0, "f16": 1e-3, "bf16": 8e-3}


def tolerance(kind, precision, dist, dtype):
    """The largest error accepted for a `kind` ("tri_inv" or "gdr") result."""
    return TOLERANCES[precision][kind]["mild" if dist in MILD else "hard"] + IO_ROUNDING[dtype]


class Config:
    """One drawn configuration: the commands that build and check it."""

    def __init__(self, index, seed):
        self.index = index
        self.seed = seed
        self.desc = {}
        self.gen = []  # generator argv (after the script)
        self.script = ""  # generator script name
        self.opt = []  # deltanet-opt arguments (after the input file)
        self.runner_opt = "-O3"
        self.tol = 0.0
        self.kind = ""

    def summary(self):
        return " ".join(f"{k}={v}" for k, v in self.desc.items())


def pow2_divisors(c, limit=None):
    out = [b for b in (1, 2, 4, 8, 16, 32, 64, 128) if b <= c and c % b == 0]
    return [b for b in out if limit is None or b <= limit]


def pipeline_args(rng, cfg, options, op_attrs_ok, staged_passes):
    """deltanet-opt arguments for tri_inv options `options` (dict of pass
    option name -> value), either as --deltanet-cpu-pipeline options, or as a
    separate --deltanet-lower-tri-inv before the pipeline (with the deltanet
    passes `staged_passes` before it); returns (args, attrs) where attrs are
    the options moved onto the ops instead (if `op_attrs_ok`)."""
    style = rng.choice(["pipeline", "staged", "attrs"] if op_attrs_ok else ["pipeline", "staged"])
    cfg.desc["via"] = style
    if style == "attrs":
        # The op attributes carry strategy/block/order/precision; the rest
        # (batch tile) stays a pipeline option.
        attrs = {k: v for k, v in options.items() if k in ("strategy", "block-size", "residual-steps", "precision")}
        rest = {k: v for k, v in options.items() if k not in attrs}
        opts = " ".join(f"tri-inv-{k}={v}" for k, v in rest.items())
        return ([f"--deltanet-cpu-pipeline={opts}" if opts else "--deltanet-cpu-pipeline"], attrs)
    if style == "pipeline":
        opts = " ".join(f"tri-inv-{k}={v}" for k, v in options.items())
        return ([f"--deltanet-cpu-pipeline={opts}" if opts else "--deltanet-cpu-pipeline"], {})
    opts = " ".join(f"{k}={v}" for k, v in options.items())
    args = list(staged_passes)
    args.append(f"--deltanet-lower-tri-inv={opts}" if opts else "--deltanet-lower-tri-inv")
    if rng.random() < 0.5:
        args += ["--canonicalize", "--cse"]
    args.append("--deltanet-cpu-pipeline")
    return args, {}


def attr_dict(attrs):
    """The tri_inv attribute dictionary for pass-style option values."""
    parts = []
    for k, v in attrs.items():
        if k == "strategy":
            parts.append(f"strategy = #deltanet.strategy<{v.replace('-', '_')}>")
        elif k == "precision":
            parts.append(f"precision = #deltanet.precision<{v}>")
        else:
            parts.append(f"{k.replace('-', '_')} = {v} : i64")
    return "{" + ", ".join(parts) + "}" if parts else ""


def draw_i8_options(rng, c, dist):
    """Options of an INT8 tri_inv on C x C matrices: blocked (4x4 blocks by
    default, or 1, 2, 4, 8 dividing C; the default must divide C unless C < 4),
    forward substitution on mild keys (its int8 row products reach 3e-2 to
    4.5e-2 in the gated delta rule on adversarial keys), or neumann on
    matrices small enough for int8 sums (<= 8); per-row or per-matrix
    scales."""
    strategies = ["blocked", "blocked", "blocked"]
    if dist in MILD:
        strategies.append("forward-substitution")
    if c <= 8:
        strategies.append("neumann")
    strategy = rng.choice(strategies)
    options = {"strategy": strategy} if (strategy != "blocked" or rng.random() < 0.5) else {}
    if strategy == "blocked":
        blocks = pow2_divisors(c, limit=8)
        if (c > 4 and c % 4) or rng.random() < 0.3:
            options["block-size"] = rng.choice(blocks)
        if rng.random() < 0.3:
            options["quant-granularity"] = "matrix"
    if rng.random() < 0.5:
        options["batch-tile"] = rng.choice([0, 1, 3, 16])
    options["precision"] = "i8"
    return options, "i8"


def draw_tri_options(rng, c, dist, precisions, allow_neumann, force_i8=False):
    """Strategy, block size, residual steps, batch tile and precision for a
    C x C tri_inv on `dist` inputs (INT8 matmuls if `force_i8`)."""
    if force_i8:
        return draw_i8_options(rng, c, dist)
    strategies = ["blocked", "blocked", "forward-substitution"] + (["neumann"] if allow_neumann else [])
    strategy = rng.choice(strategies)
    options = {"strategy": strategy} if (strategy != "blocked" or rng.random() < 0.5) else {}
    if strategy == "blocked":
        # A diagonal block is inverted by the full Neumann series, accurate
        # up to 32 on realistic inputs but only up to 16 on correlated keys.
        blocks = pow2_divisors(c, limit=32 if dist in ("realistic", "decaying", "uncorrelated") else 16)
        if (c % 16 == 0 or c < 16) and rng.random() < 0.4:
            pass  # the default block size (16; clamped to C below 16)
        else:
            options["block-size"] = rng.choice(blocks)
    if strategy != "forward-substitution" and rng.random() < 0.25:
        options["residual-steps"] = rng.choice([1, 2])
    if rng.random() < 0.5:
        options["batch-tile"] = rng.choice([0, 1, 3, 16])
    precision = "f32"
    # Low-precision matmuls are accurate on realistic inputs only.
    if dist in ("realistic", "decaying", "uncorrelated") and rng.random() < 0.4:
        low = [p for p in precisions if p != "f32"]
        precision = rng.choice(low)
        if precision == "i8":
            # i8 is meant for the blocked strategy on realistic inputs, with
            # its default 4x4 blocks where they divide C.
            options["strategy"] = "blocked"
            options.pop("block-size", None)
            if c > 4 and c % 4:
                options["block-size"] = rng.choice(pow2_divisors(c, limit=8))
        options["precision"] = precision
    return options, precision


def draw_tri_inv(rng, cfg, precisions, force_i8=False, force_npot=False):
    c = rng.choice([1, 2, 3, 5, 8, 12, 16, 16, 24, 32, 32, 48, 64, 64, 128])
    if force_npot:
        c = rng.choice(NPOT_SIZES)
    batch = rng.choice(["", "1", "3", "5", "2x3", "1x2x2", "17"])
    dtype = rng.choice(["f32", "f32", "f16", "bf16"])
    dist = rng.choice(["realistic", "realistic", "decaying", "uncorrelated", "adversarial"])
    # The exact Neumann series is accurate for small C on non-adversarial
    # inputs only (see the README's tri_inv table).
    allow_neumann = c <= (16 if dist == "adversarial" else 32)
    if force_i8 and dist == "uncorrelated":
        dist = "correlated"  # INT8's hardest realistic keys
    options, precision = draw_tri_options(rng, c, dist, precisions, allow_neumann, force_i8)
    gen = ["gen", "--c", str(c), "--dist", dist, "--dtype", dtype, "--seed", str(cfg.seed % 2**31)]
    if batch:
        gen += ["--batch", batch]
        if rng.random() < 0.4:
            gen.append("--dynamic-batch")
    if rng.random() < 0.2:
        gen.append("--no-garbage")
    args, attrs = pipeline_args(rng, cfg, options, op_attrs_ok=True, staged_passes=[])
    if attrs:
        gen += ["--attrs", attr_dict(attrs)]
    if precision == "i8" and options.get("strategy", "blocked") == "blocked" \
            and "block-size" not in options and "residual-steps" not in options and rng.random() < 0.5:
        # The tolerance option picks order / residual steps for i8 (its rule
        # table covers the default block size; it excludes explicit orders
        # and residual steps).
        args = [a.replace("--deltanet-cpu-pipeline=", "--deltanet-cpu-pipeline=tri-inv-tolerance=2e-2 ")
                if a.startswith("--deltanet-cpu-pipeline=") else
                ("--deltanet-cpu-pipeline=tri-inv-tolerance=2e-2" if a == "--deltanet-cpu-pipeline" else a)
                for a in args]
        cfg.desc["tolerance"] = "2e-2"
    cfg.kind = "tri_inv"
    cfg.script = "tri_inv_testgen.py"
    cfg.gen = gen
    cfg.opt = args
    cfg.tol = tolerance("tri_inv", precision, dist, dtype)
    cfg.desc.update(op="tri_inv", C=c, batch=batch or "-", dtype=dtype, dist=dist,
                    **{k: v for k, v in options.items()})


def draw_gdr(rng, cfg, precisions, force_i8=False, force_npot=False):
    chunk = rng.choice([0, 1, 2, 4, 8, 16, 16, 32, 64, 64])  # 0: recurrent op
    if force_i8 and not chunk:
        chunk = 16  # INT8 applies to the chunk op's tri_inv
    if force_npot:
        chunk = rng.choice([c for c in NPOT_SIZES if c <= 48])  # through the stage ops
    b = rng.choice([1, 1, 2])
    t = rng.choice([1, 2, 3, 7, 15, 16, 17, 31, 63, 64, 65, 100, 130])
    h = rng.choice([1, 2])
    hv = h * rng.choice([1, 2])
    kd = rng.choice([1, 2, 4, 8, 16, 32])
    vd = rng.choice([1, 2, 4, 8, 16])
    dtype = rng.choice(["f32", "f32", "f16", "bf16"])
    dist = rng.choice(["realistic", "realistic", "correlated", "adversarial"])
    if force_npot:
        dtype = "f32"  # the stage ops take f32
    gen = ["gen", "--B", str(b), "--T", str(t), "--H", str(h), "--HV", str(hv), "--K", str(kd),
           "--V", str(vd), "--chunk-size", str(chunk), "--dist", dist, "--dtype", dtype,
           "--seed", str(cfg.seed % 2**31)]
    for flag, p in (("--l2norm", 0.3), ("--h0", 0.5), ("--dynamic", 0.3)):
        if rng.random() < p and not (force_npot and flag != "--h0"):
            gen.append(flag)
    if rng.random() < 0.2:
        gen += ["--scale", f"{rng.uniform(0.05, 2.0):.4g}"]
    options = {}
    precision = "f32"
    if chunk:
        options, precision = draw_tri_options(rng, chunk, "realistic" if dist == "realistic" else dist,
                                              precisions, allow_neumann=chunk <= 16 and dist != "adversarial",
                                              force_i8=force_i8)
        if force_npot:
            # The stage ops, with the tri_inv stage explicit: options may go
            # onto it as attributes.
            gen.append("--stages")
            staged = ["--deltanet-lower-chunk-stages"]
            args, attrs = pipeline_args(rng, cfg, options, op_attrs_ok=True, staged_passes=staged)
            if attrs:
                gen += ["--attrs", attr_dict(attrs)]
        else:
            # tri_inv attributes cannot be put on the chunk op.
            staged = ["--deltanet-decompose-chunk-gated-delta-rule", "--deltanet-lower-chunk-stages"]
            args, _ = pipeline_args(rng, cfg, options, op_attrs_ok=False, staged_passes=staged)
    else:
        args = rng.choice([["--deltanet-cpu-pipeline"],
                           ["--deltanet-lower-recurrent-gated-delta-rule", "--deltanet-cpu-pipeline"]])
        cfg.desc["via"] = "pipeline" if len(args) == 1 else "staged"
    cfg.kind = "gdr"
    cfg.script = "gdr_testgen.py"
    cfg.gen = gen
    cfg.opt = args
    cfg.tol = tolerance("gdr", precision, dist, dtype)
    op = "chunk_stages" if force_npot else "chunk_gated_delta_rule" if chunk else "recurrent_gated_delta_rule"
    cfg.desc.update(op=op,
                    chunk=chunk or "-", B=b, T=t, H=h, HV=hv, K=kd, V=vd, dtype=dtype, dist=dist,
                    **{k: v for k, v in options.items()})


def draw(index, master_seed, precisions, i8_share=0.0, npot_share=0.0):
    seed = (master_seed * 1_000_003 + index) % 2**63
    rng = random.Random(seed)
    cfg = Config(index, seed)
    # The shares have an RNG of their own: with shares 0 the configurations
    # are those of the main stream alone.
    shares = random.Random(seed ^ 0x5EED)
    force_i8 = "i8" in precisions and shares.random() < i8_share
    force_npot = shares.random() < npot_share
    (draw_tri_inv if rng.random() < 0.5 else draw_gdr)(rng, cfg, precisions, force_i8, force_npot)
    cfg.runner_opt = rng.choice(["-O3", "-O3", "-O0"])
    return cfg


def commands(cfg, build, workdir):
    """Shell commands reproducing `cfg` (for the report)."""
    src = os.path.join(workdir, f"config{cfg.index}.mlir")
    gen = f"{PY} {os.path.join(HERE, cfg.script)} " + " ".join(shlex.quote(a) for a in cfg.gen) + f" > {src}"
    opt = f"{build}/bin/deltanet-opt {src} " + " ".join(shlex.quote(a) for a in cfg.opt)
    runner = f"{LLVM}/bin/mlir-runner -e main -entry-point-result=void {cfg.runner_opt} -shared-libs={RUNNER_LIBS}"
    check = f"{PY} {os.path.join(HERE, cfg.script)} check --max {cfg.tol:.1e}"
    return [gen, f"{opt} | {runner} | {check}"]


def generate(cfg):
    """The generator's output for cfg.gen (a subprocess: the generators print)."""
    return subprocess.run([PY, os.path.join(HERE, cfg.script)] + cfg.gen, check=True, capture_output=True,
                          text=True).stdout


def run(cfg, build, timeout=600):
    """Returns (status, error, message): status 'ok', 'mismatch' or 'fail'."""
    with tempfile.TemporaryDirectory(prefix="deltanet-diff-") as tmp:
        src = os.path.join(tmp, "in.mlir")
        with open(src, "w") as f:
            f.write(generate(cfg))
        opt = subprocess.run([f"{build}/bin/deltanet-opt", src] + cfg.opt, capture_output=True, text=True,
                             timeout=timeout)
        if opt.returncode != 0:
            return "fail", None, f"deltanet-opt exited with {opt.returncode}:\n{opt.stderr[-3000:]}"
        runner = subprocess.run(
            [f"{LLVM}/bin/mlir-runner", "-e", "main", "-entry-point-result=void", cfg.runner_opt,
             f"-shared-libs={RUNNER_LIBS}"],
            input=opt.stdout, capture_output=True, text=True, timeout=timeout)
        if runner.returncode != 0:
            return "fail", None, f"mlir-runner exited with {runner.returncode}:\n{runner.stderr[-3000:]}"
        with contextlib.redirect_stderr(io.StringIO()):
            values = printed_values(runner.stdout)
        if not values:
            return "fail", None, f"no errors printed:\n{runner.stdout[-2000:]}"
        err = max(v if math.isfinite(v) else math.inf for v in values)
        if not err <= cfg.tol:
            return "mismatch", err, ""
        return "ok", err, ""


def supported_precisions(build):
    """TOLERANCES, without the precisions the build rejects (tried on a tiny program)."""
    out = {}
    for precision in TOLERANCES:
        if precision in ("f32", "bf16", "f16"):
            out[precision] = TOLERANCES[precision]
            continue
        probe = "func.func @f(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {\n" \
                "  %x = deltanet.tri_inv %a : tensor<4x4xf32>\n  return %x : tensor<4x4xf32>\n}\n"
        r = subprocess.run([f"{build}/bin/deltanet-opt", f"--deltanet-cpu-pipeline=tri-inv-precision={precision}"],
                           input=probe, capture_output=True, text=True)
        if r.returncode == 0:
            out[precision] = TOLERANCES[precision]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", help="build directory with bin/deltanet-opt (default: the deltanet-opt on PATH)")
    parser.add_argument("--configs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", help="comma-separated configuration indices to run")
    parser.add_argument("--show", type=int, help="print configuration INDEX and its commands, run nothing")
    parser.add_argument("--verbose", action="store_true", help="also print the commands of passing configurations")
    parser.add_argument("--i8-share", type=float, default=0.0, help="share of configurations with INT8 tri_inv matmuls")
    parser.add_argument("--npot-share", type=float, default=0.0,
                        help="share of configurations with a matrix / chunk size that is not a power of two")
    args = parser.parse_args()
    if args.build:
        build = os.path.abspath(args.build)
    else:
        found = shutil.which("deltanet-opt")
        if not found:
            parser.error("no --build and no deltanet-opt on PATH")
        build = os.path.dirname(os.path.dirname(os.path.abspath(found)))
    precisions = supported_precisions(build)
    me = f"{PY} {os.path.abspath(__file__)} --build {build} --seed {args.seed}"
    if args.i8_share or args.npot_share:
        me += f" --i8-share {args.i8_share:g} --npot-share {args.npot_share:g}"
    shares = (args.i8_share, args.npot_share)

    if args.show is not None:
        cfg = draw(args.show, args.seed, precisions, *shares)
        print(f"[{cfg.index}] seed={cfg.seed} tol={cfg.tol:.1e} {cfg.summary()} mlir-runner {cfg.runner_opt}")
        print("\n".join(commands(cfg, build, "/tmp")))
        return 0

    indices = [int(i) for i in args.only.split(",")] if args.only else list(range(args.configs))
    print(f"differential: {len(indices)} configurations, seed {args.seed}, precisions {', '.join(precisions)}",
          flush=True)
    counts = {"ok": 0, "mismatch": 0, "fail": 0}
    worst = {}
    start = time.time()

    def one(i):
        cfg = draw(i, args.seed, precisions, *shares)
        try:
            return cfg, run(cfg, build)
        except subprocess.TimeoutExpired as e:
            return cfg, ("fail", None, f"timeout: {e}")
        except (OSError, subprocess.SubprocessError) as e:
            return cfg, ("fail", None, f"{type(e).__name__}: {e}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for cfg, (status, err, msg) in pool.map(one, indices):
            counts[status] += 1
            e = "-" if err is None else f"{err:.2e}"
            print(f"[{cfg.index}] {status.upper():8} err={e} tol={cfg.tol:.1e} seed={cfg.seed} "
                  f"{cfg.summary()} runner={cfg.runner_opt}  (reproduce: {me} --only {cfg.index})", flush=True)
            if err is not None:
                key = cfg.desc["op"] + ("" if cfg.desc.get("precision") in (None, "f32") else f"/{cfg.desc['precision']}")
                ratio = err / cfg.tol
                if key not in worst or ratio > worst[key][0]:
                    worst[key] = (ratio, err, cfg.index)
            if status != "ok" or args.verbose:
                for c in commands(cfg, build, tempfile.gettempdir()):
                    print(f"    $ {c}")
                if msg:
                    print("    " + msg.replace("\n", "\n    "))
    for key, (ratio, err, index) in sorted(worst.items()):
        print(f"worst {key}: err {err:.2e} = {ratio:.2f} x tolerance (config {index})")
    print(f"differential: {counts['ok']} passed, {counts['mismatch']} mismatches, {counts['fail']} failed "
          f"to compile or run, in {time.time() - start:.0f}s (seed {args.seed})")
    return 0 if counts["mismatch"] == 0 and counts["fail"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
