"""Context parallelism over torch.distributed (gloo): 2 and 3 processes on this machine.

Each test spawns its ranks once (torch.multiprocessing, a free local port, a
bounded time) and runs every case in them: uneven slices, slices shorter
than a chunk and empty, initial state, l2 norm, both exchanges, against the
single-process deltanet.chunk_gated_delta_rule on the whole sequence; then
bad inputs, which must raise the same ValueError on every rank, after which
the group must still work.
"""

import datetime
import os
import socket
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

import deltanet  # noqa: E402
from deltanet import inputs  # noqa: E402
from deltanet.context_parallel import context_parallel_chunk_gated_delta_rule as cp  # noqa: E402

# Measured max |o - o_single| / max |o_single| (and the same for the final
# state): up to 1.2e-6 with realistic keys (correlation 0.3); bound 1e-5.
TOLERANCE = 1e-5
DEADLINE_S = 300  # whole spawn, including each process's kernel compilations
B, H, HV, K, V, CHUNK = 2, 2, 4, 32, 16, 16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def relative(x, ref):
    return float(np.abs(x - ref).max() / np.abs(ref).max())


def sequence(seed, tokens, dist_name="realistic"):
    """Full-sequence inputs, the same on every rank (same seed)."""
    return inputs.gated_delta_rule_inputs(np.random.default_rng(seed), B, tokens, H, HV, K, V, dist_name)


def check_case(rank, lengths, seed, exchange, with_h0, l2norm, output_final_state=True):
    q, k, v, g, beta, h0 = sequence(seed, sum(lengths))
    if l2norm:  # un-normalised q, k: the kernel normalises them
        q, k = 3 * q, 3 * k
    # The single-process op, computed once (rank 0) and broadcast: one
    # compilation instead of one per rank.
    o_ref, h_ref = torch.empty(v.shape), torch.empty(h0.shape)
    if rank == 0:
        o, h = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0 if with_h0 else None, chunk_size=CHUNK,
                                               use_qk_l2norm=l2norm)
        o_ref, h_ref = torch.from_numpy(o), torch.from_numpy(h)
    dist.broadcast(o_ref, 0)
    dist.broadcast(h_ref, 0)
    o_ref, h_ref = o_ref.numpy(), h_ref.numpy()
    start = sum(lengths[:rank])
    mine = [torch.from_numpy(np.ascontiguousarray(x[:, start:start + lengths[rank]])) for x in (q, k, v, g, beta)]
    state = torch.from_numpy(h0) if with_h0 and rank == 0 else None
    o, h = cp(*mine, initial_state=state, output_final_state=output_final_state, use_qk_l2norm_in_kernel=l2norm,
              chunk_size=CHUNK, exchange=exchange)
    label = f"rank {rank} lengths {lengths} {exchange} h0={with_h0} l2norm={l2norm}"
    assert o.shape == (B, lengths[rank], HV, V) and o.dtype == torch.float32, label
    if lengths[rank]:
        err = relative(o.numpy(), o_ref[:, start:start + lengths[rank]])
        assert err <= TOLERANCE, f"{label}: output error {err:.2e}"
    if output_final_state:
        err = relative(h.numpy(), h_ref)
        assert err <= TOLERANCE, f"{label}: final state error {err:.2e}"
    else:
        assert h is None


def expect_error(fn, *fragments):
    with pytest.raises(ValueError) as info:
        fn()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def bad_inputs(rank, world):
    q, k, v, g, beta, h0 = (torch.from_numpy(x) for x in sequence(9, 20))
    # Another K on rank 1 only: every rank raises, naming rank 1 and K.
    kq = torch.zeros(B, 20, H, 2 * K) if rank == 1 else None
    expect_error(lambda: cp(kq if rank == 1 else q, kq if rank == 1 else k, v, g, beta, chunk_size=CHUNK),
                 "rank 1 has K = 64 but rank 0 has K = 32")
    # Another HV on the last rank.
    if rank == world - 1:
        v2, g2, b2 = v[:, :, :2], g[:, :, :2], beta[:, :, :2]
    else:
        v2, g2, b2 = v, g, beta
    expect_error(lambda: cp(q, k, v2, g2, b2, chunk_size=CHUNK), f"rank {world - 1} has HV = 2 but rank 0 has HV = 4")
    # A rank-local error (a bad shape on rank 0) reaches every rank.
    expect_error(lambda: cp(q[:, :, :, :3] if rank == 0 else q, k, v, g, beta, chunk_size=CHUNK),
                 f"rank 0 of {world}: k must have shape")
    # initial_state on a rank other than 0.
    expect_error(lambda: cp(q, k, v, g, beta, initial_state=h0, chunk_size=CHUNK),
                 "only rank 0 (the first slice) may pass one")
    # A group of one (every rank creates it; rank 0 is its member).
    solo = dist.new_group([0])
    if rank == 0:
        expect_error(lambda: cp(q, k, v, g, beta, group=solo), "group of one")
    else:
        expect_error(lambda: cp(q, k, v, g, beta, group=solo), "not a member")


def worker(rank, world, port, cases):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=120))
    try:
        for case in cases:
            check_case(rank, *case)
        bad_inputs(rank, world)
        # The group still works after the errors.
        check_case(rank, *cases[0])
        dist.barrier()
    finally:
        dist.destroy_process_group()


def spawn(world, cases):
    port = free_port()
    context = mp.spawn(worker, args=(world, port, cases), nprocs=world, join=False)
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not context.join(timeout=5):
            if time.monotonic() > deadline:
                pytest.fail(f"{world} ranks did not finish within {DEADLINE_S} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()


# Cases share shapes where they can: kernels are compiled per shape in every
# process, which dominates the test's time.
def test_two_ranks():
    spawn(2, [
        # (lengths, seed, exchange, with_h0, l2norm[, output_final_state])
        ((5, 132), 1, "allgather", True, True),  # rank 0 shorter than a chunk
        ((5, 132), 2, "scan", True, True),
        ((5, 132), 3, "scan", False, True, False),
    ])


def test_three_ranks():
    spawn(3, [
        ((61, 5, 37), 4, "allgather", True, False),  # a middle slice shorter than a chunk
        ((61, 5, 37), 5, "scan", True, False),
        ((61, 0, 37), 6, "allgather", False, False),  # an empty slice
    ])


# ---- the CUDA-tensor path's exchange, without a GPU
#
# context_parallel_chunk_gated_delta_rule sends CUDA tensors to
# _context_parallel_gpu: registered AOT kernels, the exchange on device
# tensors, float64 folds. Here its kernels are stand-ins computing with
# deltanet's CPU ops on the same tensors (written into the destination
# arguments, as the AOT entry points do), so the device path's bookkeeping
# (entry states, the float64 fold and scan, empty slices, rank 0's exit
# state) is checked against the single-process op on gloo; the kernels
# themselves are checked on the H200 (bench/gpu/cp_bench.py).

def _stand_in_kernels(q, k, v, g, beta, scale, use_qk_l2norm, chunk_size, rank):
    if q.shape[1] == 0:
        return None, None

    def chunk(q, k, v, g, beta, h0, o, ht):
        o_, h_ = deltanet.chunk_gated_delta_rule(*(x.numpy() for x in (q, k, v, g, beta)), initial_state=h0.numpy(),
                                                 chunk_size=chunk_size, scale=scale, use_qk_l2norm=use_qk_l2norm)
        o.copy_(torch.from_numpy(o_))
        ht.copy_(torch.from_numpy(h_))

    def summary(k, v, g, beta, m, u):
        m_, u_ = deltanet.gated_delta_rule_summary(*(x.numpy() for x in (k, v, g, beta)), chunk_size=chunk_size,
                                                   use_qk_l2norm=use_qk_l2norm)
        m.copy_(torch.from_numpy(m_))
        u.copy_(torch.from_numpy(u_))

    return (summary if rank > 0 else None), chunk


def device_path_worker(rank, world, port, cases):
    import deltanet.context_parallel as module

    local_check = module._local_check

    def as_device(*args):
        error, meta = local_check(*args)
        if error is None:
            meta["device"] = "cuda"  # take the CUDA-tensor path with CPU tensors
        return error, meta

    module._local_check, module._gpu_kernels = as_device, _stand_in_kernels
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=120))
    try:
        for case in cases:
            check_case(rank, *case)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def test_three_ranks_device_path():
    port = free_port()
    cases = [((61, 0, 37), 7, "allgather", True, False), ((61, 5, 37), 8, "scan", True, False)]
    context = mp.spawn(device_path_worker, args=(3, port, cases), nprocs=3, join=False)
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not context.join(timeout=5):
            if time.monotonic() > deadline:
                pytest.fail(f"3 ranks did not finish within {DEADLINE_S} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
