"""Accuracy and speed table of the deltanet kernels for the user's shapes.

python3 -m deltanet.report [--B 1] [--T 4096] [--heads 16] [--value-heads HV]
    [--K 128] [--V 128] [--chunk-size 64] [--repeat 3] [--seed 0]
    [--only tri_inv|gated_delta_rule]

Prints two Markdown tables on stdout, with a progress bar on stderr while the
kernels compile and run:
  * tri_inv on the B * HV * ceil(T / C) chunk matrices of that shape, per
    strategy and precision: max relative Frobenius error against the float64
    inverse on realistic and adversarial inputs, time per call, speed relative
    to forward substitution in f32;
  * the gated delta rule (chunk form per inverse strategy/precision, and the
    recurrent form): relative error of o and of the final state against the
    float64 reference, time per call, tokens/s, speed relative to the
    recurrent kernel.
"""

import argparse
import os
import sys
import time

import numpy as np

from . import _api, inputs, reference

TRI_INV_VARIANTS = [
    # label, tri_inv keyword arguments
    ("forward substitution, f32", dict(strategy="forward-substitution")),
    ("blocked (block 16), f32", dict(strategy="blocked", block_size=16)),
    ("blocked (block 16), bf16 matmuls", dict(strategy="blocked", block_size=16, precision="bf16")),
    ("blocked (block 16), f16 matmuls", dict(strategy="blocked", block_size=16, precision="f16")),
    ("blocked (block 4), i8 matmuls", dict(strategy="blocked", block_size=4, precision="i8")),
    ("neumann exact, f32", dict(strategy="neumann")),
    ("neumann (order 3), f32", dict(strategy="neumann", order=3)),
]

GDR_VARIANTS = [
    # label, recurrent?, chunk_gated_delta_rule keyword arguments
    ("recurrent", True, {}),
    ("chunk, blocked inverse, f32", False, dict(strategy="blocked")),
    ("chunk, forward substitution, f32", False, dict(strategy="forward-substitution")),
    ("chunk, blocked inverse, bf16 matmuls", False, dict(strategy="blocked", precision="bf16")),
    ("chunk, blocked inverse, f16 matmuls", False, dict(strategy="blocked", precision="f16")),
]


class ProgressBar:
    """A one-line textual progress bar on a stream (stderr)."""

    def __init__(self, total, stream=sys.stderr, width=28):
        self.total, self.done, self.stream, self.width = max(total, 1), 0, stream, width
        self.started = time.perf_counter()

    def show(self, label):
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        line = f"[{bar}] {self.done}/{self.total} {elapsed:5.1f}s {label}"
        end = "\n" if not self.stream.isatty() else ""
        self.stream.write("\r" + line[:100].ljust(100) + end)
        self.stream.flush()

    def step(self, label):
        self.done += 1
        self.show(label)

    def close(self):
        self.show("done")
        if self.stream.isatty():
            self.stream.write("\n")
        self.stream.flush()


def time_call(fn, repeat):
    """Median wall time (s) of `repeat` calls after one warm-up call; returns (median, last result)."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def fmt_ratio(peer, t):
    return f"{peer / t:.2f}x" if peer and t else "-"


def tri_inv_table(args, progress):
    rng = np.random.default_rng(args.seed)
    c = args.chunk_size
    batch = args.B * args.value_heads * (-(-args.T // c))
    data = {d: inputs.chunk_matrices(rng, batch, c, d, head_dim=args.K) for d in ("realistic", "adversarial")}
    progress.step(f"tri_inv: float64 references of {batch} matrices")
    expected = {d: reference.tri_inv(a) for d, a in data.items()}
    rows, peer = [], None
    for label, kwargs in TRI_INV_VARIANTS:
        progress.show(f"tri_inv: compiling and running {label}")
        try:
            seconds, x = time_call(lambda: _api.tri_inv(data["realistic"], **kwargs), args.repeat)
            errors = [reference.max_matrix_relative_error(x, expected["realistic"])]
            x = _api.tri_inv(data["adversarial"], **kwargs)
            errors.append(reference.max_matrix_relative_error(x, expected["adversarial"]))
        except ValueError as error:
            rows.append((label, "not supported: " + str(error).splitlines()[0][:60]))
            progress.step(label)
            continue
        if peer is None:
            peer = seconds
        rows.append((label, errors, seconds))
        progress.step(label)
    lines = [
        f"## tri_inv: {batch} matrices of {c}x{c} (B={args.B} x HV={args.value_heads} x {-(-args.T // c)} chunks)",
        "",
        "| strategy | rel. error realistic | rel. error adversarial | ms / call | ns / matrix | speed vs forward substitution |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if len(row) == 2:
            lines.append(f"| {row[0]} | {row[1]} | | | | |")
            continue
        label, (er, ea), t = row
        lines.append(
            f"| {label} | {er:.2e} | {ea:.2e} | {t * 1e3:.2f} | {t * 1e9 / batch:.0f} | {fmt_ratio(peer, t)} |"
        )
    return lines


def gdr_table(args, progress):
    rng = np.random.default_rng(args.seed + 1)
    shape = (args.B, args.T, args.heads, args.value_heads, args.K, args.V)
    data = {d: inputs.gated_delta_rule_inputs(rng, *shape, d) for d in ("realistic", "adversarial")}
    expected = {}
    for d, operands in data.items():
        progress.step(f"gated delta rule: float64 reference ({d})")
        expected[d] = reference.chunk_gated_delta_rule(*operands, chunk_size=args.chunk_size)
    rows, peer = [], None
    for label, recurrent, kwargs in GDR_VARIANTS:
        progress.show(f"gated delta rule: compiling and running {label}")

        def run(operands):
            if recurrent:
                return _api.recurrent_gated_delta_rule(*operands)
            return _api.chunk_gated_delta_rule(*operands, chunk_size=args.chunk_size, **kwargs)

        try:
            seconds, result = time_call(lambda: run(data["realistic"]), args.repeat)
            errors = [reference.relative_error(r, e) for r, e in zip(result, expected["realistic"])]
            result = run(data["adversarial"])
            errors += [reference.relative_error(r, e) for r, e in zip(result, expected["adversarial"])]
        except ValueError as error:
            rows.append((label, "not supported: " + str(error).splitlines()[0][:60]))
            progress.step(label)
            continue
        if recurrent:
            peer = seconds
        rows.append((label, errors, seconds))
        progress.step(label)
    tokens = args.B * args.T
    lines = [
        f"## Gated delta rule: B={args.B} T={args.T} H={args.heads} HV={args.value_heads} "
        f"K={args.K} V={args.V}, chunk {args.chunk_size}, f32 inputs",
        "",
        "| kernel | o error realistic | state error realistic | o error adversarial | state error adversarial "
        "| ms / call | tokens/s | speed vs recurrent |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if len(row) == 2:
            lines.append(f"| {row[0]} | {row[1]} | | | | | | |")
            continue
        label, e, t = row
        lines.append(
            f"| {label} | {e[0]:.2e} | {e[1]:.2e} | {e[2]:.2e} | {e[3]:.2e} | {t * 1e3:.1f} "
            f"| {tokens / t:,.0f} | {fmt_ratio(peer, t)} |"
        )
    return lines


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python3 -m deltanet.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--B", type=positive, default=1, help="batch size (default 1)")
    parser.add_argument("--T", type=positive, default=4096, help="tokens (default 4096)")
    parser.add_argument("--heads", type=positive, default=16, help="q/k heads H (default 16)")
    parser.add_argument("--value-heads", type=positive, default=None, help="value heads HV (default: H)")
    parser.add_argument("--K", type=positive, default=128, help="key head dim (default 128)")
    parser.add_argument("--V", type=positive, default=128, help="value head dim (default 128)")
    parser.add_argument("--chunk-size", type=positive, default=64, help="chunk size C, a power of two (default 64)")
    parser.add_argument("--repeat", type=positive, default=3, help="timed calls per kernel, median (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("tri_inv", "gated_delta_rule"), default=None)
    args = parser.parse_args(argv)
    if args.value_heads is None:
        args.value_heads = args.heads
    if args.value_heads % args.heads:
        parser.error(f"--value-heads {args.value_heads} must be a multiple of --heads {args.heads}")
    if args.chunk_size & (args.chunk_size - 1):
        parser.error(f"--chunk-size {args.chunk_size} must be a power of two")
    return args


def main(argv=None):
    args = parse_args(argv)
    do_tri_inv = args.only in (None, "tri_inv")
    do_gdr = args.only in (None, "gated_delta_rule")
    steps = (1 + len(TRI_INV_VARIANTS)) * do_tri_inv + (2 + len(GDR_VARIANTS)) * do_gdr
    progress = ProgressBar(steps)
    progress.show("starting")
    sections = []
    if do_tri_inv:
        sections.append(tri_inv_table(args, progress))
    if do_gdr:
        sections.append(gdr_table(args, progress))
    progress.close()
    print(f"# deltanet report ({os.cpu_count()} CPUs; errors vs float64, median of {args.repeat} timed calls)\n")
    print("\n\n".join("\n".join(section) for section in sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
