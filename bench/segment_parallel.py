#!/usr/bin/python3
"""One long sequence on several CPU threads by segment summaries, against one thread.

Times, in the same run and interleaved (median of --repeats after one
warm-up that compiles every kernel):
  1 thread     deltanet.chunk_gated_delta_rule on the whole sequence;
  segments     deltanet.segment_parallel_chunk_gated_delta_rule(threads=P);
  heads        the same op on P threads, each running a slice of the value
               heads (the batch/head parallelism available when B x HV >= P);
and checks that segments and heads equal the one-thread result. Prints the
load average: on a shared machine only the same-run ratios mean something.

  PYTHONPATH=build/python_packages python3 bench/segment_parallel.py --T 65536 --H 4 --threads 2
  PYTHONPATH=build/python_packages python3 bench/segment_parallel.py --T 16384 --ratio
"""

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import deltanet
from deltanet import inputs


def heads_parallel(q, k, v, g, beta, h0, threads, chunk_size):
    """The value heads split into `threads` groups, one kernel call per group (H == HV here)."""
    groups = np.array_split(np.arange(v.shape[2]), threads)

    def run(idx):
        sl = slice(idx[0], idx[-1] + 1)
        return deltanet.chunk_gated_delta_rule(
            *(np.ascontiguousarray(x[:, :, sl]) for x in (q, k, v, g, beta)),
            initial_state=np.ascontiguousarray(h0[:, sl]), chunk_size=chunk_size)

    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(run, groups))
    return np.concatenate([o for o, _ in parts], axis=2), np.concatenate([h for _, h in parts], axis=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--B", type=int, default=1)
    p.add_argument("--T", type=int, default=65536)
    p.add_argument("--H", type=int, default=4)
    p.add_argument("--K", type=int, default=128)
    p.add_argument("--V", type=int, default=128)
    p.add_argument("--chunk-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--ratio", action="store_true",
                   help="only time the summary against the chunk op on the same T tokens, one thread "
                        "(deltanet._summary.SUMMARY_COST_RATIO)")
    args = p.parse_args()
    print(f"load average before: {os.getloadavg()}")
    rng = np.random.default_rng(0)
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, args.B, args.T, args.H, args.H, args.K, args.V)
    cs = args.chunk_size
    if args.ratio:
        pair = {"chunk op": lambda: deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=cs),
                "summary": lambda: deltanet.gated_delta_rule_summary(k, v, g, beta, chunk_size=cs)}
        times = {name: [] for name in pair}
        for _ in range(args.repeats + 1):  # the first round compiles
            for name, fn in pair.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        chunk, summary = (statistics.median(times[n][1:]) for n in pair)
        print(f"T={args.T} H={args.H} K={args.K} V={args.V} chunk={cs}: chunk op {chunk:.3f} s, "
              f"summary {summary:.3f} s, ratio {summary / chunk:.2f}")
        print(f"load average after: {os.getloadavg()}")
        return
    runs = {
        "1 thread": lambda: deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=cs),
        f"segments, {args.threads} threads": lambda: deltanet.segment_parallel_chunk_gated_delta_rule(
            q, k, v, g, beta, h0, chunk_size=cs, threads=args.threads),
        f"heads, {args.threads} threads": lambda: heads_parallel(q, k, v, g, beta, h0, args.threads, cs),
    }
    results = {name: fn() for name, fn in runs.items()}  # warm-up: compiles every kernel
    o1, h1 = results["1 thread"]
    for name, (o, h) in results.items():
        err = max(np.abs(o - o1).max() / np.abs(o1).max(), np.abs(h - h1).max() / np.abs(h1).max())
        print(f"{name}: max relative difference to 1 thread {err:.1e}")
    times = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["1 thread"])
    print(f"B={args.B} T={args.T} H=HV={args.H} K={args.K} V={args.V} chunk={cs}, median of {args.repeats}:")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"  {name:22s} {t:8.3f} s   speedup {base / t:5.2f}x   (all: {', '.join(f'{x:.3f}' for x in ts)})")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
