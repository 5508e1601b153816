"""deltanet.gpu: call GPU kernels of deltanet-mlir on device buffers (pure Python + ctypes).

Ahead-of-time artifacts (scripts/gpu-aot.sh IN.mlir OUT.so writes OUT.so and
its manifest OUT.so.json) run where only the NVIDIA driver exists: no MLIR,
no compiled extension, no CUDA toolkit. This module imports nothing of the
compiled package, so it works there:

    import deltanet.gpu as dg
    art = dg.load("gdr.so")                   # reads gdr.so.json
    art["gdr_large"](q, k, v, g, beta, h0, o, ht)
    dg.register(art)                          # kernels for deltanet.context_parallel

Every entry point is destination-passing: its arguments are memrefs (inputs
first, then the outputs it writes). Arguments are device buffers: torch CUDA
tensors, or objects with `__cuda_array_interface__` (CuPy, Numba, ...),
C-contiguous, of the exact shape and element type of the memref. NumPy
arrays are rejected (host memory; the kernels would read it as device
addresses): copy them to the device first (`torch.from_numpy(a).cuda()`).
An artifact runs on the CUDA device current when it is loaded (its global
constructors load its kernels): select the device first
(torch.cuda.set_device, or CUDA_VISIBLE_DEVICES). The kernels run on torch's
current stream of the buffers' device (or the
stream of `stream=`, a CUstream handle as an int) and are not synchronised:
order and synchronise as for any torch kernel. Without a driver, a call
raises RuntimeError("... no CUDA driver ...") after the arguments are
checked.

deltanet.compile(text, entry, target="gpu") returns the same kind of callable
for a kernel JIT-compiled here (needs the compiled extension and MLIR).

`python3 gpu.py manifest IN.mlir [pipeline options]` prints the manifest of a
program (used by scripts/gpu-aot.sh). Buffers need only their element's
alignment: kernels that use 16-byte accesses check the addresses and fall
back to element-aligned code (`check-global-alignment`, the default); an
artifact built with `check-global-alignment=false` records the alignment it
promises (`promised_alignment`) and the loader rejects less aligned buffers.
"""

import ctypes
import functools
import json
import os
import re
import sys
import threading

__all__ = ["Artifact", "EntryPoint", "MemRefSpec", "find", "load", "manifest", "register", "registered",
           "segment_parallel_chunk_gated_delta_rule"]

# MLIR element type -> (torch dtype name, __cuda_array_interface__ typestrs, bytes)
ELEMENT_TYPES = {
    "f32": ("float32", ("<f4",), 4),
    "f16": ("float16", ("<f2",), 2),
    "bf16": ("bfloat16", (), 2),  # no typestr exists for bfloat16: torch tensors only
    "f64": ("float64", ("<f8",), 8),
    "i32": ("int32", ("<i4",), 4),
    "i64": ("int64", ("<i8",), 8),
    "i8": ("int8", ("|i1", "<i1"), 1),
}


class MemRefSpec:
    """An identity-layout memref parameter: shape (-1: dynamic) and element type."""

    def __init__(self, shape, element, name=None):
        self.shape = tuple(int(d) for d in shape)
        self.element = element
        self.name = name

    @classmethod
    def parse(cls, text, name=None):
        match = re.fullmatch(r"\s*memref<((?:(?:\d+|\?)x)*)(\w+)>\s*", text)
        if not match or match.group(2) not in ELEMENT_TYPES:
            raise ValueError(f"unsupported parameter type {text!r}: identity-layout memrefs of "
                             f"{', '.join(ELEMENT_TYPES)} only")
        dims = [-1 if d == "?" else int(d) for d in match.group(1).split("x") if d]
        return cls(dims, match.group(2), name)

    def text(self):
        return "memref<" + "".join(("?" if d < 0 else str(d)) + "x" for d in self.shape) + self.element + ">"

    def matches(self, shape):
        return len(shape) == len(self.shape) and all(d < 0 or d == s for d, s in zip(self.shape, shape))

    def __repr__(self):
        return (f"%{self.name}: " if self.name else "") + self.text()


# ------------------------------------------------------------------ manifests

_FUNC = re.compile(r"func\.func\s+@([\w.$-]+)\s*\((.*?)\)\s*(?:->[^{]*?)?(attributes\s*\{[^}]*\})?\s*\{", re.S)
_ARG = re.compile(r"%([\w.$-]+)\s*:\s*([^,]+?<[^>]*>)")
_OP = re.compile(r"deltanet\.(\w+)\b([^\n]*)")


def _attributes(text):
    """chunk_size, scale, use_qk_l2norm of a deltanet op's attribute dictionary."""
    attrs = {}
    match = re.search(r"\{([^{}]*)\}", text)
    if not match:
        return attrs
    body = match.group(1)
    m = re.search(r"chunk_size\s*=\s*(\d+)", body)
    if m:
        attrs["chunk_size"] = int(m.group(1))
    m = re.search(r"scale\s*=\s*(0x[0-9A-Fa-f]+|[-+0-9.eE]+)\s*:\s*f32", body)
    if m:
        value = m.group(1)
        if value.lower().startswith("0x"):
            import struct
            value = struct.unpack("<f", struct.pack("<I", int(value, 16)))[0]
        attrs["scale"] = float(value)
    if re.search(r"\buse_qk_l2norm\b", body):
        attrs["use_qk_l2norm"] = True
    return attrs


def promised_alignment(options=()):
    """The byte alignment that kernels built with these `deltanet-gpu-pipeline`
    options assume of the entry points' buffers without checking it: the
    value of `global-alignment` (default 16) if `check-global-alignment=false`,
    else 0 (the generated code checks the addresses and falls back to an
    element-aligned kernel body). `options`: "name=value" strings or one
    space-separated string, as scripts/gpu-aot.sh takes them."""
    if isinstance(options, str):
        options = options.split()
    values = dict(o.split("=", 1) for o in options if "=" in o)
    checked = values.get("check-global-alignment", "true").strip().lower() not in ("false", "0", "off")
    alignment = int(values.get("global-alignment", "16"))
    return 0 if checked else alignment


def manifest(mlir_text, options=()):
    """{"entry_points": {name: {"arguments": [[name, type]], "ops": [[op, attributes]]}},
    "promised_alignment": bytes} of the functions with `llvm.emit_c_interface` in
    `mlir_text` (their C entry points are `_mlir_ciface_<name>`), built with the
    pipeline `options` (promised_alignment: see promised_alignment())."""
    entries = {}
    matches = list(_FUNC.finditer(mlir_text))
    for i, match in enumerate(matches):
        name, args, attrs = match.group(1), match.group(2), match.group(3) or ""
        if "llvm.emit_c_interface" not in attrs:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(mlir_text)
        body = mlir_text[match.end():end]
        arguments = [[n, t.strip()] for n, t in _ARG.findall(args)]
        for arg_name, arg_type in arguments:
            MemRefSpec.parse(arg_type, arg_name)  # fails early on what the loader cannot pass
        ops = [[op, _attributes(rest)] for op, rest in _OP.findall(body)]
        entries[name] = {"arguments": arguments, "ops": ops}
    return {"entry_points": entries, "promised_alignment": promised_alignment(options)}


# ------------------------------------------------------------------ device buffers

class _Buffer:
    __slots__ = ("pointer", "shape", "strides", "element", "device", "stream", "what")


def _torch_module():
    return sys.modules.get("torch")


def _buffer(x, what):
    """Pointer, shape, element strides, element type and device of a device buffer."""
    b = _Buffer()
    b.what = what
    torch = _torch_module()
    if torch is not None and isinstance(x, torch.Tensor):
        if x.device.type != "cuda":
            raise TypeError(f"{what} is a tensor on {x.device}: the GPU kernels take CUDA tensors "
                            f"(x.cuda()), not host memory")
        names = {v[0]: k for k, v in ELEMENT_TYPES.items()}
        dtype = str(x.dtype).replace("torch.", "")
        if dtype not in names:
            raise TypeError(f"{what} has dtype {x.dtype}: not a type the kernels take ({', '.join(names)})")
        b.pointer, b.shape = x.data_ptr(), tuple(x.shape)
        b.strides = tuple(x.stride())
        b.element, b.device = names[dtype], x.device.index
        b.stream = None
        return b
    if hasattr(x, "__cuda_array_interface__"):
        cai = x.__cuda_array_interface__
        typestr = cai["typestr"]
        element = next((k for k, v in ELEMENT_TYPES.items() if typestr in v[1]), None)
        if element is None:
            raise TypeError(f"{what} has typestr {typestr!r}: not a type the kernels take")
        b.pointer, b.shape, b.element = int(cai["data"][0]), tuple(cai["shape"]), element
        size = ELEMENT_TYPES[element][2]
        strides = cai.get("strides")
        if strides is None:
            b.strides = _contiguous_strides(b.shape)
        else:
            if any(s % size for s in strides):
                raise ValueError(f"{what} has strides {strides} (bytes) that are not multiples of its element size")
            b.strides = tuple(s // size for s in strides)
        b.device = None
        b.stream = cai.get("stream")
        return b
    if type(x).__module__ == "numpy" or type(x).__name__ == "ndarray":
        raise TypeError(f"{what} is a NumPy array (host memory): the GPU kernels take device buffers; copy it "
                        f"first, e.g. torch.from_numpy(a).cuda()")
    raise TypeError(f"{what} must be a torch CUDA tensor or have __cuda_array_interface__, got "
                    f"{type(x).__name__}")


def _contiguous_strides(shape):
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= max(d, 1)
    return tuple(reversed(strides))


def _is_contiguous(shape, strides):
    """Row-major dense (the strides of unit dims do not matter)."""
    if 0 in shape:
        return True
    return all(s == c for d, s, c in zip(shape, strides, _contiguous_strides(shape)) if d != 1)


@functools.lru_cache(maxsize=None)  # one class per rank: building a ctypes class per call costs ~10 us
def _memref_struct(rank):
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}", (ctypes.Structure,), {"_fields_": fields})


def _descriptor(b):
    d = _memref_struct(len(b.shape))()
    d.allocated = d.aligned = b.pointer
    d.offset = 0
    for i, (size, stride) in enumerate(zip(b.shape, _contiguous_strides(b.shape))):
        d.sizes[i] = size
        d.strides[i] = stride
    return d


# ------------------------------------------------------------------ libraries

class _Runtime:
    """The mgpu* runtime linked into one artifact (each artifact has its own
    copy: its device, stream and loaded modules)."""

    def __init__(self, lib, path):
        self.lib, self.path = lib, path
        lib.deltanetGpuRuntimeInit.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        lib.deltanetGpuRuntimeInit.restype = ctypes.c_int
        lib.deltanetGpuRuntimeUseStream.argtypes = [ctypes.c_void_p]
        lib.deltanetGpuRuntimeUseOwnStreams.argtypes = []
        lib.deltanetGpuRuntimeDevice.restype = ctypes.c_int
        lib.deltanetGpuRuntimeReleaseCachedMemory.argtypes = []
        self.device = None
        self.lock = threading.Lock()

    def ready(self, device):
        """The runtime's device, initialised; RuntimeError without a driver,
        ValueError if the buffers are on another device."""
        with self.lock:
            if self.device is None:
                message = ctypes.create_string_buffer(512)
                if self.lib.deltanetGpuRuntimeInit(message, 512) != 0:
                    raise RuntimeError(f"{self.path}: {message.value.decode(errors='replace')}")
                self.device = self.lib.deltanetGpuRuntimeDevice()
            if device is not None and device != self.device:
                raise ValueError(f"{self.path} runs on CUDA device {self.device} (the device current when it was "
                                 f"loaded); these buffers are on device {device}: load it after "
                                 f"torch.cuda.set_device({device})")


class EntryPoint:
    """One `_mlir_ciface_<name>` function: callable on device buffers."""

    def __init__(self, runtime, name, arguments, ops=(), function=None, promised_alignment=0):
        self.name = name
        # Built with check-global-alignment=false: the kernels assume this
        # alignment of every buffer without checking it (0: they check).
        self.promised_alignment = int(promised_alignment)
        self.arguments = [MemRefSpec.parse(t, n) for n, t in arguments]
        self.ops = [(op, dict(attrs)) for op, attrs in ops]
        self._runtime = runtime
        if function is None:
            function = getattr(runtime.lib, "_mlir_ciface_" + name)
            function.restype = None
        self._function = function

    def __repr__(self):
        return f"<deltanet.gpu entry point @{self.name}({', '.join(map(repr, self.arguments))})>"

    def check(self, *buffers):
        """Checks the buffers against the signature; returns their descriptions."""
        if len(buffers) != len(self.arguments):
            raise TypeError(f"@{self.name} takes {len(self.arguments)} buffers "
                            f"({', '.join(map(repr, self.arguments))}), got {len(buffers)}")
        described, device = [], None
        for i, (x, spec) in enumerate(zip(buffers, self.arguments)):
            what = f"argument {i} (%{spec.name}) of @{self.name}"
            b = _buffer(x, what)
            if b.element != spec.element:
                raise TypeError(f"{what} must hold {spec.element} ({spec.text()}), got {b.element}")
            if not spec.matches(b.shape):
                raise ValueError(f"{what} must have shape {spec.shape} ({spec.text()}), got {b.shape}")
            if not _is_contiguous(b.shape, b.strides):
                raise ValueError(f"{what} must be C-contiguous (strides {_contiguous_strides(b.shape)} in "
                                 f"elements), got strides {b.strides}: use .contiguous()")
            if b.pointer % ELEMENT_TYPES[b.element][2]:
                raise ValueError(f"{what} is not aligned to its element size")
            if self.promised_alignment and b.pointer % self.promised_alignment:
                raise ValueError(f"{what} is at address {b.pointer:#x}, not a multiple of "
                                 f"{self.promised_alignment} bytes: the kernels were built with "
                                 f"check-global-alignment=false and would fault (pass an aligned buffer, e.g. "
                                 f".clone(), or rebuild without that option)")
            if b.device is not None:
                if device is not None and b.device != device:
                    raise ValueError(f"{what} is on CUDA device {b.device}, the previous ones on {device}")
                device = b.device
            described.append(b)
        return described, device

    def __call__(self, *buffers, stream=None):
        described, device = self.check(*buffers)
        self._runtime.ready(device)
        if stream is None:
            torch = _torch_module()
            if torch is not None and torch.cuda.is_available():
                stream = torch.cuda.current_stream(self._runtime.device).cuda_stream
            else:
                stream = next((b.stream for b in described if b.stream not in (None, 1, 2)), None)
        descriptors = [_descriptor(b) for b in described]
        with self._runtime.lock:
            if stream is None:
                self._runtime.lib.deltanetGpuRuntimeUseOwnStreams()
            else:
                self._runtime.lib.deltanetGpuRuntimeUseStream(ctypes.c_void_p(int(stream)))
            self._function(*[ctypes.c_void_p(ctypes.addressof(d)) for d in descriptors])


_JIT_RUNTIMES = {}


def jit_entry_point(function, runtime_library, promised_alignment=0):
    """An EntryPoint over a function JIT-compiled by deltanet.compile(target="gpu")."""
    if function.result_types:
        raise ValueError(f"@{function.name} returns {', '.join(function.result_types)}: GPU entry points are "
                         f"destination-passing (results written into memref arguments)")
    runtime = _JIT_RUNTIMES.get(runtime_library)
    if runtime is None:
        # The JIT loaded this library (globally): the same copy of the runtime.
        runtime = _JIT_RUNTIMES[runtime_library] = _Runtime(ctypes.CDLL(runtime_library, mode=ctypes.RTLD_GLOBAL),
                                                            runtime_library)
    arguments = [[f"arg{i}", t.replace("tensor<", "memref<", 1) if t.startswith("tensor<") else t]
                 for i, t in enumerate(function.argument_types)]
    prototype = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * len(arguments)))
    entry = EntryPoint(runtime, function.name, arguments, function=prototype(function.c_interface_address),
                       promised_alignment=promised_alignment)
    entry._owner = function  # keeps the JIT (and the code) alive
    return entry


class Artifact:
    """An ahead-of-time GPU library (scripts/gpu-aot.sh) and its entry points."""

    def __init__(self, path, manifest_path=None):
        self.path = os.path.abspath(path)
        manifest_path = manifest_path or self.path + ".json"
        if not os.path.exists(manifest_path):
            raise FileNotFoundError(f"{manifest_path}: no manifest next to {path} (scripts/gpu-aot.sh writes "
                                    f"OUT.so.json; or pass manifest_path=)")
        with open(manifest_path) as f:
            data = json.load(f)
        self._lib = ctypes.CDLL(self.path)
        self._runtime = _Runtime(self._lib, self.path)
        self.entry_points = {}
        promised = data.get("promised_alignment", 0)
        for name, entry in data["entry_points"].items():
            self.entry_points[name] = EntryPoint(self._runtime, name, entry["arguments"], entry.get("ops", ()),
                                                 promised_alignment=promised)

    def __getitem__(self, name):
        try:
            return self.entry_points[name]
        except KeyError:
            raise KeyError(f"{self.path} has no entry point @{name} (it has: "
                           f"{', '.join(sorted(self.entry_points))})") from None

    def release_cached_memory(self):
        """Returns the device memory that freed kernel temporaries keep cached
        (in the device's stream-ordered memory pool, for the next call) to the
        driver: the counterpart of torch.cuda.empty_cache(). No-op without a
        driver."""
        self._lib.deltanetGpuRuntimeReleaseCachedMemory()

    def __repr__(self):
        return f"<deltanet.gpu artifact {self.path}: {', '.join(sorted(self.entry_points))}>"


def load(path, manifest_path=None, register_kernels=False):
    """Loads an artifact built by scripts/gpu-aot.sh (and its manifest OUT.so.json)."""
    artifact = Artifact(path, manifest_path)
    if register_kernels:
        register(artifact)
    return artifact


# ------------------------------------------------------------------ kernels by op and shape

_REGISTRY = []
_REGISTRY_LOCK = threading.Lock()


def register(artifact):
    """Makes the entry points of `artifact` (one deltanet op each) available to
    deltanet.context_parallel and the other GPU dispatchers."""
    with _REGISTRY_LOCK:
        for entry in artifact.entry_points.values():
            if len(entry.ops) == 1:
                _REGISTRY.append(entry)


def registered():
    with _REGISTRY_LOCK:
        return list(_REGISTRY)


def find(op, specs, defaults=None, **attributes):
    """The registered entry point applying deltanet.`op` alone, with parameters
    `specs` ([(shape, element)], inputs then outputs) and `attributes`
    (chunk_size, scale, use_qk_l2norm; `defaults`: the value an entry point
    without the attribute has, e.g. {"scale": K ** -0.5}).
    Raises LookupError naming what is registered and how to build the kernel."""
    import struct

    def f32(x):
        return struct.unpack("<f", struct.pack("<f", x))[0]

    wanted = [(tuple(s), e) for s, e in specs]
    for entry in registered():
        name, attrs = entry.ops[0]
        if name != op or [(a.shape, a.element) for a in entry.arguments] != wanted:
            continue
        ok = True
        for key, value in attributes.items():
            have = attrs.get(key, (defaults or {}).get(key))
            if key == "scale":
                have = None if have is None else f32(have)
                value = None if value is None else f32(value)
            elif key == "use_qk_l2norm":
                have = bool(have)
            if have != value:
                ok = False
        if ok:
            return entry
    signature = ", ".join(MemRefSpec(s, e).text() for s, e in wanted)
    have = "; ".join(f"@{e.name}: {e.ops[0][0]}({', '.join(a.text() for a in e.arguments)}) {e.ops[0][1]}"
                     for e in registered()) or "none"
    raise LookupError(f"no registered GPU kernel for deltanet.{op}({signature}) with {attributes}: GPU kernels are "
                      f"shape-static, build one with scripts/gpu-aot.sh and deltanet.gpu.load(path, "
                      f"register_kernels=True) (registered: {have})")


# ------------------------------------------------------------------ one sequence, segments in parallel

def segment_parallel_chunk_gated_delta_rule(q, k, v, g, beta, initial_state=None, segments=8, scale=None,
                                            chunk_size=64, use_qk_l2norm=False, timings=None):
    """chunk_gated_delta_rule of [B, T] sequences on one device as B x `segments` segments.

    Where B x HV (x state column tiles) cannot fill the device, the
    sequential chunk scan leaves SMs idle. Each sequence is cut into
    `segments` equal segments of whole chunks, viewed (no copy) as a batch of
    B x segments sequences: one summary kernel gives every segment's
    (M, U), a short scan (float64, `segments` steps of batched K x K
    products) gives each segment's entry state, and one chunk kernel replays
    every segment from it. Needs the registered summary and chunk kernels of
    shape [B x segments, T / segments] (T / segments a multiple of
    chunk_size). Returns (o, final_state); torch CUDA tensors in the layouts
    of deltanet.torch.chunk_gated_delta_rule. timings: a dict to fill with
    summary_ms, scan_ms, replay_ms (device synchronisations in between).
    """
    import time

    import torch

    batch, tokens, heads, key_dim = q.shape
    value_heads, value_dim = v.shape[2], v.shape[3]
    if segments < 1 or tokens % segments or (tokens // segments) % chunk_size:
        raise ValueError(f"T = {tokens} must split into {segments} segments of whole {chunk_size}-token chunks")
    n, length = batch * segments, tokens // segments
    el = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}
    view = lambda x: x.detach().contiguous().reshape(n, length, *x.shape[2:])  # noqa: E731
    qs, ks, vs, gs, bs = (view(x) for x in (q, k, v, g, beta))
    inputs = [(tuple(x.shape), el[x.dtype]) for x in (qs, ks, vs, gs, bs)]
    state = ((n, value_heads, key_dim, value_dim), "f32")
    scale = key_dim ** -0.5 if scale is None else float(scale)
    chunk = find("chunk_gated_delta_rule", inputs + [state, (tuple(vs.shape), el[v.dtype]), state],
                 defaults={"scale": key_dim ** -0.5}, chunk_size=chunk_size, scale=scale,
                 use_qk_l2norm=bool(use_qk_l2norm))
    summary = find("gated_delta_rule_summary", inputs[1:] + [((n, value_heads, key_dim, key_dim), "f32"), state],
                   chunk_size=chunk_size, use_qk_l2norm=bool(use_qk_l2norm))
    f32 = dict(dtype=torch.float32, device=q.device)
    clock = [time.perf_counter()]

    def phase(name):
        if timings is not None:
            torch.cuda.synchronize(q.device)
            now = time.perf_counter()
            timings[name] = 1e3 * (now - clock[0])
            clock[0] = now

    phase("start")
    m = torch.empty(n, value_heads, key_dim, key_dim, **f32)
    u = torch.empty(n, value_heads, key_dim, value_dim, **f32)
    summary(ks, vs, gs, bs, m, u)
    phase("summary_ms")
    m = m.view(batch, segments, value_heads, key_dim, key_dim).double()
    u = u.view(batch, segments, value_heads, key_dim, value_dim).double()
    h = (torch.zeros(batch, value_heads, key_dim, value_dim, dtype=torch.float64, device=q.device)
         if initial_state is None else initial_state.detach().double())
    entries = []
    for s in range(segments):
        entries.append(h)
        h = m[:, s] @ h + u[:, s]
    entry = torch.stack(entries, 1).reshape(n, value_heads, key_dim, value_dim).to(torch.float32).contiguous()
    phase("scan_ms")
    o = torch.empty_like(vs)
    scratch = torch.empty(n, value_heads, key_dim, value_dim, **f32)
    chunk(qs, ks, vs, gs, bs, entry, o, scratch)
    phase("replay_ms")
    if timings is not None:
        timings.pop("start", None)
    final = scratch.view(batch, segments, value_heads, key_dim, value_dim)[:, -1]
    return o.view(batch, tokens, value_heads, value_dim), final.contiguous()


def _main(argv):
    if len(argv) >= 3 and argv[1] == "manifest":
        with open(argv[2]) as f:
            json.dump(manifest(f.read(), " ".join(argv[3:])), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    sys.stderr.write("usage: gpu.py manifest IN.mlir [deltanet-gpu-pipeline options...]\n")
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
