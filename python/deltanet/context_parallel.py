"""Context parallelism: one sequence split along T across torch.distributed ranks.

context_parallel_chunk_gated_delta_rule(q, k, v, g, beta, ...) is called by
every rank of a process group with its consecutive slice of the sequence
(rank order = token order). Per batch and value head, the state leaving a
slice is an affine map of the state entering it, h_out = M h_in + U
(deltanet.gated_delta_rule_summary). Each rank computes its summary (rank 0,
whose entry state is known, runs its slice directly and contributes its exit
state), the summaries are exchanged (K^2 + K V floats per head and rank,
independent of T), each rank folds the summaries of the ranks before it into
its entry state and runs its slice from there. The exchange goes through
torch.distributed collectives (gloo on CPUs): an all-gather (default) or a
log-depth scan of point-to-point messages; docs/ContextParallel.md compares
them.

CPU tensors run deltanet's CPU kernels (float32, float16 or bfloat16,
computed in float32; JIT-compiled, needs the compiled extension). CUDA
tensors run GPU kernels built ahead of time (shape-static: the rank's
gated_delta_rule_summary and chunk_gated_delta_rule with an initial state,
registered with deltanet.gpu.load(path, register_kernels=True)), the
exchange goes through the group's backend (NCCL) on CUDA tensors, and the
summaries are folded in float64 on the device; this path needs no MLIR.
Forward only: no autograd.
"""

import struct
import time

import numpy as np

EXCHANGES = ("allgather", "scan")

__all__ = ["EXCHANGES", "context_parallel_chunk_gated_delta_rule"]


def _torch():
    import torch
    import torch.distributed as dist

    return torch, dist


def _describe(x):
    """Shape and dtype of a tensor argument, or None if it is not a tensor."""
    torch, _ = _torch()
    if not isinstance(x, torch.Tensor):
        return None
    return tuple(x.shape), str(x.dtype).replace("torch.", ""), x.device.type


def _local_check(q, k, v, g, beta, initial_state, rank):
    """Rank-local checks; returns (error or None, metadata shared with the other ranks)."""
    torch, _ = _torch()
    names = ("q", "k", "v", "g", "beta")
    meta = {"shapes": {}, "has_initial_state": initial_state is not None}
    for name, x in zip(names, (q, k, v, g, beta)):
        desc = _describe(x)
        if desc is None:
            return f"{name} must be a torch.Tensor, got {type(x).__name__}", meta
        meta["shapes"][name] = desc
    ranks = {"q": 4, "k": 4, "v": 4, "g": 3, "beta": 3}
    for name, x in zip(names, (q, k, v, g, beta)):
        if x.dim() != ranks[name]:
            layout = {"q": "[B, T, H, K]", "k": "[B, T, H, K]", "v": "[B, T, HV, V]"}.get(name, "[B, T, HV]")
            return f"{name} must have rank {ranks[name]} {layout}, got shape {tuple(x.shape)}", meta
        if x.device != q.device:
            return f"{name} is on {x.device} but q is on {q.device}", meta
    if q.device.type not in ("cpu", "cuda"):
        return f"q is on {q.device}: deltanet runs on CPU tensors or CUDA tensors", meta
    meta["device"] = q.device.type
    if q.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        return f"q must be float32, float16 or bfloat16, got {q.dtype}", meta
    for name, x in (("k", k), ("v", v)):
        if x.dtype != q.dtype:
            return f"{name} must have q's dtype {q.dtype}, got {x.dtype}", meta
    for name, x in (("g", g), ("beta", beta)):
        if x.dtype not in (torch.float32, q.dtype):
            return f"{name} must be float32 or q's dtype {q.dtype}, got {x.dtype}", meta
    batch, tokens, heads, key_dim = q.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    expected = {"k": (batch, tokens, heads, key_dim), "v": (batch, tokens, value_heads, value_dim),
                "g": (batch, tokens, value_heads), "beta": (batch, tokens, value_heads)}
    for name, x in (("k", k), ("v", v), ("g", g), ("beta", beta)):
        if tuple(x.shape) != expected[name]:
            return f"{name} must have shape {expected[name]} (from q and v), got {tuple(x.shape)}", meta
    if min(heads, key_dim, value_heads, value_dim) == 0 or value_heads % heads:
        return f"H = {heads}, HV = {value_heads}, K = {key_dim}, V = {value_dim}: need >= 1 and HV a multiple of H", meta
    if initial_state is not None:
        if rank != 0:
            return ("initial_state is the sequence's: only rank 0 (the first slice) may pass one, "
                    "the other ranks pass None"), meta
        desc = _describe(initial_state)
        state_shape = (batch, value_heads, key_dim, value_dim)
        if desc is None or desc[0] != state_shape or initial_state.device != q.device:
            return (f"initial_state must be a tensor on {q.device} of shape {state_shape} [B, HV, K, V], "
                    f"got {desc}"), meta
        if initial_state.dtype not in (torch.float32, q.dtype):
            return f"initial_state must be float32 or q's dtype {q.dtype}, got {initial_state.dtype}", meta
    meta["dims"] = {"B": batch, "H": heads, "HV": value_heads, "K": key_dim, "V": value_dim}
    meta["T"] = tokens
    meta["dtype"] = str(q.dtype)
    return None, meta


def _agreement_error(metas, options):
    """The first disagreement between ranks (dims, dtype, options), as a message, or None."""
    first = metas[0]
    for rank, meta in enumerate(metas[1:], start=1):
        for name in ("B", "H", "HV", "K", "V"):
            if meta["dims"][name] != first["dims"][name]:
                return (f"rank {rank} has {name} = {meta['dims'][name]} but rank 0 has {name} = "
                        f"{first['dims'][name]} (every rank passes the same B, H, HV, K, V; only T may differ)")
        if meta["dtype"] != first["dtype"]:
            return f"rank {rank} has dtype {meta['dtype']} but rank 0 has {first['dtype']}"
        if meta["device"] != first["device"]:
            return f"rank {rank} passes {meta['device']} tensors but rank 0 passes {first['device']} tensors"
        if meta["options"] != options:
            return f"rank {rank} passes options {meta['options']} but rank 0 passes {options}"
    return None


def _to_numpy(x):
    torch, _ = _torch()
    x = x.detach()
    if x.dtype == torch.bfloat16:  # NumPy has no bfloat16: widened exactly
        x = x.float()
    return np.ascontiguousarray(x.numpy())


def _send_recv(dist, tensors, dst, src, group):
    """Sends `tensors` to group rank `dst` and receives as many from `src` (None: skip)."""
    requests, received = [], []
    if dst is not None:
        peer = dist.get_global_rank(group, dst) if group is not None else dst
        requests += [dist.isend(t.contiguous(), peer, group=group) for t in tensors]
    if src is not None:
        peer = dist.get_global_rank(group, src) if group is not None else src
        received = [t.new_empty(t.shape) for t in tensors]
        requests += [dist.irecv(t, peer, group=group) for t in received]
    for request in requests:
        request.wait()
    return received


def context_parallel_chunk_gated_delta_rule(q, k, v, g, beta, scale=None, initial_state=None,
                                            output_final_state=False, use_qk_l2norm_in_kernel=False, group=None,
                                            chunk_size=64, exchange="allgather", timings=None):
    """Gated DeltaNet attention of one sequence split along T across the ranks of `group`.

    Every rank of `group` (default: the world group) calls this with its
    consecutive slice of the sequence, ranks in token order: q, k
    [B, T_r, H, K]; v [B, T_r, HV, V]; g (log decay), beta [B, T_r, HV]
    (flash-linear-attention layouts). T_r may differ between ranks (and be
    shorter than a chunk, or 0); B, H, HV, K, V, the dtype and the options
    must agree. initial_state [B, HV, K, V] is the sequence's: rank 0 passes
    it (or None for zeros), the other ranks pass None. Returns
    (o [B, T_r, HV, V] with v's dtype, final_state): final_state
    [B, HV, K, V] float32 is the state after the whole sequence, the same on
    every rank, when output_final_state is set, else None. Equal to
    chunk_gated_delta_rule on the whole sequence up to float32 rounding.

    scale defaults to K^-1/2; use_qk_l2norm_in_kernel L2-normalises q and k
    first. exchange: "allgather" (one all-gather of every rank's summary) or
    "scan" (log2(ranks) rounds of point-to-point messages, then a broadcast
    of the final state). A group of one rank, inputs that do not agree
    across ranks, or an invalid input on any rank raise ValueError on every
    rank of the group (after one metadata exchange, so none is left
    waiting); the group's collectives are then still usable.

    CUDA tensors: every rank's slice runs GPU kernels registered with
    deltanet.gpu (a missing kernel is reported on every rank, naming the
    shape to build); the exchange is on the device. timings: a dict to
    fill with this rank's phases (local_ms: its summary, or rank 0's chunk
    op; exchange_ms; replay_ms; bytes_sent by this rank), measured with
    device synchronisations between the phases (only when asked).
    """
    torch, dist = _torch()
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("context_parallel_chunk_gated_delta_rule needs torch.distributed to be initialised "
                           "(torch.distributed.init_process_group)")
    rank = dist.get_rank(group)
    if rank < 0:
        raise ValueError("this process is not a member of `group`: only the group's ranks call "
                         "context_parallel_chunk_gated_delta_rule")
    world = dist.get_world_size(group)
    if world < 2:
        raise ValueError("context_parallel_chunk_gated_delta_rule needs a group of at least 2 ranks, got a group "
                         "of one: call deltanet.chunk_gated_delta_rule on the whole sequence instead")

    # One exchange of metadata: every rank learns every rank's error, so all
    # raise the same message together (no rank is left in a collective).
    options = {"scale": None if scale is None else struct.unpack("<I", struct.pack("<f", float(scale)))[0],
               "l2norm": bool(use_qk_l2norm_in_kernel), "chunk_size": chunk_size, "exchange": exchange,
               "output_final_state": bool(output_final_state)}
    try:
        error, meta = _local_check(q, k, v, g, beta, initial_state, rank)
        if error is None and exchange not in EXCHANGES:
            error = f"exchange must be one of {', '.join(map(repr, EXCHANGES))}, got {exchange!r}"
        if error is None and meta["device"] == "cuda":
            try:
                _gpu_kernels(q, k, v, g, beta, scale, use_qk_l2norm_in_kernel, chunk_size, rank)
            except LookupError as exc:
                error = str(exc)
    except Exception as exc:  # a malformed argument must not leave the other ranks waiting
        error, meta = f"{type(exc).__name__}: {exc}", {}
    meta["error"], meta["options"] = error, options
    metas = [None] * world
    dist.all_gather_object(metas, meta, group=group)
    for other, other_meta in enumerate(metas):
        if other_meta["error"] is not None:
            raise ValueError(f"context_parallel_chunk_gated_delta_rule: rank {other} of {world}: "
                             f"{other_meta['error']}")
    disagreement = _agreement_error(metas, options)
    if disagreement is not None:
        raise ValueError(f"context_parallel_chunk_gated_delta_rule: {disagreement}")

    dims = meta["dims"]
    if meta["device"] == "cuda":
        return _context_parallel_gpu(q, k, v, g, beta, scale, initial_state, output_final_state,
                                     use_qk_l2norm_in_kernel, group, chunk_size, exchange, timings, rank, world,
                                     metas)
    from ._api import chunk_gated_delta_rule
    from ._summary import apply_summary, compose_summaries, gated_delta_rule_summary

    batch, value_heads, key_dim, value_dim = dims["B"], dims["HV"], dims["K"], dims["V"]
    arrays = [_to_numpy(x) for x in (q, k, v, g, beta)]
    kwargs = dict(chunk_size=chunk_size)

    # Phase 1: rank 0 runs its slice (its exit state is the constant map
    # (0, h_exit)); the others summarise theirs.
    if rank == 0:
        h0 = None if initial_state is None else _to_numpy(initial_state).astype(np.float32)
        o, h_exit = chunk_gated_delta_rule(*arrays, initial_state=h0, scale=scale,
                                           use_qk_l2norm=use_qk_l2norm_in_kernel, **kwargs)
        m = np.zeros((batch, value_heads, key_dim, key_dim), dtype=np.float32)
        summary = (m, h_exit.astype(np.float32))
    else:
        o = None
        summary = gated_delta_rule_summary(*arrays[1:], use_qk_l2norm=use_qk_l2norm_in_kernel, **kwargs)

    # Exchange: the entry state of this rank and the final state.
    final_state = None
    if exchange == "allgather":
        payload = torch.from_numpy(np.concatenate([summary[0], summary[1]], axis=-1))
        gathered = [torch.empty_like(payload) for _ in range(world)]
        dist.all_gather(gathered, payload, group=group)
        parts = [(x[..., :key_dim].numpy(), x[..., key_dim:].numpy()) for x in gathered]
        state = parts[0][1]
        for other in range(1, world):
            if other == rank:
                entry = state
            state = apply_summary(parts[other], state)
        final_state = state
        if rank == 0:
            entry = None
    else:
        # Hillis-Steele inclusive scan: after round d, rank r holds the
        # composition of ranks max(0, r - 2^(d+1) + 1) .. r.
        prefix = summary
        step = 1
        while step < world:
            payload = [torch.from_numpy(np.ascontiguousarray(x)) for x in prefix]
            received = _send_recv(dist, payload, rank + step if rank + step < world else None,
                                  rank - step if rank >= step else None, group)
            if received:
                prefix = compose_summaries(tuple(x.numpy() for x in received), prefix)
            step *= 2
        # Rank r's entry state is rank r-1's inclusive prefix (its u part,
        # since rank 0's map is constant).
        received = _send_recv(dist, [torch.from_numpy(np.ascontiguousarray(prefix[1]))],
                              rank + 1 if rank + 1 < world else None, rank - 1 if rank > 0 else None, group)
        entry = received[0].numpy() if received else None
        if output_final_state:
            last = torch.from_numpy(np.ascontiguousarray(prefix[1]))
            dist.broadcast(last, dist.get_global_rank(group, world - 1) if group is not None else world - 1,
                           group=group)
            final_state = last.numpy()

    # Phase 2: every rank after the first runs its slice from its entry state.
    if rank > 0:
        o, _ = chunk_gated_delta_rule(*arrays, initial_state=np.ascontiguousarray(entry, dtype=np.float32),
                                      scale=scale, use_qk_l2norm=use_qk_l2norm_in_kernel, **kwargs)
    o = torch.from_numpy(o).to(v.dtype)
    if not output_final_state:
        return o, None
    return o, torch.from_numpy(np.ascontiguousarray(final_state, dtype=np.float32))


# ---------------------------------------------------------------- CUDA tensors

_GPU_ELEMENTS = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}


def _gpu_kernels(q, k, v, g, beta, scale, use_qk_l2norm, chunk_size, rank):
    """The registered GPU entry points this rank needs: (summary or None, chunk op or None)."""
    from . import gpu

    batch, tokens, heads, key_dim = q.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    if tokens == 0:
        return None, None
    el = lambda x: _GPU_ELEMENTS[str(x.dtype).replace("torch.", "")]  # noqa: E731
    state = ((batch, value_heads, key_dim, value_dim), "f32")
    inputs = [(tuple(x.shape), el(x)) for x in (q, k, v, g, beta)]
    attrs = dict(chunk_size=chunk_size, scale=key_dim ** -0.5 if scale is None else float(scale),
                 use_qk_l2norm=bool(use_qk_l2norm))
    chunk = gpu.find("chunk_gated_delta_rule", inputs + [state, (tuple(v.shape), el(v)), state],
                     defaults={"scale": key_dim ** -0.5}, **attrs)
    summary = None
    if rank > 0:
        summary = gpu.find("gated_delta_rule_summary",
                           inputs[1:] + [((batch, value_heads, key_dim, key_dim), "f32"), state],
                           chunk_size=chunk_size, use_qk_l2norm=bool(use_qk_l2norm))
    return summary, chunk


def _context_parallel_gpu(q, k, v, g, beta, scale, initial_state, output_final_state, use_qk_l2norm, group,
                          chunk_size, exchange, timings, rank, world, metas):
    torch, dist = _torch()
    summary_kernel, chunk_kernel = _gpu_kernels(q, k, v, g, beta, scale, use_qk_l2norm, chunk_size, rank)
    batch, tokens, _, key_dim = q.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    device = q.device
    q, k, v, g, beta = (x.detach().contiguous() for x in (q, k, v, g, beta))
    f32 = dict(dtype=torch.float32, device=device)
    clock = [time.perf_counter()]

    def phase(name):
        if timings is not None:
            torch.cuda.synchronize(device)
            now = time.perf_counter()
            timings[name] = 1e3 * (now - clock[0])
            clock[0] = now

    phase("start")
    # Phase 1: rank 0 runs its slice (constant map (0, h_exit)); the others
    # summarise theirs. Summaries are exchanged and folded in float64.
    o = None
    if rank == 0:
        h0 = (torch.zeros(batch, value_heads, key_dim, value_dim, **f32) if initial_state is None
              else initial_state.detach().to(torch.float32).contiguous())
        if chunk_kernel is None:
            h_exit, o = h0.clone(), torch.empty_like(v)
        else:
            o = torch.empty_like(v)
            h_exit = torch.empty(batch, value_heads, key_dim, value_dim, **f32)
            chunk_kernel(q, k, v, g, beta, h0, o, h_exit)
        m = torch.zeros(batch, value_heads, key_dim, key_dim, **f32)
        u = h_exit
    elif summary_kernel is None:  # an empty slice: the identity map
        m = torch.eye(key_dim, **f32).expand(batch, value_heads, key_dim, key_dim).contiguous()
        u = torch.zeros(batch, value_heads, key_dim, value_dim, **f32)
    else:
        m = torch.empty(batch, value_heads, key_dim, key_dim, **f32)
        u = torch.empty(batch, value_heads, key_dim, value_dim, **f32)
        summary_kernel(k, v, g, beta, m, u)
    phase("local_ms")

    final_state = entry = None
    if exchange == "allgather":
        payload = torch.cat([m, u], dim=-1)
        gathered = [torch.empty_like(payload) for _ in range(world)]
        dist.all_gather(gathered, payload, group=group)
        sent = payload.numel() * payload.element_size()
        state = gathered[0][..., key_dim:].double()
        for other in range(1, world):
            if other == rank:
                entry = state
            part = gathered[other].double()
            state = part[..., :key_dim] @ state + part[..., key_dim:]
        final_state = state
    else:
        # Hillis-Steele inclusive scan, as on the CPU (float64 prefixes).
        prefix = (m.double(), u.double())
        sent, step = 0, 1
        while step < world:
            payload = [x.contiguous() for x in prefix]
            dst = rank + step if rank + step < world else None
            received = _send_recv(dist, payload, dst, rank - step if rank >= step else None, group)
            sent += sum(x.numel() * x.element_size() for x in payload) if dst is not None else 0
            if received:
                m1, u1 = received
                prefix = (prefix[0] @ m1, prefix[0] @ u1 + prefix[1])
            step *= 2
        dst = rank + 1 if rank + 1 < world else None
        received = _send_recv(dist, [prefix[1].contiguous()], dst, rank - 1 if rank > 0 else None, group)
        sent += prefix[1].numel() * 8 if dst is not None else 0
        entry = received[0] if received else None
        if output_final_state:
            last = prefix[1].contiguous()
            root = dist.get_global_rank(group, world - 1) if group is not None else world - 1
            dist.broadcast(last, root, group=group)
            sent += last.numel() * 8 if rank == world - 1 else 0
            final_state = last
    phase("exchange_ms")

    # Phase 2: every rank after the first runs its slice from its entry state.
    if rank > 0:
        o = torch.empty_like(v)
        if chunk_kernel is not None:
            scratch = torch.empty(batch, value_heads, key_dim, value_dim, **f32)
            chunk_kernel(q, k, v, g, beta, entry.to(torch.float32).contiguous(), o, scratch)
    phase("replay_ms")
    if timings is not None:
        timings.pop("start", None)
        timings["bytes_sent"] = sent
    if not output_final_state:
        return o, None
    return o, final_state.to(torch.float32)
