"""Degenerate shapes on the CPU pipeline against float64 references: tri_inv
with C = 1, 2, 3 (every strategy, precision, residual step count, batch tile),
the chunk op with chunk sizes 1, 2, 4, T not a multiple of them, T = 1,
K / V = 1, 2, 3, B / H = 1, and the recurrent op with T = 1, on 1 and 2
threads (2 threads bitwise equal to 1). Several shapes share each kernel (one
function, one compile) to keep the sweep fast."""

import numpy as np
import pytest

import deltanet
from deltanet import inputs, reference

STRATEGIES = ("blocked", "neumann", "forward-substitution")

# Batched shapes [batch, C, C] of one tri_inv kernel: C = 1, 2, 3, batch 1
# and odd batches (batch tiles of 4 leave a remainder), and a single C x C
# matrix (rank 2).
TRI_INV_SHAPES = ((5, 1, 1), (7, 2, 2), (6, 3, 3), (1, 3, 3), (3, 3), (1, 1))

# Largest per-matrix relative error of the sweep's inputs (entries ~N(0, 1) /
# 2 below the diagonal, garbage above), over every strategy, batch tile and
# residual step count. Measured worst (main, 352dad8): f32 2.1e-8, bf16
# 1.2e-3, f16 2.2e-4, i8 3.4e-3; the bounds are ~10x.
TRI_INV_TOLERANCE = {"f32": 3e-7, "bf16": 1.5e-2, "f16": 3e-3, "i8": 4e-2}


def tensor(shape, dtype="f32"):
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>"


def tri_inv_source(shapes, dtype="f32", residual_steps=0):
    args = ", ".join(f"%a{i}: {tensor(s, dtype)}" for i, s in enumerate(shapes))
    types = ", ".join(tensor(s, dtype) for s in shapes)
    body = "\n".join(
        f"  %x{i} = deltanet.tri_inv %a{i} {{residual_steps = {residual_steps} : i64}} : {tensor(s, dtype)}"
        for i, s in enumerate(shapes))
    results = ", ".join(f"%x{i}" for i in range(len(shapes)))
    return f"func.func @f({args}) -> ({types}) {{\n{body}\n  return {results} : {types}\n}}"


def tri_inv_inputs(rng, shapes, dtype=np.float32):
    out = []
    for shape in shapes:
        a = 0.5 * rng.standard_normal(shape)
        a += np.triu(100.0 * rng.standard_normal(shape))  # ignored: the diagonal and above
        out.append(a.astype(dtype))
    return out


def compile_for_threads(source, threads=(1, 2), **options):
    return {n: deltanet.compile(source, "f", num_threads=n, **options) for n in threads}


def check_threads_identical(results):
    for n in results:
        for r1, r in zip(results[1], results[n]):
            assert np.array_equal(r1, r), f"{n} threads differ from 1"


@pytest.mark.parametrize("residual_steps", [0, 2])
@pytest.mark.parametrize("batch_tile", [1, -1])
@pytest.mark.parametrize("precision", ["f32", "bf16", "f16", "i8"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_tri_inv_tiny_matrices(rng, strategy, precision, batch_tile, residual_steps):
    options = dict(tri_inv_strategy=strategy, tri_inv_precision=precision, tri_inv_batch_tile=batch_tile)
    # 2 threads split the batch into the target's tiles (-1).
    threads = (1, 2) if batch_tile == -1 else (1,)
    try:
        kernels = compile_for_threads(tri_inv_source(TRI_INV_SHAPES, residual_steps=residual_steps), threads,
                                      **options)
    except ValueError as error:
        # Precisions a strategy does not implement are rejected, not miscompiled.
        assert precision != "f32" and "rejected" in str(error), error
        pytest.skip(f"{strategy} rejects precision {precision}")
    a = tri_inv_inputs(rng, TRI_INV_SHAPES)
    results = {threads: kernel(*a) for threads, kernel in kernels.items()}
    check_threads_identical(results)
    for shape, x, matrices in zip(TRI_INV_SHAPES, results[1], a):
        assert x.shape == shape and x.dtype == np.float32
        error = reference.max_matrix_relative_error(x, reference.tri_inv(matrices))
        assert error < TRI_INV_TOLERANCE[precision], (shape, error)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_tri_inv_tiny_f16_matrices(rng, strategy):
    shapes = TRI_INV_SHAPES[:4]
    kernels = compile_for_threads(tri_inv_source(shapes, "f16", residual_steps=1), tri_inv_strategy=strategy)
    a = tri_inv_inputs(rng, shapes, np.float16)
    results = {threads: kernel(*a) for threads, kernel in kernels.items()}
    check_threads_identical(results)
    for x, matrices in zip(results[1], a):
        assert x.dtype == np.float16
        # The f16 result's rounding dominates: 1.3e-4 measured.
        assert reference.max_matrix_relative_error(x, reference.tri_inv(matrices)) < 1.5e-3


@pytest.mark.parametrize("block_size", [1, 2])
def test_tri_inv_api_tiny_blocks(rng, block_size):
    # The API's block_size caps at a power-of-two C and must divide it.
    for c in (1, 2, 4):
        if block_size > c and c != 1 and c & (c - 1):
            continue
        a = tri_inv_inputs(rng, [(3, c, c)])[0]
        x = deltanet.tri_inv(a, block_size=block_size, residual_steps=1)
        assert reference.max_matrix_relative_error(x, reference.tri_inv(a)) < TRI_INV_TOLERANCE["f32"]


# Gated delta rule shapes (B, T, H, HV, K, V, chunk size, use_qk_l2norm):
# chunk sizes 1, 2, 4 with T a multiple, not a multiple, below and equal to
# them, T = 1, K or V = 1 / 2 / 3, B = 1 / 2, H = 1 / 2, grouped value heads,
# L2-normalised q / k of K = 1 and 3.
GDR_SHAPES = (
    (1, 1, 1, 1, 1, 1, 1, False),
    (1, 5, 1, 2, 2, 3, 2, False),
    (1, 2, 1, 1, 3, 1, 2, True),
    (2, 7, 1, 1, 3, 2, 4, False),
    (1, 3, 2, 2, 1, 2, 4, True),
    (2, 9, 2, 4, 2, 1, 1, False),
)


def gdr_types(shape):
    b, t, h, hv, k, v = shape[:6]
    operands = [(b, t, h, k), (b, t, h, k), (b, t, hv, v), (b, t, hv), (b, t, hv), (b, hv, k, v)]
    return [tensor(s) for s in operands], [tensor((b, t, hv, v)), tensor((b, hv, k, v))]


def gdr_source(op, shapes):
    args, body, results, result_types = [], [], [], []
    for i, shape in enumerate(shapes):
        operand_types, types = gdr_types(shape)
        names = [f"%{n}{i}" for n in ("q", "k", "v", "g", "beta", "h")]
        args += [f"{n}: {t}" for n, t in zip(names, operand_types)]
        attrs = [f"chunk_size = {shape[6]} : i64"] if op == "chunk_gated_delta_rule" else []
        if shape[7]:
            attrs.append("use_qk_l2norm")
        attr_text = f" {{{', '.join(attrs)}}}" if attrs else ""
        body.append(f"  %o{i}, %s{i} = deltanet.{op} {', '.join(names)}{attr_text}"
                    f" : ({', '.join(operand_types)}) -> ({', '.join(types)})")
        results += [f"%o{i}", f"%s{i}"]
        result_types += types
    return (f"func.func @f({', '.join(args)}) -> ({', '.join(result_types)}) {{\n" + "\n".join(body)
            + f"\n  return {', '.join(results)} : {', '.join(result_types)}\n}}")


def run_gdr(rng, op, tolerance, threads=(1, 2), **options):
    kernels = compile_for_threads(gdr_source(op, GDR_SHAPES), threads, **options)
    args = [inputs.gated_delta_rule_inputs(rng, *shape[:6]) for shape in GDR_SHAPES]
    flat = [x for operands in args for x in operands]
    results = {n: kernel(*flat) for n, kernel in kernels.items()}
    check_threads_identical(results)
    for i, (shape, operands) in enumerate(zip(GDR_SHAPES, args)):
        o_ref, s_ref = reference.recurrent_gated_delta_rule(*operands, use_qk_l2norm=shape[7])
        o, s = results[1][2 * i], results[1][2 * i + 1]
        assert o.shape == o_ref.shape and s.shape == s_ref.shape
        assert reference.relative_error(o, o_ref) < tolerance, (shape, "o")
        assert reference.relative_error(s, s_ref) < tolerance, (shape, "state")


# Measured worst relative errors (main, 352dad8): f32 2.5e-7, bf16 6.5e-3
# (chunk-precision), i8 1.5e-2; the bounds are ~10x.
@pytest.mark.parametrize("strategy,residual_steps,precision,tolerance,threads", [
    ("blocked", 0, "f32", 3e-6, (1, 2)),
    ("blocked", 1, "f32", 3e-6, (1,)),
    ("neumann", 0, "f32", 3e-6, (1,)),
    ("neumann", 1, "f32", 3e-6, (1,)),
    ("forward-substitution", 0, "f32", 3e-6, (1,)),
    ("forward-substitution", 1, "f32", 3e-6, (1, 2)),
    ("blocked", 0, "bf16", 7e-2, (1,)),
    ("blocked", 0, "i8", 0.15, (1,)),
])
def test_chunk_op_degenerate_shapes(rng, strategy, residual_steps, precision, tolerance, threads):
    run_gdr(rng, "chunk_gated_delta_rule", tolerance, threads, tri_inv_strategy=strategy,
            tri_inv_residual_steps=residual_steps, chunk_precision=precision)


def test_recurrent_op_degenerate_shapes(rng):
    # 1.1e-7 measured.
    run_gdr(rng, "recurrent_gated_delta_rule", 2e-6)


@pytest.mark.parametrize("chunk_size", [1, 2, 4])
def test_api_degenerate_shapes(rng, chunk_size):
    # The Python API (its own kernels, default options): T = 1 and T not a
    # multiple of the chunk, K = 1, V = 1, no initial state.
    for b, t, h, hv, k, v in ((1, 1, 1, 1, 1, 1), (1, 3, 1, 2, 1, 2), (2, 5, 1, 1, 3, 1)):
        q, kk, vv, g, beta, _ = inputs.gated_delta_rule_inputs(rng, b, t, h, hv, k, v)
        o_ref, s_ref = reference.recurrent_gated_delta_rule(q, kk, vv, g, beta)
        o, s = deltanet.chunk_gated_delta_rule(q, kk, vv, g, beta, chunk_size=chunk_size)
        assert reference.relative_error(o, o_ref) < 3e-6 and reference.relative_error(s, s_ref) < 3e-6
        o, s = deltanet.recurrent_gated_delta_rule(q, kk, vv, g, beta)
        assert reference.relative_error(o, o_ref) < 3e-6 and reference.relative_error(s, s_ref) < 3e-6


def test_chunk_size_three_is_rejected(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, 1, 4, 1, 1, 2, 2)
    with pytest.raises(ValueError, match="chunk_size"):
        deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=3)


def test_sweep_detects_a_wrong_inverse(rng):
    # The bound above must be able to fail: X off by 1e-3 in one entry of one
    # 2 x 2 matrix is far outside it.
    a = tri_inv_inputs(rng, [(7, 2, 2)])[0]
    x = deltanet.tri_inv(a)
    x[3, 1, 0] += 1e-3
    assert reference.max_matrix_relative_error(x, reference.tri_inv(a)) > TRI_INV_TOLERANCE["f32"]
