"""The op functions with target="gpu": torch CUDA tensors in, CUDA tensors out (JIT through the GPU pipeline).

Each call builds a destination-passing program for the operands' shapes and
dtypes (memref arguments: inputs, then the outputs it writes), compiles it
once per shape, dtype and options (deltanet.kernel_cache, target "gpu") and
launches it on torch's current stream. The outputs are allocated with torch
on the operands' device. NumPy arrays are rejected (host memory: move them
with torch.from_numpy(a).cuda()); bf16 is taken as is (no NumPy detour).
"""

from . import _kernels

_ELEMENTS = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}


def _torch():
    import torch

    return torch


def check_device_tensor(x, name, dtypes=("float32", "float16", "bfloat16"), rank=None, layout=""):
    """`x` as a contiguous CUDA tensor; TypeError/ValueError naming `name` otherwise."""
    try:
        torch = _torch()
    except ImportError:  # then nothing can be a torch tensor: the same TypeError
        torch = None
    if torch is None or not isinstance(x, torch.Tensor):
        kind = "a NumPy array (host memory)" if type(x).__name__ == "ndarray" else type(x).__name__
        missing = "" if torch is not None else " (torch is not installed)"
        raise TypeError(f"{name} is {kind}: target='gpu' takes torch CUDA tensors "
                        f"(e.g. torch.from_numpy(a).cuda()){missing}")
    if x.device.type != "cuda":
        raise TypeError(f"{name} is on {x.device}: target='gpu' takes CUDA tensors")
    dtype = str(x.dtype).replace("torch.", "")
    if dtype not in dtypes:
        raise TypeError(f"{name} must be one of {', '.join(dtypes)}, got {dtype}")
    if rank is not None and x.dim() != rank:
        raise ValueError(f"{name} must have rank {rank} {layout}, got shape {tuple(x.shape)}")
    return x.detach().contiguous()


def _memref(shape, dtype):
    return "memref<" + "".join(f"{d}x" for d in shape) + _ELEMENTS[str(dtype).replace("torch.", "")] + ">"


def destination_source(name, op_text, inputs, outputs):
    """func.func @name(inputs..., outputs...) applying `op_text` (`%r0, ... = deltanet.op %in0, ...`)."""
    args = [(f"in{i}", _memref(s, d)) for i, (s, d) in enumerate(inputs)]
    outs = [(f"out{i}", _memref(s, d)) for i, (s, d) in enumerate(outputs)]
    lines = [f"func.func @{name}(" + ", ".join(f"%{n}: {t}" for n, t in args + outs)
             + ") attributes {llvm.emit_c_interface} {"]
    for n, t in args:
        lines.append(f"  %{n}_t = bufferization.to_tensor %{n} restrict : {t} to tensor<{t[7:-1]}>")
    ins = ", ".join(f"%{n}_t" for n, _ in args)
    in_types = ", ".join(f"tensor<{t[7:-1]}>" for _, t in args)
    out_types = ", ".join(f"tensor<{t[7:-1]}>" for _, t in outs)
    results = ", ".join(f"%r{i}" for i in range(len(outs)))
    lines.append(f"  {results} = {op_text.format(ins=ins)} : ({in_types}) -> ({out_types})")
    for i, (n, t) in enumerate(outs):
        lines.append(f"  bufferization.materialize_in_destination %r{i} in restrict writable %{n} : "
                     f"(tensor<{t[7:-1]}>, {t}) -> ()")
    lines += ["  return", "}", ""]
    return "\n".join(lines)


def run(name, op_text, inputs, output_specs, options, argument_of_option, what):
    """Compiles (cached) and launches; returns the output tensors."""
    torch = _torch()
    device = inputs[0].device
    source = destination_source(name, op_text, [(tuple(x.shape), x.dtype) for x in inputs], output_specs)
    kernel = _kernels.compile_cached(source, name, options, argument_of_option, what, "gpu")
    outputs = [torch.empty(s, dtype=d, device=device) for s, d in output_specs]
    kernel(*inputs, *outputs)
    return outputs


def tri_inv(a, options, argument_of_option):
    a = check_device_tensor(a, "a", ("float32", "float16", "bfloat16"))  # before torch: its TypeError without torch
    torch = _torch()
    if a.dim() < 2 or a.shape[-1] != a.shape[-2] or a.shape[-1] == 0:
        raise ValueError(f"a must hold square matrices [..., C, C] with C >= 1, got shape {tuple(a.shape)}")
    c = a.shape[-1]
    batch = a.numel() // (c * c)
    if batch == 0:
        return torch.empty_like(a)
    flat = a.reshape(batch, c, c)
    (x,) = run("tri_inv", "deltanet.tri_inv {ins}", [flat], [((batch, c, c), a.dtype)], options, argument_of_option,
               f"deltanet.tri_inv(a of shape {tuple(a.shape)}, {a.dtype}, target='gpu')")
    return x.reshape(a.shape)


def gated_delta_rule(op, q, k, v, g, beta, initial_state, attributes, options, argument_of_option):
    q = check_device_tensor(q, "q", rank=4, layout="[B, T, H, K]")  # before torch: its TypeError without torch
    torch = _torch()
    k = check_device_tensor(k, "k", (str(q.dtype)[6:],), 4, "[B, T, H, K]")
    v = check_device_tensor(v, "v", (str(q.dtype)[6:],), 4, "[B, T, HV, V]")
    batch, tokens, heads, key_dim = q.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    if tuple(k.shape) != tuple(q.shape) or v.shape[:2] != q.shape[:2]:
        raise ValueError(f"k must have q's shape {tuple(q.shape)} and v [B, T, HV, V] with q's B, T; got "
                         f"k {tuple(k.shape)}, v {tuple(v.shape)}")
    side = tuple(dict.fromkeys(("float32", str(q.dtype)[6:])))
    g = check_device_tensor(g, "g", side, 3, "[B, T, HV]")
    beta = check_device_tensor(beta, "beta", side, 3, "[B, T, HV]")
    for name, x in (("g", g), ("beta", beta)):
        if tuple(x.shape) != (batch, tokens, value_heads):
            raise ValueError(f"{name} must have shape {(batch, tokens, value_heads)} [B, T, HV], got {tuple(x.shape)}")
    if min(heads, key_dim, value_heads, value_dim) == 0 or value_heads % heads:
        raise ValueError(f"H = {heads}, HV = {value_heads}, K = {key_dim}, V = {value_dim}: need >= 1 and HV a "
                         f"multiple of H")
    state = (batch, value_heads, key_dim, value_dim)
    if initial_state is None:
        initial_state = torch.zeros(state, dtype=torch.float32, device=q.device)
    initial_state = check_device_tensor(initial_state, "initial_state", side, 4, "[B, HV, K, V]")
    if tuple(initial_state.shape) != state:
        raise ValueError(f"initial_state must have shape {state} [B, HV, K, V], got {tuple(initial_state.shape)}")
    if batch == 0 or tokens == 0:
        return torch.zeros_like(v), initial_state.clone()
    attrs = f" {{{', '.join(attributes)}}}" if attributes else ""
    o, ht = run("gdr", f"deltanet.{op} {{ins}}{attrs}", [q, k, v, g, beta, initial_state],
                [(tuple(v.shape), v.dtype), (state, initial_state.dtype)], options, argument_of_option,
                f"deltanet.{op}(q {tuple(q.shape)} {q.dtype}, target='gpu')")
    return o, ht


def summary(k, v, g, beta, attributes, options, argument_of_option):
    k = check_device_tensor(k, "k", rank=4, layout="[B, T, H, K]")  # before torch: its TypeError without torch
    torch = _torch()
    v = check_device_tensor(v, "v", (str(k.dtype)[6:],), 4, "[B, T, HV, V]")
    batch, tokens, heads, key_dim = k.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    side = tuple(dict.fromkeys(("float32", str(k.dtype)[6:])))
    g = check_device_tensor(g, "g", side, 3, "[B, T, HV]")
    beta = check_device_tensor(beta, "beta", side, 3, "[B, T, HV]")
    for name, x in (("v", v.shape[:2]), ("g", g.shape), ("beta", beta.shape)):
        want = (batch, tokens) if name == "v" else (batch, tokens, value_heads)
        if tuple(x) != want:
            raise ValueError(f"{name} does not match k [B, T, H, K] = {tuple(k.shape)}: got {tuple(x)}")
    if min(heads, key_dim, value_heads, value_dim) == 0 or value_heads % heads:
        raise ValueError(f"H = {heads}, HV = {value_heads}, K = {key_dim}, V = {value_dim}: need >= 1 and HV a "
                         f"multiple of H")
    f32 = dict(dtype=torch.float32, device=k.device)
    if batch == 0 or tokens == 0:
        m = torch.eye(key_dim, **f32).expand(batch, value_heads, key_dim, key_dim).contiguous()
        return m, torch.zeros(batch, value_heads, key_dim, value_dim, **f32)
    attrs = f" {{{', '.join(attributes)}}}" if attributes else ""
    m, u = run("summary", f"deltanet.gated_delta_rule_summary {{ins}}{attrs}", [k, v, g, beta],
               [((batch, value_heads, key_dim, key_dim), torch.float32),
                ((batch, value_heads, key_dim, value_dim), torch.float32)], options, argument_of_option,
               f"deltanet.gated_delta_rule_summary(k {tuple(k.shape)} {k.dtype}, target='gpu')")
    return m, u
