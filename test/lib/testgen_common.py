"""Helpers shared by the NumPy test generators (tri_inv_testgen, gdr_testgen).

Encoding inputs as MLIR hex dense literals, reading the errors a generated
program prints with printMemrefF64, and checking that recorded errors fall.
"""

import re
import sys

import numpy as np


def round_to(x, dtype):
    """Rounds float64 `x` to `dtype`; returns (rounded as float64, raw bytes)."""
    if dtype == "f32":
        v = x.astype(np.float32)
        return v.astype(np.float64), v.tobytes()
    if dtype == "f16":
        v = x.astype(np.float16)
        return v.astype(np.float64), v.tobytes()
    if dtype == "bf16":
        u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
        back = (u.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        return back, u.tobytes()
    raise ValueError(f"unknown dtype {dtype}")


def tensor_type(shape, elt):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)", re.IGNORECASE)


def printed_values(text):
    """The numbers of the first memref printed in `text`, or None (with a
    message on stderr) if there is none."""
    if "data =" not in text:
        print(f"error: no printed memref in the program output:\n{text}", file=sys.stderr)
        return None
    return [float(v) for v in FLOAT.findall(text.split("data =", 1)[1])]


def falls(args):
    """Exit status: 0 if the errors recorded in `args.file` fall strictly."""
    values = [float(line) for line in open(args.file) if line.strip()]
    print("errors by increasing order: " + ", ".join(f"{v:.2e}" for v in values))
    if len(values) < 2:
        print("FAIL: need at least two recorded errors", file=sys.stderr)
        return 1
    for prev, cur in zip(values, values[1:]):
        if not cur < prev:
            print(f"FAIL: error did not fall: {prev:.3e} -> {cur:.3e}", file=sys.stderr)
            return 1
    return 0


def add_check_and_falls_parsers(sub, what="error"):
    """The `check` and `falls` subcommands shared by the generators; returns
    the `check` parser."""
    c = sub.add_parser("check")
    c.add_argument("--max", type=float, help=f"largest allowed {what}")
    c.add_argument("--min", type=float, help="smallest expected error (for deliberately truncated runs)")
    c.add_argument("--label", default="")
    c.add_argument("--append", help="append the error to this file")
    f = sub.add_parser("falls")
    f.add_argument("file")
    return c
