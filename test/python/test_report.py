"""python3 -m deltanet.report: tables on stdout, progress bar on stderr."""

import os
import subprocess
import sys


def test_report_small_shape():
    run = subprocess.run(
        [sys.executable, "-m", "deltanet.report", "--T", "40", "--heads", "1", "--value-heads", "2",
         "--K", "16", "--V", "8", "--chunk-size", "16", "--repeat", "1"],
        capture_output=True, text=True, timeout=600, env=dict(os.environ),
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "## tri_inv: 6 matrices of 16x16" in out
    assert "| forward substitution, f32 |" in out and "| 1.00x |" in out
    assert "## Gated delta rule: B=1 T=40 H=1 HV=2 K=16 V=8, chunk 16" in out
    assert "| recurrent |" in out and "| chunk, blocked inverse, f32 |" in out
    assert "[" + "#" * 28 + "]" in run.stderr and "done" in run.stderr
    # Every f32 row is accurate (the table reports real comparisons).
    for line in out.splitlines():
        if line.startswith("| chunk, blocked inverse, f32 |") or line.startswith("| blocked (block 16), f32 |"):
            errors = [float(x) for x in line.split("|")[2:4]]
            assert max(errors) < 1e-4, line


def test_report_rejects_bad_arguments():
    run = subprocess.run([sys.executable, "-m", "deltanet.report", "--heads", "3", "--value-heads", "4"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--value-heads 4 must be a multiple of --heads 3" in run.stderr
