"""Variable-length batches (cu_seqlens): packed sequences equal each sequence run alone.

Sequences of lengths 1, C-1, C, C+1 and mixtures are packed along T (B = 1),
each with its own initial state; the compiled chunk and recurrent ops must
match the float64 recurrence run on each sequence alone, and the compiled
op run on each sequence alone. Measured worst errors over 3 seeds (lengths
1, 15, 16, 17, 35; K = 32, V = 16): chunk 1.9e-7 realistic, 2.5e-6
correlated, 3.0e-6 adversarial keys; recurrent 1.9e-7. Bound 2e-5 (~7x).
"""

import numpy as np
import pytest

import deltanet
from deltanet import inputs, reference

C = 16
H, HV, K, V = 2, 4, 32, 16
BOUND = 2e-5  # about 7x the measured worst error (3.0e-6, adversarial keys)


def packed_inputs(rng, lengths, dist="realistic", offsets_dtype=np.int32):
    tokens = int(sum(lengths))
    q, k, v, g, beta, _ = inputs.gated_delta_rule_inputs(rng, 1, tokens, H, HV, K, V, dist)
    h0 = (0.1 * rng.standard_normal((len(lengths), HV, K, V))).astype(np.float32)
    cu = np.concatenate([[0], np.cumsum(lengths)]).astype(offsets_dtype)
    return (q, k, v, g, beta, h0), cu


def sequences(operands, cu):
    """(index, per-sequence operands [1, L, ...] with its own initial state)."""
    *xs, h0 = operands
    for i, (start, end) in enumerate(zip(cu[:-1], cu[1:])):
        yield i, start, end, [np.ascontiguousarray(x[:, start:end]) for x in xs] + [h0[i : i + 1]]


def run(op, operands, **kw):
    if op == "chunk":
        return deltanet.chunk_gated_delta_rule(*operands, chunk_size=C, **kw)
    return deltanet.recurrent_gated_delta_rule(*operands, **kw)


@pytest.mark.parametrize("dist", ["realistic", "adversarial"])
@pytest.mark.parametrize("op", ["chunk", "recurrent"])
def test_mixture_matches_float64_per_sequence(rng, op, dist):
    lengths = [1, C - 1, C, C + 1, 2 * C + 3]
    operands, cu = packed_inputs(rng, lengths, dist)
    o, state = run(op, operands, cu_seqlens=cu)
    assert o.shape == operands[2].shape and state.shape == operands[5].shape
    for i, start, end, seq in sequences(operands, cu):
        o_ref, s_ref = reference.recurrent_gated_delta_rule(*seq)
        assert reference.relative_error(o[:, start:end], o_ref) < BOUND, (i, end - start)
        assert reference.relative_error(state[i : i + 1], s_ref) < BOUND, (i, end - start)


@pytest.mark.parametrize("length", [1, C - 1, C, C + 1])
def test_equal_lengths(rng, length):
    """Three sequences of one length (1, C-1, C, C+1), chunk op, scale and l2 norm on."""
    operands, cu = packed_inputs(rng, [length] * 3, "correlated")
    o, state = run("chunk", operands, cu_seqlens=cu, scale=0.5, use_qk_l2norm=True)
    for i, start, end, seq in sequences(operands, cu):
        o_ref, s_ref = reference.recurrent_gated_delta_rule(*seq, scale=0.5, use_qk_l2norm=True)
        assert reference.relative_error(o[:, start:end], o_ref) < BOUND
        assert reference.relative_error(state[i : i + 1], s_ref) < BOUND


def test_matches_compiled_op_on_each_sequence_alone(rng):
    """The packed call and the plain op on each sequence alone (B = 1) agree
    to rounding (same chunk math; the padded batch only adds inert chunks)."""
    operands, cu = packed_inputs(rng, [C + 1, 1, C - 1], "realistic", np.int64)
    o, state = run("chunk", operands, cu_seqlens=cu)
    for i, start, end, seq in sequences(operands, cu):
        o_alone, s_alone = run("chunk", seq)
        assert reference.relative_error(o[:, start:end], o_alone) < 1e-6
        assert reference.relative_error(state[i : i + 1], s_alone) < 1e-6


def test_sequences_are_independent(rng):
    """Without cu_seqlens the same tokens are one sequence whose state flows
    across the boundaries: the outputs differ by far more than the bounds."""
    operands, cu = packed_inputs(rng, [C + 1, C - 1], "realistic")
    o, _ = run("chunk", operands, cu_seqlens=cu)
    q, k, v, g, beta, h0 = operands
    o_joined, _ = run("chunk", (q, k, v, g, beta, np.ascontiguousarray(h0[:1])))
    assert reference.relative_error(o[:, C + 1 :], o_joined[:, C + 1 :]) > 1e-2


def test_empty_sequence_keeps_its_state(rng):
    operands, cu = packed_inputs(rng, [5, 0, 7], "realistic")
    o, state = run("recurrent", operands, cu_seqlens=cu)
    np.testing.assert_array_equal(state[1], operands[5][1])
    for i, start, end, seq in sequences(operands, cu):
        if end > start:
            o_ref, s_ref = reference.recurrent_gated_delta_rule(*seq)
            assert reference.relative_error(o[:, start:end], o_ref) < BOUND
            assert reference.relative_error(state[i : i + 1], s_ref) < BOUND


@pytest.mark.parametrize(
    "cu, error",
    [
        ([1, 4, 10], "cu_seqlens must start at 0, got 1"),
        ([0, 7, 3, 10], "cu_seqlens must not decrease, but offset 2 is 3 after 7"),
        ([0, 4, 9], "the last cu_seqlens offset must be T = 10, got 9"),
        ([0], r"cu_seqlens must have shape \[N \+ 1\] with N >= 1 sequences"),
    ],
)
def test_bad_offsets_are_value_errors(rng, cu, error):
    operands, _ = packed_inputs(rng, [4, 6])
    q, k, v, g, beta, h0 = operands
    n = max(len(cu) - 1, 1)
    h0 = np.zeros((n, HV, K, V), np.float32)
    for op in ("chunk", "recurrent"):
        with pytest.raises(ValueError, match=error):
            run(op, (q, k, v, g, beta, h0), cu_seqlens=np.array(cu, np.int32))


def test_bad_offsets_type_batch_and_state_count(rng):
    operands, cu = packed_inputs(rng, [4, 6])
    with pytest.raises(TypeError, match="cu_seqlens must have dtype int32 or int64, got float32"):
        run("chunk", operands, cu_seqlens=cu.astype(np.float32))
    with pytest.raises(TypeError, match="cu_seqlens must be a numpy.ndarray"):
        run("chunk", operands, cu_seqlens=[0, 4, 10])
    q, k, v, g, beta, h0 = operands
    with pytest.raises(ValueError, match=r"initial_state must have shape \(2, 4, 32, 16\) \[N, HV, K, V\]"):
        run("chunk", (q, k, v, g, beta, np.ascontiguousarray(h0[:1])), cu_seqlens=cu)
    two = [np.ascontiguousarray(np.concatenate([x, x])) for x in (q, k, v, g, beta)]
    with pytest.raises(ValueError, match="the batch B must be 1, got B = 2"):
        run("recurrent", (*two, h0), cu_seqlens=cu)
