#!/usr/bin/python3
"""Gated delta rule on the CPU: deltanet's chunk op vs its recurrent op vs PyTorch.

Runs, in one invocation, the compiled `deltanet.chunk_gated_delta_rule` and
`deltanet.recurrent_gated_delta_rule` (bin/gdr-bench, Google Benchmark) and a
plain PyTorch CPU implementation of the same chunked math
(bench/torch_chunk_gated_delta_rule.py, written like the Hugging Face
Qwen3-Next reference), on inputs of one shape and distribution, and prints
tokens/s and ratios as a markdown table. It checks what it reports: gdr-bench
exits with status 1 when one of its kernels is farther from its float64
recurrence than its bound, and the PyTorch peer must be within PEER_BOUND of
the float64 recurrence on its inputs; either failure ends the report with
status 1.

Usage: gdr_report.py [--build DIR] [--B 1 --T 4096 --H 4 --HV 4 --K 128 --V 128 --chunk-size 64]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# The PyTorch peer's largest accepted relative error (outputs and final state)
# against the float64 recurrence: measured 2.9e-7 / 2.2e-7 at the default
# shape, bound 1.5e-6 (margin 5x).
PEER_BOUND = 1.5e-6
# Load above the report's own busy threads at which it warns (issue 13).
IDLE_LOAD = 0.5


def run_deltanet(args):
    cmd = [
        os.path.join(args.build, "bin", "gdr-bench"),
        f"--B={args.B}", f"--T={args.T}", f"--H={args.H}", f"--HV={args.HV}",
        f"--K={args.K}", f"--V={args.V}", f"--chunk-size={args.chunk_size}",
        "--benchmark_format=json",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"gdr_report: {cmd[0]} failed with exit status {proc.returncode} (see above)")
    report = json.loads(proc.stdout)
    return {b["name"].split("/min_time")[0]: b["real_time"] / 1e3 for b in report["benchmarks"]}  # ms -> s


def load_average(when, own_threads):
    """The 1 / 5 / 15-minute load average; a warning on stderr when the
    1-minute figure is above this report's own busy threads + IDLE_LOAD."""
    load = os.getloadavg()
    if load[0] > own_threads + IDLE_LOAD:
        print(f"warning: load average {when} the runs is {load[0]:.2f}, above {own_threads + IDLE_LOAD:.1f}: "
              "the machine is not idle; wall-clock times and ratios are distorted", file=sys.stderr)
    return " ".join(f"{x:.2f}" for x in load)


def torch_inputs(args, torch):
    gen = torch.Generator().manual_seed(0)
    shape = (args.B, args.T, args.H, args.K)
    shared = torch.randn(args.K, generator=gen)
    k = (0.7 ** 0.5) * torch.randn(shape, generator=gen) + (0.3 ** 0.5) * shared
    k = k / k.norm(dim=-1, keepdim=True)
    q = torch.randn(shape, generator=gen)
    q = q / q.norm(dim=-1, keepdim=True)
    v = torch.randn(args.B, args.T, args.HV, args.V, generator=gen)
    g = -torch.randn(args.B, args.T, args.HV, generator=gen).abs() * 0.1
    beta = torch.sigmoid(torch.randn(args.B, args.T, args.HV, generator=gen))
    h0 = 0.1 * torch.randn(args.B, args.HV, args.K, args.V, generator=gen)
    return q, k, v, g, beta, h0


def time_torch(fn, inputs, min_seconds=1.0):
    fn(*inputs)  # warm-up
    runs, start = 0, time.perf_counter()
    while True:
        fn(*inputs)
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and runs >= 2:
            return elapsed / runs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"), help="deltanet build directory")
    for name, default in [("B", 1), ("T", 4096), ("H", 4), ("HV", 4), ("K", 128), ("V", 128), ("chunk-size", 64)]:
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    if args.H != args.HV:
        parser.error("the PyTorch peer expects H == HV")

    try:
        import torch
    except ImportError:
        sys.exit("gdr_report: PyTorch is missing (Debian: python3-torch)")
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(HERE, "..", "test", "lib"))
    from torch_chunk_gated_delta_rule import torch_chunk_gated_delta_rule
    import gdr_testgen

    load_before = load_average("before", 0)
    times = run_deltanet(args)
    inputs = torch_inputs(args, torch)
    chunked = lambda *x: torch_chunk_gated_delta_rule(*x[:5], chunk_size=args.chunk_size, initial_state=x[5])
    with torch.no_grad():
        torch.set_num_threads(1)
        times["PyTorch chunked (1 thread)"] = time_torch(chunked, inputs)
        threads = os.cpu_count() or 1
        if threads > 1:
            torch.set_num_threads(threads)
            times[f"PyTorch chunked ({threads} threads)"] = time_torch(chunked, inputs)
        o, state = chunked(*inputs)

    # The peer's accuracy against the float64 recurrence (sanity of the peer).
    ref_o, ref_state = gdr_testgen.recurrent_reference(*(x.double().numpy() for x in inputs))
    err_o = np.linalg.norm(o.double().numpy() - ref_o) / np.linalg.norm(ref_o)
    err_s = np.linalg.norm(state.double().numpy() - ref_state) / np.linalg.norm(ref_state)

    if not (err_o <= PEER_BOUND and err_s <= PEER_BOUND):
        sys.exit(f"gdr_report: the PyTorch peer is off the float64 recurrence: output {err_o:.1e}, "
                 f"state {err_s:.1e} > {PEER_BOUND:.1e}")

    load_after = load_average("after", 1)
    tokens = args.B * args.T
    peer = times["PyTorch chunked (1 thread)"]
    print(f"\nB={args.B} T={args.T} H={args.H} HV={args.HV} K={args.K} V={args.V} chunk={args.chunk_size}, f32, "
          f"PyTorch {torch.__version__}; PyTorch peer vs float64 recurrence: output {err_o:.1e}, state {err_s:.1e}; "
          f"load average before {load_before}, after {load_after}\n")
    print("| implementation | time (ms) | tokens/s | speed vs PyTorch chunked (1 thread) |")
    print("|---|---:|---:|---:|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds * 1e3:.1f} | {tokens / seconds:,.0f} | {peer / seconds:.2f}x |")


if __name__ == "__main__":
    main()
