"""num-threads: heads and tri_inv tiles on OpenMP threads, bitwise identical
results for every thread count, and still within the float64 bounds."""

import os

# Read by libomp when it starts (the first multi-threaded call below): the
# num_threads=0 kernels must then use 3 threads, more than the other runs.
os.environ["OMP_NUM_THREADS"] = "3"

import numpy as np
import pytest

import deltanet
from deltanet import inputs, reference

# B = 2, grouped heads (H = 2, HV = 4), T not a multiple of the chunk size.
B, T, H, HV, K, V = 2, 100, 2, 4, 32, 16

GDR = """
func.func @gdr(%q: tensor<{B}x{T}x{H}x{K}xf32>, %k: tensor<{B}x{T}x{H}x{K}xf32>,
               %v: tensor<{B}x{T}x{HV}x{V}xf32>, %g: tensor<{B}x{T}x{HV}xf32>,
               %beta: tensor<{B}x{T}x{HV}xf32>, %h0: tensor<{B}x{HV}x{K}x{V}xf32>)
    -> (tensor<{B}x{T}x{HV}x{V}xf32>, tensor<{B}x{HV}x{K}x{V}xf32>) {{
  %o, %s = deltanet.{op} %q, %k, %v, %g, %beta, %h0 {attrs}
      : (tensor<{B}x{T}x{H}x{K}xf32>, tensor<{B}x{T}x{H}x{K}xf32>, tensor<{B}x{T}x{HV}x{V}xf32>,
         tensor<{B}x{T}x{HV}xf32>, tensor<{B}x{T}x{HV}xf32>, tensor<{B}x{HV}x{K}x{V}xf32>)
      -> (tensor<{B}x{T}x{HV}x{V}xf32>, tensor<{B}x{HV}x{K}x{V}xf32>)
  return %o, %s : tensor<{B}x{T}x{HV}x{V}xf32>, tensor<{B}x{HV}x{K}x{V}xf32>
}}
"""

TRI_INV = """
func.func @inv(%a: tensor<3x50x32x32xf32>) -> tensor<3x50x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<3x50x32x32xf32>
  return %x : tensor<3x50x32x32xf32>
}
"""


def gdr_source(op):
    attrs = "{chunk_size = 32 : i64}" if op == "chunk_gated_delta_rule" else ""
    return GDR.format(B=B, T=T, H=H, HV=HV, K=K, V=V, op=op, attrs=attrs)


@pytest.mark.parametrize("op,dist", [("chunk_gated_delta_rule", "adversarial"),
                                     ("recurrent_gated_delta_rule", "realistic")])
def test_gated_delta_rule_identical_for_any_thread_count(op, dist):
    rng = np.random.default_rng(7)
    args = inputs.gated_delta_rule_inputs(rng, B, T, H, HV, K, V, dist)
    o_ref, s_ref = reference.recurrent_gated_delta_rule(*args)
    results = {}
    for threads in (1, 2):
        fn = deltanet.compile(gdr_source(op), "gdr", num_threads=threads)
        results[threads] = fn(*args)
    o1, s1 = results[1]
    # Measured ~3e-7 (realistic) / ~1e-6 (adversarial); 2e-5 is ~10x the worst.
    assert reference.relative_error(o1, o_ref) < 2e-5
    assert reference.relative_error(s1, s_ref) < 2e-5
    for threads in (2,):
        o, s = results[threads]
        assert np.array_equal(o, o1), f"o differs with num_threads={threads}"
        assert np.array_equal(s, s1), f"state differs with num_threads={threads}"


def test_tri_inv_identical_for_any_thread_count():
    rng = np.random.default_rng(3)
    a = inputs.chunk_matrices(rng, 150, 32, "adversarial").reshape(3, 50, 32, 32)
    x_ref = reference.tri_inv(a)
    results = {t: deltanet.compile(TRI_INV, "inv", num_threads=t)(a) for t in (1, 2, 0)}
    # Blocked f32 on adversarial keys: ~5e-6 measured (README); 5e-5 margin 10x.
    assert reference.max_matrix_relative_error(results[1], x_ref) < 5e-5
    for t in (2, 0):
        assert np.array_equal(results[t], results[1]), f"num_threads={t}"


def test_wrong_head_mapping_is_caught():
    # The check above must be able to fail: a kernel that swaps two value
    # heads' q/k heads is far outside the bound.
    rng = np.random.default_rng(7)
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, B, T, H, HV, K, V, "realistic")
    o_ref, _ = reference.recurrent_gated_delta_rule(q, k, v, g, beta, h0)
    fn = deltanet.compile(gdr_source("chunk_gated_delta_rule"), "gdr", num_threads=2)
    o, _ = fn(q[:, :, ::-1].copy(), k[:, :, ::-1].copy(), v, g, beta, h0)
    assert reference.relative_error(o, o_ref) > 1e-2


def test_negative_thread_count_is_rejected():
    with pytest.raises(ValueError, match="num-threads must be >= 0"):
        deltanet.compile(TRI_INV, "inv", num_threads=-1)
