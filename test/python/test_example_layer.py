"""examples/qwen35_gated_deltanet.py: the whole Gated DeltaNet layer compiled, against its float64 reference.

Small sizes (hidden 64, H = 2, HV = 4, K = 16, V = 8, conv 4, chunk 16):
prefill of 37 tokens (chunk op; writes the caches), then 3 decode steps
(recurrent op; caches read and updated in place in the caller's arrays),
each compared with the float64 layer run from the same caches. Measured
worst relative error: see BOUND.
"""

import os
import sys

import numpy as np
import pytest

import deltanet
from deltanet import reference

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
import qwen35_gated_deltanet as layer  # noqa: E402

CFG = layer.SMALL
BOUND = 5e-6  # measured worst 4.7e-7 (outputs and caches, 2 seeds): ~10x


def call(kernel, w, x, conv_cache, state_cache):
    return kernel(x, *(w[n] for n in layer.WEIGHTS), conv_cache, state_cache)


@pytest.fixture(scope="module")
def kernels():
    return (deltanet.compile(layer.build_mlir(CFG, 37, "prefill"), "prefill"),
            {op: deltanet.compile(layer.build_mlir(CFG, 1, "decode", op), "decode") for op in ("recurrent", "chunk")})


@pytest.mark.parametrize("seed, decode_op", [(0, "recurrent"), (1, "recurrent"), (2, "chunk")])
def test_prefill_then_decode(kernels, seed, decode_op):
    prefill, decode = kernels[0], kernels[1][decode_op]
    rng = np.random.default_rng(seed)
    w = layer.random_weights(CFG, rng)
    x = rng.standard_normal((40, CFG.hidden)).astype(np.float32)
    conv_cache, state_cache = layer.empty_caches(CFG)
    conv_cache[:] = 7.0  # prefill starts a sequence: stale cache contents are ignored
    y = call(prefill, w, x[:37], conv_cache, state_cache)
    y_ref, conv_ref, state_ref = layer.reference_layer(CFG, w, x[:37], *layer.empty_caches(CFG))
    assert reference.relative_error(y, y_ref) < BOUND
    assert reference.relative_error(conv_cache, conv_ref) < BOUND
    assert reference.relative_error(state_cache, state_ref) < BOUND
    for t in range(37, 40):
        conv_before, state_before = conv_cache.copy(), state_cache.copy()
        y = call(decode, w, x[t : t + 1], conv_cache, state_cache)  # updates the caches in place
        y_ref, conv_ref, state_ref = layer.reference_layer(CFG, w, x[t : t + 1], conv_before, state_before)
        assert reference.relative_error(y, y_ref) < BOUND
        assert reference.relative_error(conv_cache, conv_ref) < BOUND
        assert reference.relative_error(state_cache, state_ref) < BOUND
    # Prefill + 3 decode steps continue one sequence: the float64 layer on all
    # 40 tokens at once ends in the same state.
    _, _, state_all = layer.reference_layer(CFG, w, x, *layer.empty_caches(CFG))
    assert reference.relative_error(state_cache, state_all) < BOUND


def test_a_wrong_gate_is_detected(kernels):
    """The bound catches a layer with beta = 1 (no sigmoid gate)."""
    prefill, _ = kernels
    rng = np.random.default_rng(5)
    w = layer.random_weights(CFG, rng)
    x = rng.standard_normal((37, CFG.hidden)).astype(np.float32)
    y = call(prefill, w, x, *layer.empty_caches(CFG))
    w_wrong = dict(w, w_b=np.full_like(w["w_b"], 0.0))  # sigmoid(0) = 0.5 instead of sigmoid(x W_b)
    y_wrong, _, _ = layer.reference_layer(CFG, w_wrong, x, *layer.empty_caches(CFG))
    assert reference.relative_error(y, y_wrong) > 100 * BOUND
