"""Bad input raises ValueError/TypeError naming the argument; never a crash."""

import numpy as np
import pytest

import deltanet
from deltanet import inputs

B, T, H, HV, K, V = 1, 8, 2, 4, 8, 4


def good(rng):
    return dict(zip(("q", "k", "v", "g", "beta", "initial_state"),
                    inputs.gated_delta_rule_inputs(rng, B, T, H, HV, K, V)))


def expect(error, match, fn, *args, **kwargs):
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)


TRI_INV_CASES = [
    # (description, a, kwargs, error, message)
    ("list", [[0.0]], {}, TypeError, "a must be a numpy.ndarray"),
    ("float64", np.zeros((4, 4)), {}, TypeError, "a must have dtype"),
    ("int32", np.zeros((4, 4), np.int32), {}, TypeError, "a must have dtype"),
    ("rank 1", np.zeros(4, np.float32), {}, ValueError, "a must have rank >= 2"),
    ("not square", np.zeros((2, 4, 8), np.float32), {}, ValueError, "a must hold square"),
    ("C = 0", np.zeros((2, 0, 0), np.float32), {}, ValueError, "C >= 1"),
    ("non-contiguous", np.zeros((4, 16, 32), np.float32)[:, :, ::2], {}, ValueError, "a must be C-contiguous"),
    ("transposed", np.zeros((2, 16, 16), np.float32).transpose(0, 2, 1), {}, ValueError, "a must be C-contiguous"),
    ("misaligned", np.frombuffer(bytes(16 * 16 * 4 + 1), np.float32, 16 * 16, offset=1).reshape(16, 16), {},
     ValueError, "a must be aligned"),
    ("big-endian", np.zeros((16, 16), ">f4"), {}, TypeError, "a must have dtype"),
    ("strategy", np.zeros((16, 16), np.float32), {"strategy": "magic"}, ValueError, "strategy must be one of"),
    ("strategy type", np.zeros((16, 16), np.float32), {"strategy": 3}, TypeError, "strategy must be a str"),
    ("block size", np.zeros((16, 16), np.float32), {"block_size": 6}, ValueError, "block_size must be a power of two"),
    ("block size divides", np.zeros((24, 24), np.float32), {"block_size": 16}, ValueError, "block_size=16 must divide C=24"),
    ("block size type", np.zeros((16, 16), np.float32), {"block_size": 4.0}, TypeError, "block_size must be an int"),
    ("order", np.zeros((16, 16), np.float32), {"strategy": "neumann", "order": 0}, ValueError, "order must be >= 1"),
    ("residual", np.zeros((16, 16), np.float32), {"residual_steps": -1}, ValueError, "residual_steps must be >= 0"),
    ("precision type", np.zeros((16, 16), np.float32), {"precision": 16}, TypeError, "precision must be a str"),
    ("precision unknown", np.zeros((16, 16), np.float32), {"precision": "f8"}, ValueError, "precision='f8'"),
    ("precision injection", np.zeros((16, 16), np.float32), {"precision": "f32 tri-inv-order=2"}, ValueError,
     "precision: invalid value"),
    ("unknown keyword", np.zeros((16, 16), np.float32), {"stratgy": "neumann"}, TypeError, "stratgy"),
]


@pytest.mark.parametrize("case", TRI_INV_CASES, ids=[c[0] for c in TRI_INV_CASES])
def test_tri_inv_bad_input(case):
    _, a, kwargs, error, message = case
    expect(error, message, deltanet.tri_inv, a, **kwargs)


def mutate(args, name, value):
    args = dict(args)
    args[name] = value
    return args


GDR_CASES = [
    ("q list", lambda a: mutate(a, "q", a["q"].tolist()), TypeError, "q must be a numpy.ndarray"),
    ("q float64", lambda a: mutate(a, "q", a["q"].astype(np.float64)), TypeError, "q must have dtype"),
    ("k dtype differs", lambda a: mutate(a, "k", a["k"].astype(np.float16)), TypeError, "k must have dtype float32"),
    ("v rank", lambda a: mutate(a, "v", a["v"][0]), ValueError, r"v must have rank 4 \[B, T, HV, V\]"),
    ("k shape", lambda a: mutate(a, "k", a["k"][:, :, :, :4].copy()), ValueError, "k must have shape"),
    ("v tokens", lambda a: mutate(a, "v", a["v"][:, :4].copy()), ValueError, "v must have shape"),
    ("g shape", lambda a: mutate(a, "g", a["g"][:, :, :2].copy()), ValueError, "g must have shape"),
    ("beta rank", lambda a: mutate(a, "beta", a["beta"][..., None].copy()), ValueError, "beta must have rank 3"),
    ("beta int", lambda a: mutate(a, "beta", a["beta"].astype(np.int32)), TypeError, "beta must have dtype"),
    ("state shape", lambda a: mutate(a, "initial_state", a["initial_state"][:, :, :4].copy()), ValueError,
     "initial_state must have shape"),
    ("state float64", lambda a: mutate(a, "initial_state", a["initial_state"].astype(np.float64)), TypeError,
     "initial_state must have dtype"),
    ("q non-contiguous", lambda a: mutate(a, "q", np.asfortranarray(a["q"])), ValueError, "q must be C-contiguous"),
    ("H does not divide HV", lambda a: {
        **a, "v": a["v"][:, :, :3].copy(), "g": a["g"][:, :, :3].copy(), "beta": a["beta"][:, :, :3].copy(),
        "initial_state": a["initial_state"][:, :3].copy()}, ValueError, "HV = 3 value heads must be a multiple of the H = 2"),
    ("chunk size", lambda a: {**a, "chunk_size": 48}, ValueError, "chunk_size must be a power of two"),
    ("chunk size type", lambda a: {**a, "chunk_size": "64"}, TypeError, "chunk_size must be an int"),
    ("scale nan", lambda a: {**a, "scale": float("nan")}, ValueError, "scale must be a finite"),
    ("scale type", lambda a: {**a, "scale": "big"}, TypeError, "scale must be a float"),
    ("scale zero", lambda a: {**a, "scale": 0.0}, ValueError, "scale must be finite and non-zero"),
    ("scale f32 overflow", lambda a: {**a, "scale": 1e39}, ValueError, "scale must be finite and non-zero"),
    ("l2norm type", lambda a: {**a, "use_qk_l2norm": "yes"}, TypeError, "use_qk_l2norm must be a bool"),
    ("precision", lambda a: {**a, "precision": "f7"}, ValueError, "precision='f7'"),
    ("unknown option", lambda a: {**a, "chunk": 64}, TypeError, "chunk"),
    ("unknown inverse option", lambda a: {**a, "stategy": "neumann"}, TypeError, "stategy"),
]


@pytest.mark.parametrize("case", GDR_CASES, ids=[c[0] for c in GDR_CASES])
def test_chunk_gated_delta_rule_bad_input(rng, case):
    _, make, error, message = case
    expect(error, message, deltanet.chunk_gated_delta_rule, **make(good(rng)))


@pytest.mark.parametrize("case", [c for c in GDR_CASES if c[0] in
                                  ("q float64", "v rank", "H does not divide HV", "scale nan", "unknown option")],
                         ids=lambda c: c[0])
def test_recurrent_gated_delta_rule_bad_input(rng, case):
    _, make, error, message = case
    expect(error, message, deltanet.recurrent_gated_delta_rule, **make(good(rng)))
