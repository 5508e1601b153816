#!/usr/bin/python3
"""Context parallelism over torch.distributed (gloo, this machine): all-gather vs log-depth scan.

Spawns --ranks processes; each holds --T tokens of one sequence (B, H = HV,
K, V as given). Measures, interleaved, median of --repeats after a warm-up
that compiles every kernel:
  call       the whole context_parallel_chunk_gated_delta_rule, per exchange;
  exchange   the collectives alone with the real payload (summaries
             [B, HV, K, K + V] f32): one all_gather, or the scan's
             ceil(log2 R) rounds of isend/irecv + the entry-state message +
             the final-state broadcast;
plus bytes sent per rank, and the difference of rank outputs to the
single-process op on the whole sequence (computed on rank 0; inputs without
decay by default, so that the entry states carry weight).

  PYTHONPATH=build/python_packages python3 bench/context_parallel.py --ranks 2 --T 4096
"""

import argparse
import datetime
import math
import os
import socket
import statistics
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import deltanet
from deltanet import inputs
from deltanet.context_parallel import _send_recv, context_parallel_chunk_gated_delta_rule


def raw_exchange(kind, rank, world, b, hv, k, v):
    payload = torch.ones(b, hv, k, k + v)
    if kind == "allgather":
        out = [torch.empty_like(payload) for _ in range(world)]
        dist.all_gather(out, payload)
        return
    step = 1
    while step < world:
        _send_recv(dist, [payload[..., :k].contiguous(), payload[..., k:].contiguous()],
                   rank + step if rank + step < world else None, rank - step if rank >= step else None, None)
        step *= 2
    state = payload[..., k:].contiguous()
    _send_recv(dist, [state], rank + 1 if rank + 1 < world else None, rank - 1 if rank else None, None)
    dist.broadcast(state, world - 1)


def worker(rank, world, port, args):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=600))
    b, h, k, v, t = args.B, args.H, args.K, args.V, args.T
    q, kk, vv, g, beta, h0 = inputs.gated_delta_rule_inputs(np.random.default_rng(0), b, t * world, h, h, k, v,
                                                            args.dist)
    mine = [torch.from_numpy(np.ascontiguousarray(x[:, rank * t:(rank + 1) * t])) for x in (q, kk, vv, g, beta)]
    state = torch.from_numpy(h0) if rank == 0 else None
    call = {}
    for exchange in ("allgather", "scan"):
        call[exchange] = lambda e=exchange: context_parallel_chunk_gated_delta_rule(
            *mine, initial_state=state, output_final_state=True, chunk_size=args.chunk_size, exchange=e)
    outputs = {e: fn() for e, fn in call.items()}  # warm-up
    o_all = [torch.empty(b, t, h, v) for _ in range(world)]
    dist.all_gather(o_all, outputs["allgather"][0])
    if rank == 0:
        o_ref, h_ref = deltanet.chunk_gated_delta_rule(q, kk, vv, g, beta, h0, chunk_size=args.chunk_size)
        o_cp = torch.cat(o_all, dim=1).numpy()
        print(f"max |o - o_single| / max |o_single| = {np.abs(o_cp - o_ref).max() / np.abs(o_ref).max():.1e}; "
              f"final state: {np.abs(outputs['scan'][1].numpy() - h_ref).max() / np.abs(h_ref).max():.1e}")
    times = {f"call {e}": [] for e in call} | {"exchange allgather": [], "exchange scan": []}
    for _ in range(args.repeats):
        for e, fn in call.items():
            dist.barrier()
            start = time.perf_counter()
            fn()
            dist.barrier()
            times[f"call {e}"].append(time.perf_counter() - start)
        for e in ("allgather", "scan"):
            samples = []
            for _ in range(10):
                dist.barrier()
                start = time.perf_counter()
                raw_exchange(e, rank, world, b, h, k, v)
                samples.append(time.perf_counter() - start)
            times[f"exchange {e}"].append(statistics.median(samples))
    if rank == 0:
        payload = b * h * k * (k + v) * 4
        rounds = math.ceil(math.log2(world))
        print(f"ranks={world} T/rank={t} B={b} H=HV={h} K={k} V={v} chunk={args.chunk_size}; "
              f"summary payload {payload / 2**20:.2f} MiB per rank")
        print(f"bytes sent per rank: all-gather (ring) {(world - 1) * payload / 2**20:.2f} MiB; "
              f"scan <= {(rounds * payload + 2 * b * h * k * v * 4) / 2**20:.2f} MiB in {rounds} rounds + 2 messages")
        for name, ts in times.items():
            print(f"  {name:20s} median {statistics.median(ts) * 1e3:9.2f} ms  (all: "
                  + ", ".join(f"{x * 1e3:.2f}" for x in ts) + ")")
        print(f"load average: {os.getloadavg()}")
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--T", type=int, default=4096, help="tokens per rank")
    p.add_argument("--B", type=int, default=1)
    p.add_argument("--H", type=int, default=4)
    p.add_argument("--K", type=int, default=128)
    p.add_argument("--V", type=int, default=128)
    p.add_argument("--chunk-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--dist", default="adversarial", choices=sorted(inputs.DISTRIBUTIONS),
                   help="inputs; adversarial has no decay, so every rank's entry state matters")
    args = p.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(worker, args=(args.ranks, port, args), nprocs=args.ranks)


if __name__ == "__main__":
    main()
