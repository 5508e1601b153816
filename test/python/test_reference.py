"""deltanet.reference: float64 references agree with each other and with test/lib's."""

import gdr_testgen
import numpy as np
import pytest

from deltanet import inputs, reference


def test_tri_inv_reference_inverts(rng):
    a = inputs.chunk_matrices(rng, 8, 32, "adversarial").astype(np.float64)
    x = reference.tri_inv(a)
    unit_lower = np.eye(32) + np.tril(a, -1)
    assert np.abs(unit_lower @ x - np.eye(32)).max() < 1e-9
    assert np.array_equal(x, np.tril(x))


@pytest.mark.parametrize("dist", ["realistic", "adversarial"])
@pytest.mark.parametrize("chunk_size", [16, 64])
def test_chunk_reference_equals_recurrence(rng, dist, chunk_size):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, 2, 37, 2, 4, 16, 8, dist)
    o_rec, s_rec = reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0, scale=0.3, use_qk_l2norm=True)
    o_chk, s_chk = reference.chunk_gated_delta_rule(
        q, k, v, g, beta, h0, chunk_size=chunk_size, scale=0.3, use_qk_l2norm=True
    )
    assert reference.relative_error(o_chk, o_rec) < 1e-10
    assert reference.relative_error(s_chk, s_rec) < 1e-10


def test_recurrence_matches_project_testgen(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, 1, 20, 1, 2, 8, 4, "realistic")
    o, s = reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0)
    o_ref, s_ref = gdr_testgen.recurrent_reference(q, k, v, g, beta, h0)
    assert reference.relative_error(o, o_ref) < 1e-13
    assert reference.relative_error(s, s_ref) < 1e-13


def test_zero_initial_state_default(rng):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, 1, 5, 1, 1, 4, 4)
    o1, s1 = reference.recurrent_gated_delta_rule(q, k, v, g, beta)
    o2, s2 = reference.recurrent_gated_delta_rule(q, k, v, g, beta, np.zeros_like(h0))
    assert np.array_equal(o1, o2) and np.array_equal(s1, s2)
