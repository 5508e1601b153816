"""deltanet.chunk_gated_delta_rule / recurrent_gated_delta_rule against the float64 recurrence."""

import numpy as np
import pytest

import deltanet
from deltanet import inputs, reference

# B, T, H, HV, K, V: T not a multiple of the chunk, two value heads per q/k head.
SHAPE = (2, 100, 2, 4, 32, 16)


def errors(result, expected):
    return tuple(reference.relative_error(r, e) for r, e in zip(result, expected))


@pytest.mark.parametrize("dist", ["realistic", "adversarial"])
@pytest.mark.parametrize("chunk_size", [16, 64])
def test_chunk_f32(rng, dist, chunk_size):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, *SHAPE, dist)
    o, s = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=chunk_size)
    assert o.shape == v.shape and o.dtype == np.float32
    assert s.shape == h0.shape and s.dtype == np.float32
    o_err, s_err = errors((o, s), reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0))
    assert o_err < 1e-5 and s_err < 1e-5


@pytest.mark.parametrize("dist", ["realistic", "adversarial"])
def test_recurrent_f32(rng, dist):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, *SHAPE, dist)
    result = deltanet.recurrent_gated_delta_rule(q, k, v, g, beta, h0)
    o_err, s_err = errors(result, reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0))
    assert o_err < 1e-5 and s_err < 1e-5


def test_scale_l2norm_and_zero_initial_state(rng):
    q, k, v, g, beta, _ = inputs.gated_delta_rule_inputs(rng, *SHAPE, "realistic")
    q, k = q * 3.0, k * 0.5  # not normalised: use_qk_l2norm matters
    expected = reference.recurrent_gated_delta_rule(q, k, v, g, beta, None, scale=0.7, use_qk_l2norm=True)
    for fn in (deltanet.chunk_gated_delta_rule, deltanet.recurrent_gated_delta_rule):
        o_err, s_err = errors(fn(q, k, v, g, beta, scale=0.7, use_qk_l2norm=True), expected)
        assert o_err < 1e-5 and s_err < 1e-5


def test_wrong_head_mapping_is_detected(rng):
    """A reference with q/k head j % H instead of j // (HV / H) differs by far
    more than the bounds above: they would catch such a bug."""
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, *SHAPE, "realistic")
    o, _ = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=16)
    heads, value_heads = q.shape[2], v.shape[2]
    tiled = [np.ascontiguousarray(np.tile(x, (1, 1, value_heads // heads, 1))) for x in (q, k)]
    o_wrong, _ = reference.recurrent_gated_delta_rule(*tiled, v, g, beta, h0)
    assert reference.relative_error(o, o_wrong) > 1e-2


def test_float16_inputs(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, *SHAPE, "realistic")
    q, k, v = (x.astype(np.float16) for x in (q, k, v))
    o, s = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=16)
    assert o.dtype == np.float16 and s.dtype == np.float32
    o_err, s_err = errors((o, s), reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0))
    assert o_err < 2e-3 and s_err < 1e-5


def test_bf16_inverse(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, *SHAPE, "realistic")
    result = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=16, precision="bf16")
    o_err, s_err = errors(result, reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0))
    assert o_err < 1e-2 and s_err < 1e-2


def test_inverse_strategy_options(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, *SHAPE, "adversarial")
    result = deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, chunk_size=16, strategy="forward-substitution")
    o_err, s_err = errors(result, reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0))
    assert o_err < 1e-5 and s_err < 1e-5


def test_single_token_and_empty(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, 1, 1, 1, 2, 8, 4, "realistic")
    o_err, s_err = errors(
        deltanet.recurrent_gated_delta_rule(q, k, v, g, beta, h0),
        reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0),
    )
    assert o_err < 1e-6 and s_err < 1e-6
    empty = [x[:, :0].copy() for x in (q, k, v, g, beta)]
    o, s = deltanet.chunk_gated_delta_rule(*empty, h0)
    assert o.shape == (1, 0, 2, 4) and np.array_equal(s, h0)


@pytest.mark.parametrize("op", ["chunk", "recurrent"])
def test_out_arrays(rng, op):
    """out=: the results written into the caller's arrays (NaN-poisoned
    first), against the float64 recurrence, bitwise equal to the returned
    results, and again into the same arrays (nothing accumulated)."""
    function = getattr(deltanet, f"{op}_gated_delta_rule")
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, *SHAPE, "realistic")
    o = np.full(v.shape, np.nan, np.float32)
    s = np.full(h0.shape, np.nan, np.float32)
    got = function(q, k, v, g, beta, h0, out=(o, s))
    assert got[0] is o and got[1] is s
    o_err, s_err = errors((o, s), reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0))
    assert o_err < 1e-5 and s_err < 1e-5
    returned = function(q, k, v, g, beta, h0)
    np.testing.assert_array_equal(o, returned[0])
    np.testing.assert_array_equal(s, returned[1])
    function(q, k, v, g, beta, h0, out=[o, s])
    np.testing.assert_array_equal(o, returned[0])
    np.testing.assert_array_equal(s, returned[1])
    # Empty sequence: o zeroed, the state copied.
    empty = [x[:, :0].copy() for x in (q, k, v, g, beta)]
    o0, s0 = np.full(empty[2].shape, np.nan, np.float32), np.full(h0.shape, np.nan, np.float32)
    assert function(*empty, h0, out=(o0, s0))[1] is s0
    np.testing.assert_array_equal(s0, h0)


def test_out_arrays_errors(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, 1, 20, 1, 1, 8, 4, "realistic")
    o, s = np.zeros(v.shape, np.float32), np.zeros(h0.shape, np.float32)
    with pytest.raises(TypeError, match=r"out= of deltanet.chunk_gated_delta_rule takes a tuple of 2 arrays"):
        deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, out=o)
    with pytest.raises(ValueError, match=r"out\[1\] .* must have shape"):
        deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, out=(o, o))
    with pytest.raises(ValueError, match=r"out\[0\] .* overlaps argument 2"):
        deltanet.recurrent_gated_delta_rule(q, k, v, g, beta, h0, out=(v, s))
    empty = [x[:, :0].copy() for x in (q, k, v, g, beta)]
    with pytest.raises(ValueError, match=r"out\[0\] of deltanet.chunk_gated_delta_rule must have shape \(1, 0, 1, 4\)"):
        deltanet.chunk_gated_delta_rule(*empty, h0, out=(o, s))
    with pytest.raises(NotImplementedError, match="out= with target='gpu'"):
        deltanet.chunk_gated_delta_rule(q, k, v, g, beta, h0, target="gpu", out=(o, s))
