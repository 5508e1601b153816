#!/usr/bin/python3
"""Random-input robustness test of the Python package `deltanet`.

Feeds the package mutated MLIR (seeded from the deltanet tests) through
run_pipeline() and compile(), and odd arrays and arguments through tri_inv(),
chunk_gated_delta_rule() and recurrent_gated_delta_rule(). Any Python exception
is fine (bad input must raise); a crash of the interpreter (a signal, an
abort, LLVM ERROR) is a failure. The cases run in a child process that logs
each case before running it, so a crash names the case and the command that
reruns it.

Usage: python_api_fuzz.py [--iterations N] [--seed S] [--only I] [--verbose]
Needs the package on PYTHONPATH (<build>/python_packages).
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

PIPELINES = [
    ("deltanet-cpu-pipeline", True),
    ("deltanet-lower-tri-inv", True),
    ("deltanet-decompose-chunk-gated-delta-rule", False),
    ("builtin.module(deltanet-decompose-chunk-gated-delta-rule,deltanet-lower-chunk-stages,deltanet-lower-tri-inv)", False),
    ("deltanet-lower-recurrent-gated-delta-rule,canonicalize", False),
    ("builtin.module(deltanet-gpu-pipeline)", False),  # unknown: must raise
    ("builtin.module(func.func(deltanet-protect-function-inputs))", False),  # misnested pass: must raise
]
OPTION_VALUES = {
    "tri_inv_strategy": ["blocked", "neumann", "forward-substitution", "lu"],
    "tri_inv_block_size": [1, 2, 4, 16, 3, 0, -8],
    "tri_inv_order": [-1, 1, 2, 0, -5],
    "tri_inv_residual_steps": [0, 1, -1],
    "tri_inv_batch_tile": [0, 1, 16, -1],
    "tri_inv_precision": ["f32", "bf16", "f16", "i8", "f8"],
}
INTERESTING = ["0", "1", "-1", "2", "3", "7", "16", "48", "2147483648", "9223372036854775807", "-9223372036854775808"]
TYPES = ["f32", "f16", "bf16", "f64", "i8", "i32", "index"]


def seeds():
    out = []
    for base in ("test/Dialect", "test/Pipelines", "examples"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, base)):
            for f in sorted(files):
                if f.endswith(".mlir"):
                    text = open(os.path.join(dirpath, f)).read()
                    for piece in re.split(r"^// -----$", text, flags=re.M):
                        if "expected-error" in piece:
                            continue  # invalid on purpose: mutations of valid programs reach further
                        body = "\n".join(l for l in piece.splitlines() if not l.lstrip().startswith("//"))
                        if "deltanet." in body:
                            out.append(body)
    return sorted(out)


def mutate(rng, text):
    for _ in range(rng.randint(0, 4)):
        kind = rng.randrange(5)
        if kind == 0:  # an integer literal
            nums = list(re.finditer(r"(?<![A-Za-z_%#@])\d+", text))
            if nums:
                m = rng.choice(nums)
                text = text[: m.start()] + rng.choice(INTERESTING).lstrip("-") + text[m.end():]
        elif kind == 1:  # an element type
            types = list(re.finditer(r"x(f32|f16|bf16)>", text))
            if types:
                m = rng.choice(types)
                text = text[: m.start()] + "x" + rng.choice(TYPES) + ">" + text[m.end():]
        elif kind == 2:  # drop a line
            lines = text.splitlines()
            if len(lines) > 2:
                del lines[rng.randrange(len(lines))]
            text = "\n".join(lines)
        elif kind == 3:  # a dim becomes dynamic
            dims = list(re.finditer(r"(?<=[<x])\d+(?=x)", text))
            if dims:
                m = rng.choice(dims)
                text = text[: m.start()] + "?" + text[m.end():]
        else:  # truncate
            text = text[: rng.randrange(len(text) + 1)]
    return text


def random_options(rng):
    return {k: rng.choice(v) for k, v in OPTION_VALUES.items() if rng.random() < 0.3}


def random_array(rng, np, shape, dtypes=("float32",) * 6 + ("float16", "float64", "int32"), dtype=None):
    dtype = dtype or rng.choice(dtypes)
    a = np.asarray(np.random.default_rng(rng.randrange(2**32)).standard_normal(shape) * 0.1).astype(dtype)
    if rng.random() < 0.05 and a.ndim >= 1 and a.shape[-1] > 1:
        a = a[..., ::2]  # non-contiguous
    if rng.random() < 0.05 and a.size:
        a.flat[0] = rng.choice([float("nan"), float("inf")])
    return a


def case(index, seed, texts):
    """A description and a thunk of case `index` (drawn from its own seed)."""
    rng = random.Random(seed * 1_000_003 + index)
    kind = rng.choice(["run_pipeline", "run_pipeline", "compile", "tri_inv", "gdr", "gdr"])
    if kind == "run_pipeline":
        text = mutate(rng, rng.choice(texts))
        pipeline, takes_options = rng.choice(PIPELINES)
        options = {}
        if takes_options and rng.random() < 0.5:
            options = random_options(rng)
            if pipeline != "deltanet-cpu-pipeline":
                options = {k.replace("tri_inv_", ""): v for k, v in options.items()}

        def run(dn, np):
            dn.run_pipeline(text, pipeline, **options)
        return f"run_pipeline(<{len(text)} chars>, {pipeline!r}, **{options!r})", text, run
    if kind == "compile":
        text = mutate(rng, rng.choice(texts))
        names = re.findall(r"func\.func @(\w+)", text) or ["missing"]
        entry = rng.choice(names)
        options = random_options(rng)

        def run(dn, np):
            dn.compile(text, entry, **options)
        return f"compile(<{len(text)} chars>, {entry!r}, **{options!r})", text, run
    if kind == "tri_inv":
        c = rng.choice([1, 2, 3, 4, 8, 16, 0])
        batch = rng.choice([(), (2,), (1, 3), (0,)])
        shape = batch + (c, rng.choice([c, c, c + 1]))
        kwargs = {}
        for name, values in (("strategy", ["blocked", "neumann", "forward_substitution", "bogus", 3]),
                             ("block_size", [1, 2, 4, 16, 3, 0, -4, None, 2.5]),
                             ("order", [None, 1, 2, 0, -1]),
                             ("residual_steps", [0, 1, -1, 100]),
                             ("precision", ["f32", "bf16", "f16", "i8", "f8", None])):
            if rng.random() < 0.3:
                kwargs[name] = rng.choice(values)

        def run(dn, np):
            dn.tri_inv(random_array(rng, np, shape), **kwargs)
        return f"tri_inv(<array {shape}>, **{kwargs!r})", "", run
    b, t, h = rng.choice([1, 2]), rng.choice([1, 3, 17, 0]), rng.choice([1, 2])
    hv, kd, vd = h * rng.choice([1, 2]), rng.choice([1, 4, 8]), rng.choice([1, 4])
    shapes = [(b, t, h, kd), (b, t, h, kd), (b, t, hv, vd), (b, t, hv), (b, t, hv), (b, hv, kd, vd)]
    if rng.random() < 0.3:  # one operand of a wrong shape or rank
        i = rng.randrange(6)
        s = list(shapes[i])
        if rng.random() < 0.5 and len(s) > 1:
            s.pop()
        else:
            s[rng.randrange(len(s))] += 1
        shapes[i] = tuple(s)
    chunk = rng.choice([0, 1, 4, 16, 3, -2])
    kwargs = {}
    if rng.random() < 0.3:
        kwargs["scale"] = rng.choice([0.5, 0.0, float("nan"), -1.0])
    if rng.random() < 0.3:
        kwargs["use_qk_l2norm"] = rng.choice([True, False, 1])

    def run(dn, np):
        # q, k, v share a dtype; g, beta and the state are f32 (sometimes not).
        qkv = rng.choice(["float32", "float32", "float16"])
        dtypes = [qkv] * 3 + ["float32"] * 3
        if rng.random() < 0.1:
            dtypes[rng.randrange(6)] = rng.choice(["float16", "float64", "int8"])
        args = [random_array(rng, np, s, dtype=d) for s, d in zip(shapes, dtypes)]
        if rng.random() < 0.2:
            args[5] = None
        if chunk:
            dn.chunk_gated_delta_rule(*args[:5], initial_state=args[5], chunk_size=chunk, **kwargs)
        else:
            dn.recurrent_gated_delta_rule(*args[:5], initial_state=args[5], **kwargs)
    what = "chunk_gated_delta_rule" if chunk else "recurrent_gated_delta_rule"
    return f"{what}(<shapes {shapes}>, chunk_size={chunk}, **{kwargs!r})", "", run


def child(args):
    import numpy as np

    import deltanet as dn

    texts = seeds()
    indices = [args.only] if args.only is not None else range(args.iterations)
    raised = 0
    with open(args.log, "w") as log:
        for i in indices:
            desc, text, run = case(i, args.seed, texts)
            log.write(f"{i}\t{desc}\n")
            log.flush()
            os.fsync(log.fileno())
            try:
                run(dn, np)
            except Exception as e:  # noqa: BLE001 - any Python error is a diagnosed failure
                raised += 1
                if args.verbose:
                    print(f"[{i}] {desc}: {type(e).__name__}: {str(e)[:200]}")
            else:
                if args.verbose:
                    print(f"[{i}] {desc}: ok")
    print(f"python_api_fuzz: {len(indices)} cases, {raised} raised, 0 crashes")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", type=int)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--child-log", dest="log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.log:
        return child(args)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "cases.log")
        cmd = [sys.executable, os.path.abspath(__file__), "--iterations", str(args.iterations), "--seed",
               str(args.seed), "--child-log", log] + (["--only", str(args.only)] if args.only is not None else []) \
            + (["--verbose"] if args.verbose else [])
        proc = subprocess.run(cmd)
        if proc.returncode == 0:
            return 0
        lines = open(log).read().splitlines() if os.path.exists(log) else []
        last = lines[-1] if lines else "(none)"
        index = last.split("\t")[0]
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        print(f"python_api_fuzz: CRASH ({how}) in case {last}")
        print(f"  reproduce: {sys.executable} {os.path.abspath(__file__)} --seed {args.seed} --only {index} --verbose")
        return 1


if __name__ == "__main__":
    sys.exit(main())
