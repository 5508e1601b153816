#!/usr/bin/python3
"""Runs a command and checks its exit code: `exit_code.py N CMD ARGS...`.

Passes the command's stdout and stderr through. Exits 0 if the command exited
with status N, 1 otherwise (including death by a signal: a crash or an
assertion is never the expected outcome of a diagnostic). The diagnostics
tests use it to assert "error, exit code 1, no crash".
"""

import subprocess
import sys


def main():
    expected = int(sys.argv[1])
    cmd = sys.argv[2:]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sys.stdout.buffer.write(proc.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(proc.stderr)
    sys.stderr.flush()
    if proc.returncode != expected:
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        print(f"exit_code.py: expected exit code {expected}, got {how}: {' '.join(cmd)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
