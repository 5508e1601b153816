#!/usr/bin/python3
"""Builds the seed corpus of deltanet-fuzz from the test suite.

Every `// -----` piece of test/**/*.mlir and examples/*.mlir that contains a
deltanet op (comment lines dropped), plus a few small programs from the test
generators (test/lib/*_testgen.py), each prefixed with several two-byte
headers (the mode and options of deltanet-fuzz.cpp: round trip, the deltanet
passes, one pass, the CPU pipeline, with default and with varied options).

Usage: make_corpus.py OUTDIR
"""

import hashlib
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PY = "/usr/bin/python3"

# (byte 0, byte 1): mode in bits 0-1 of byte 0 (0 round trip, 1 deltanet
# passes, 2 one pass, 3 CPU pipeline); option fields as in decodeHeader.
HEADERS = [
    (0x00, 0x00),  # round trip
    (0x01, 0x00),  # deltanet passes, default options
    (0x03, 0x00),  # CPU pipeline, default options
    (0x02, 0x06),  # one pass: lower-tri-inv
    (0x02, 0x00),  # one pass: decompose
    (0x02, 0x02),  # one pass: lower chunk stages
    (0x0B, 0x00),  # CPU pipeline, neumann
    (0x0F, 0x00),  # CPU pipeline, forward substitution
    (0x17, 0x24),  # CPU pipeline, blocked, bf16, block size 4, order 1... varied
    (0x27, 0x51),  # CPU pipeline, blocked, f16, other sizes/orders
    (0xC5, 0xEA),  # deltanet passes, invalid option values
]


def pieces():
    paths = []
    for base in ("test", "examples"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, base)):
            paths += [os.path.join(dirpath, f) for f in files if f.endswith(".mlir")]
    for path in sorted(paths):
        text = open(path).read()
        for piece in re.split(r"^// -----$", text, flags=re.M):
            lines = [l for l in piece.splitlines() if not l.lstrip().startswith("//")]
            body = "\n".join(lines).strip() + "\n"
            if "deltanet." in body:
                yield body


def generated():
    lib = os.path.join(ROOT, "test", "lib")
    cmds = [
        ["tri_inv_testgen.py", "gen", "--c", "4", "--batch", "2"],
        ["tri_inv_testgen.py", "gen", "--c", "8", "--dtype", "bf16", "--dynamic-batch", "--batch", "2"],
        ["gdr_testgen.py", "gen", "--T", "5", "--K", "4", "--V", "2", "--chunk-size", "4", "--h0"],
        ["gdr_testgen.py", "gen", "--T", "3", "--H", "1", "--HV", "2", "--K", "2", "--V", "2",
         "--chunk-size", "0", "--dynamic"],
    ]
    for cmd in cmds:
        out = subprocess.run([PY, os.path.join(lib, cmd[0])] + cmd[1:], check=True,
                             capture_output=True, text=True).stdout
        yield "\n".join(l for l in out.splitlines() if not l.lstrip().startswith("//")) + "\n"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    count = 0
    for body in list(pieces()) + list(generated()):
        for b0, b1 in HEADERS:
            data = bytes([b0, b1]) + body.encode()
            name = hashlib.sha1(data).hexdigest()
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
            count += 1
    print(f"make_corpus: {count} seeds in {out}")


if __name__ == "__main__":
    main()
