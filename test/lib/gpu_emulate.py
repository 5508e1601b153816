#!/usr/bin/python3
"""Runs the GPU pipeline's tensor and buffer stages on the CPU and checks the result.

CI has no GPU, but most of what can go wrong in --deltanet-gpu-pipeline
(distribution to blocks, fusion, empty-tensor elimination, shared-memory
promotion, bufferization: which buffer each kernel writes and the next one
reads) is decided before kernels exist. This takes the pipeline's IR right
before the thread mapping (--mlir-print-ir-before=deltanet-gpu-map-to-threads:
block-mapped scf.forall loops on memrefs, after bufferization and the
clean-ups that follow it), drops the workgroup address
spaces, lowers it for the CPU with upstream passes (each block loop becomes
an scf.for), builds a shared library, calls the destination-passing entry
point on random bf16 inputs (realistic: L2-normalised keys, beta in (0, 1),
negative log decays; or adversarial: correlated keys, no decay) with a
nonzero initial state, and compares o and the final state with the float64
recurrence of python/deltanet/reference.py.

Not covered: what happens from the thread mapping on (threads, barriers,
shared memory packing, NVVM), and the tensor-core matmuls
(deltanet-gpu-matmuls-to-mma-sync: nvgpu.mma.sync does not run on the CPU,
so emulate with tensor-cores=false): that needs the device
(bench/gpu/bench.py).

  gpu_emulate.py --opt deltanet-opt --llvm-bin DIR --c-runner-utils LIB \\
      --shape B,T,H,HV,K,V [--inputs realistic|adversarial] \\
      [--pipeline-options "scan-value-tile=4"] [--op chunk|recurrent|summary|tri_inv] --o-tol X --state-tol Y

--op recurrent: deltanet.recurrent_gated_delta_rule (one block per head and
tile of state columns, the token loop inside) instead of the chunk op.

--op summary: deltanet.gated_delta_rule_summary instead (M against --o-tol,
U against --state-tol; float64 token-by-token product of test/lib/summary_testgen.py).

--op tri_inv: deltanet.tri_inv of N chunk matrices C x C (--shape N,C;
--dtype f32|bf16 for input and output), junk on and above the diagonal,
against the float64 inverse (--o-tol; --state-tol unused). Inputs as the
GPU bench's: realistic = tril(diag(beta) K K^T exp(G_i - G_j), -1) with
L2-normalised keys of dimension 128, beta in (0, 1), log decays
-0.05 |N(0, 1)|; adversarial = correlated keys (c = 0.9), no decay.
"""

import argparse
import ctypes
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "reference", os.path.join(HERE, "..", "..", "python", "deltanet", "reference.py"))
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)


def program(B, T, H, HV, K, V, scale, op="chunk"):
    """@gdr(q, k, v, g, beta, h0, o, ht): deltanet.chunk_gated_delta_rule (or,
    `op="recurrent"`, recurrent_gated_delta_rule), destination-passing."""
    def t(*dims, ty):
        return "x".join(str(d) for d in dims) + "x" + ty
    q, v, g, h = t(B, T, H, K, ty="bf16"), t(B, T, HV, V, ty="bf16"), t(B, T, HV, ty="f32"), t(B, HV, K, V, ty="f32")
    beta = t(B, T, HV, ty="bf16")
    args = [("q", q), ("k", q), ("v", v), ("g", g), ("beta", beta), ("h0", h)]
    lines = ["func.func @gdr(" + ", ".join(f"%{n}: memref<{ty}>" for n, ty in args)
             + f", %o: memref<{v}>, %ht: memref<{h}>) attributes {{llvm.emit_c_interface}} {{"]
    for n, ty in args:
        lines.append(f"  %{n}t = bufferization.to_tensor %{n} restrict : memref<{ty}> to tensor<{ty}>")
    attrs = f"scale = {scale!r} : f32" if op == "recurrent" else f"chunk_size = 64 : i64, scale = {scale!r} : f32"
    lines.append(f"  %ot, %hT = deltanet.{op}_gated_delta_rule %qt, %kt, %vt, %gt, %betat, %h0t "
                 f"{{{attrs}}} : ("
                 + ", ".join(f"tensor<{ty}>" for _, ty in args) + f") -> (tensor<{v}>, tensor<{h}>)")
    lines.append(f"  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<{v}>, memref<{v}>) -> ()")
    lines.append(f"  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<{h}>, memref<{h}>) -> ()")
    lines += ["  return", "}"]
    return "\n".join(lines) + "\n"


def summary_program(B, T, H, HV, K, V):
    """@summary(k, v, g, beta, m, u): deltanet.gated_delta_rule_summary, destination-passing."""
    def t(*dims, ty):
        return "x".join(str(d) for d in dims) + "x" + ty
    args = [("k", t(B, T, H, K, ty="bf16")), ("v", t(B, T, HV, V, ty="bf16")), ("g", t(B, T, HV, ty="f32")),
            ("beta", t(B, T, HV, ty="bf16"))]
    m, u = t(B, HV, K, K, ty="f32"), t(B, HV, K, V, ty="f32")
    lines = ["func.func @summary(" + ", ".join(f"%{n}: memref<{ty}>" for n, ty in args)
             + f", %m: memref<{m}>, %u: memref<{u}>) attributes {{llvm.emit_c_interface}} {{"]
    for n, ty in args:
        lines.append(f"  %{n}t = bufferization.to_tensor %{n} restrict : memref<{ty}> to tensor<{ty}>")
    lines.append("  %mt, %ut = deltanet.gated_delta_rule_summary %kt, %vt, %gt, %betat {chunk_size = 64 : i64} : ("
                 + ", ".join(f"tensor<{ty}>" for _, ty in args) + f") -> (tensor<{m}>, tensor<{u}>)")
    lines.append(f"  bufferization.materialize_in_destination %mt in restrict writable %m : (tensor<{m}>, memref<{m}>) -> ()")
    lines.append(f"  bufferization.materialize_in_destination %ut in restrict writable %u : (tensor<{u}>, memref<{u}>) -> ()")
    lines += ["  return", "}"]
    return "\n".join(lines) + "\n"


CPU_LOWERING = [
    "--scf-forall-to-for", "--linalg-generalize-named-ops", "--convert-linalg-to-loops",
    "--convert-scf-to-cf", "--expand-strided-metadata", "--lower-affine",
    "--convert-vector-to-llvm",
    "--finalize-memref-to-llvm", "--convert-math-to-llvm", "--convert-math-to-libm",
    "--convert-func-to-llvm", "--convert-arith-to-llvm", "--convert-cf-to-llvm",
    "--convert-index-to-llvm", "--reconcile-unrealized-casts",
]


ASYNC_COPY = re.compile(
    r"^(\s*)%\S+ = nvgpu\.device_async_copy (%[\w.$-]+)\[([^\]]*)\], (%[\w.$-]+)\[([^\]]*)\], (\d+)"
    r"(?: \{bypassL1\})? : (memref<.+?>) to (memref<.+>)$")


def synchronous_copies(ir):
    """The prefetch's cp.async copies (deltanet-gpu-prefetch-loop-operands)
    as plain vector loads and stores, their groups and waits dropped: on the
    CPU each copy completes when it is issued, one of the executions the
    asynchronous copies allow (the data a reader sees is then the data of
    the last copy issued before it: a copy issued too early, before the
    previous iteration's last reader, fails the check)."""
    out = []
    for n, line in enumerate(ir.split("\n")):
        if "nvgpu.device_async_create_group" in line or "nvvm.cp.async.wait.group" in line:
            continue
        m = ASYNC_COPY.match(line)
        if m:
            indent, src, src_idx, dst, dst_idx, count, src_type, dst_type = m.groups()
            element = re.match(r"memref<(?:\d+x)*(\w+)", dst_type).group(1)
            vec = f"vector<{count}x{element}>"
            out.append(f"{indent}%cpasync{n} = vector.load {src}[{src_idx}] : {src_type}, {vec}")
            out.append(f"{indent}vector.store %cpasync{n}, {dst}[{dst_idx}] : {dst_type}, {vec}")
            continue
        out.append(line)
    return "\n".join(out)


def bufferized_ir(opt, source, options):
    """The GPU pipeline's IR after bufferization, on memrefs, CPU-lowerable.

    The tensor-core matmuls (nvgpu.mma.sync) do not run on the CPU: the SIMT
    path, otherwise the same pipeline (`options` come later and win)."""
    options = ("tensor-cores=false " + options).strip()
    run = subprocess.run(
        [opt, "-", f"--deltanet-gpu-pipeline={options}",
         "--mlir-print-ir-before=deltanet-gpu-map-to-threads", "--mlir-print-ir-module-scope",
         "--mlir-disable-threading", "-o", os.devnull],
        input=source, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("deltanet-opt failed:\n" + run.stderr)
    dump = run.stderr
    marker = "// -----// IR Dump Before DeltaNetGpuMapToThreads"
    if marker not in dump:
        sys.exit("no IR dump before deltanet-gpu-map-to-threads in:\n" + dump[:2000])
    ir = dump[dump.index(marker):].split("\n", 1)[1]
    ir = ir.split("// -----// IR Dump", 1)[0]
    ir = synchronous_copies(ir)
    if "nvgpu." in ir:
        sys.exit("tensor-core code (nvgpu) cannot run on the CPU: emulate with tensor-cores=false")
    if "scf.forall" not in ir or "#gpu.block" not in ir:
        sys.exit("expected block-mapped scf.forall loops in the bufferized IR")
    return ir.replace(", #gpu.address_space<workgroup>", "")


def build(args, ir, workdir):
    b = args.llvm_bin
    src = os.path.join(workdir, "buffers.mlir")
    llvm = os.path.join(workdir, "llvm.mlir")
    ll = os.path.join(workdir, "kernel.ll")
    so = os.path.join(workdir, "kernel.so")
    open(src, "w").write(ir)
    subprocess.run([os.path.join(b, "mlir-opt"), src, *CPU_LOWERING, "-o", llvm], check=True)
    subprocess.run([os.path.join(b, "mlir-translate"), "--mlir-to-llvmir", llvm, "-o", ll], check=True)
    subprocess.run([os.path.join(b, "clang"), "-O1", "-fPIC", "-shared", "-Wno-override-module", ll,
                    "-o", so, args.c_runner_utils, "-lm", "-Wl,-rpath," + os.path.dirname(args.c_runner_utils)],
                   check=True)
    return so


def to_bf16_bits(x):
    """float32 -> bfloat16 bit patterns (round to nearest even)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def descriptor(a):
    rank = a.ndim
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64),
              ("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    d = type(f"MemRef{rank}", (ctypes.Structure,), {"_fields_": fields})()
    d.allocated = d.aligned = a.ctypes.data
    d.offset = 0
    for i in range(rank):
        d.sizes[i] = a.shape[i]
        d.strides[i] = a.strides[i] // a.itemsize
    return d


def inputs(B, T, H, HV, K, V, kind, rng):
    corr, decay = {"realistic": (0.3, 1.0), "adversarial": (0.95, 0.0)}[kind]
    noise = rng.standard_normal((B, T, H, K))
    shared = rng.standard_normal((B, 1, H, K))
    k = np.sqrt(1 - corr) * noise + np.sqrt(corr) * shared
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    q = rng.standard_normal((B, T, H, K))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    v = rng.standard_normal((B, T, HV, V))
    beta = 1 / (1 + np.exp(-rng.standard_normal((B, T, HV))))
    g = -decay * np.exp(-3.5 + 0.5 * rng.standard_normal((B, T, HV))) * np.log1p(np.exp(rng.standard_normal((B, T, HV))))
    h0 = 0.1 * rng.standard_normal((B, HV, K, V))
    return q, k, v, g.astype(np.float32), beta, h0.astype(np.float32)


def run_kernel(args, source, entry, arrays):
    """Compiles `source` through the GPU pipeline's buffer stages for the CPU
    and calls `_mlir_ciface_<entry>` on `arrays` (outputs written in place)."""
    with tempfile.TemporaryDirectory() as workdir:
        ir = bufferized_ir(args.opt, source, args.pipeline_options)
        lib = ctypes.CDLL(build(args, ir, workdir))
        descs = [descriptor(a) for a in arrays]
        getattr(lib, "_mlir_ciface_" + entry)(*[ctypes.byref(d) for d in descs])


def report(label, checks):
    """Prints `(name, error, tolerance)` checks on one line; exits 1 if one fails."""
    ok = all(err <= tol for _, err, tol in checks)
    print(f"{label}: " + ", ".join(f"{name} error {err:.2e} (tol {tol:g})" for name, err, tol in checks)
          + ": " + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--opt", required=True)
    p.add_argument("--llvm-bin", required=True)
    p.add_argument("--c-runner-utils", required=True)
    p.add_argument("--shape", required=True, help="B,T,H,HV,K,V")
    p.add_argument("--inputs", default="realistic", choices=["realistic", "adversarial"])
    p.add_argument("--pipeline-options", default="")
    p.add_argument("--o-tol", type=float, required=True)
    p.add_argument("--state-tol", type=float, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"], help="tri_inv only")
    p.add_argument("--op", default="chunk", choices=["chunk", "recurrent", "summary", "tri_inv"],
                   help="chunk / recurrent: o and the final state of that op; tri_inv: the inverse (--o-tol); "
                        "summary: M (--o-tol) and U (--state-tol) "
                        "of gated_delta_rule_summary against the float64 token-by-token product")
    args = p.parse_args()
    if args.op == "tri_inv":
        return tri_inv_main(args)
    B, T, H, HV, K, V = (int(x) for x in args.shape.split(","))
    scale = K ** -0.5
    if args.op == "summary":
        return summary_main(args, B, T, H, HV, K, V)
    rng = np.random.default_rng(args.seed)
    q, k, v, g, beta, h0 = inputs(B, T, H, HV, K, V, args.inputs, rng)
    qb, kb, vb, bb = (to_bf16_bits(x) for x in (q, k, v, beta))
    o = np.full((B, T, HV, V), 0x7FC0, dtype=np.uint16)  # NaN
    ht = np.full((B, HV, K, V), np.nan, dtype=np.float32)
    run_kernel(args, program(B, T, H, HV, K, V, scale, args.op), "gdr", [qb, kb, vb, g, bb, h0, o, ht])
    # The reference sees the inputs as rounded to bf16.
    o_ref, h_ref = reference.recurrent_gated_delta_rule(
        from_bf16_bits(qb), from_bf16_bits(kb), from_bf16_bits(vb), g, from_bf16_bits(bb), h0, scale)
    report(f"shape {args.shape} {args.inputs} [{args.pipeline_options}]",
           [("o", reference.relative_error(from_bf16_bits(o), o_ref), args.o_tol),
            ("state", reference.relative_error(ht, h_ref), args.state_tol)])


def summary_main(args, B, T, H, HV, K, V):
    sys.path.insert(0, HERE)
    from summary_testgen import summary_reference
    rng = np.random.default_rng(args.seed)
    _, k, v, g, beta, _ = inputs(B, T, H, HV, K, V, args.inputs, rng)
    kb, vb, bb = (to_bf16_bits(x) for x in (k, v, beta))
    m = np.full((B, HV, K, K), np.nan, dtype=np.float32)
    u = np.full((B, HV, K, V), np.nan, dtype=np.float32)
    run_kernel(args, summary_program(B, T, H, HV, K, V), "summary", [kb, vb, g, bb, m, u])
    m_ref, u_ref = summary_reference(from_bf16_bits(kb), from_bf16_bits(vb).astype(np.float64),
                                     g.astype(np.float64), from_bf16_bits(bb).astype(np.float64), HV)
    report(f"summary shape {args.shape} {args.inputs} [{args.pipeline_options}]",
           [("M", reference.relative_error(m, m_ref), args.o_tol),
            ("U", reference.relative_error(u, u_ref), args.state_tol)])


def tri_inv_program(N, C, ty):
    t = f"{N}x{C}x{C}x{ty}"
    return f"""
func.func @tri_inv(%a: memref<{t}>, %x: memref<{t}>) attributes {{llvm.emit_c_interface}} {{
  %at = bufferization.to_tensor %a restrict : memref<{t}> to tensor<{t}>
  %xt = deltanet.tri_inv %at : tensor<{t}>
  bufferization.materialize_in_destination %xt in restrict writable %x : (tensor<{t}>, memref<{t}>) -> ()
  return
}}
"""


def tri_inv_inputs(N, C, kind, rng, dk=128):
    """Chunk matrices A (N x C x C, float64) with junk on and above the diagonal."""
    corr, decay = {"realistic": (0.0, 0.05), "adversarial": (0.9, 0.0)}[kind]
    k = np.sqrt(1 - corr) * rng.standard_normal((N, C, dk)) + np.sqrt(corr) * rng.standard_normal((N, 1, dk))
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    beta = 1 / (1 + np.exp(-rng.standard_normal((N, C))))
    g = np.cumsum(-decay * np.abs(rng.standard_normal((N, C))), axis=1)
    a = beta[:, :, None] * (k @ k.transpose(0, 2, 1)) * np.exp(g[:, :, None] - g[:, None, :])
    a = np.tril(a, -1)
    return a + np.triu(rng.standard_normal((N, C, C)), 0)


def tri_inv_main(args):
    N, C = (int(x) for x in args.shape.split(","))
    rng = np.random.default_rng(args.seed)
    a = tri_inv_inputs(N, C, args.inputs, rng)
    if args.dtype == "bf16":
        ab = to_bf16_bits(a.astype(np.float32))
        x = np.full((N, C, C), 0x7FC0, dtype=np.uint16)  # NaN
        run_kernel(args, tri_inv_program(N, C, "bf16"), "tri_inv", [ab, x])
        a_in, x = from_bf16_bits(ab).astype(np.float64), from_bf16_bits(x)
    else:
        af = a.astype(np.float32)
        x = np.full((N, C, C), np.nan, dtype=np.float32)
        run_kernel(args, tri_inv_program(N, C, "f32"), "tri_inv", [af, x])
        a_in = af.astype(np.float64)
    # The reference sees the inputs as rounded to the input type.
    ref = np.linalg.inv(np.eye(C) + np.tril(a_in, -1))
    report(f"tri_inv {args.dtype} shape {args.shape} {args.inputs} [{args.pipeline_options}]",
           [("x", reference.relative_error(x, ref), args.o_tol)])


if __name__ == "__main__":
    main()
