"""deltanet.run_pipeline and deltanet.compile on MLIR text."""

import numpy as np
import pytest

import deltanet

TRI_INV = """
func.func @inv(%a: tensor<2x16x16xf32>) -> tensor<2x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<2x16x16xf32>
  return %x : tensor<2x16x16xf32>
}
"""

ADD = """
func.func @add(%a: tensor<?x4xf32>, %b: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?x4xf32>
  %init = tensor.empty(%n) : tensor<?x4xf32>
  %0 = linalg.add ins(%a, %b : tensor<?x4xf32>, tensor<?x4xf32>) outs(%init : tensor<?x4xf32>) -> tensor<?x4xf32>
  %1 = linalg.mul ins(%a, %b : tensor<?x4xf32>, tensor<?x4xf32>) outs(%init : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %0, %1 : tensor<?x4xf32>, tensor<?x4xf32>
}
func.func @identity(%a: tensor<3xi32>) -> tensor<3xi32> {
  return %a : tensor<3xi32>
}
"""


def test_run_pipeline_named_pass_with_options():
    out = deltanet.run_pipeline(TRI_INV, "deltanet-lower-tri-inv", strategy="neumann")
    assert "deltanet.tri_inv" not in out and "linalg" in out


def test_run_pipeline_cpu_pipeline_with_options():
    out = deltanet.run_pipeline(TRI_INV, tri_inv_strategy="forward-substitution", tri_inv_block_size=8)
    assert "llvm.func @inv" in out


def test_run_pipeline_textual_pipelines():
    out = deltanet.run_pipeline(TRI_INV, "builtin.module(deltanet-lower-tri-inv{strategy=blocked},canonicalize)")
    assert "deltanet.tri_inv" not in out
    assert "func.func @inv" in deltanet.run_pipeline(TRI_INV, "func.func(canonicalize)")


def test_run_pipeline_errors():
    with pytest.raises(ValueError, match="unknown option 'tri_inv_stratgy'"):
        deltanet.run_pipeline(TRI_INV, tri_inv_stratgy="neumann")
    with pytest.raises(ValueError, match="no-such-pass"):
        deltanet.run_pipeline(TRI_INV, "no-such-pass")
    with pytest.raises(ValueError, match="parse error: .*loc|parse error: .*:3:"):
        deltanet.run_pipeline(TRI_INV.replace("tensor<2x16x16xf32>\n  return", "tensor<2x16x8xf32>\n  return"),
                              "canonicalize")
    with pytest.raises(ValueError, match="block"):
        deltanet.run_pipeline(TRI_INV, "deltanet-lower-tri-inv", block_size=7)
    # Would abort the interpreter inside buildCpuPipeline (known bug): refused.
    with pytest.raises(ValueError, match="anchored on builtin.module"):
        deltanet.run_pipeline(TRI_INV, "func.func(deltanet-cpu-pipeline)")
    with pytest.raises(ValueError, match="single pass"):
        deltanet.run_pipeline(TRI_INV, "a,b", x=1)
    with pytest.raises(TypeError, match="mlir_text must be a str"):
        deltanet.run_pipeline(b"module {}")


def test_cpu_pipeline_options():
    options = deltanet.cpu_pipeline_options()
    assert options["tri-inv-strategy"] == "blocked"
    assert {"tri-inv-order", "tri-inv-residual-steps", "tri-inv-precision"} <= set(options)


def test_compile_generic_function():
    add = deltanet.compile(ADD, "add")
    assert add.argument_types == ["tensor<?x4xf32>", "tensor<?x4xf32>"]
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.full((3, 4), 2.0, np.float32)
    s, p = add(a, b)
    np.testing.assert_array_equal(s, a + b)
    np.testing.assert_array_equal(p, a * b)
    # Results own their memory: inputs can go away.
    del a, b
    assert s.sum() == 90.0


def test_compile_returning_an_input_copies_it():
    identity = deltanet.compile(ADD, "@identity")
    a = np.array([1, 2, 3], np.int32)
    r = identity(a)
    np.testing.assert_array_equal(r, a)
    a[0] = 7
    assert r[0] == 1


def test_compile_tri_inv_with_options():
    from deltanet import inputs, reference

    a = inputs.chunk_matrices(np.random.default_rng(1), 2, 16, "adversarial")
    inv = deltanet.compile(TRI_INV, "inv", tri_inv_strategy="neumann", tri_inv_order=2)
    x = inv(a)
    # order 2 truncates: far from the inverse, as the option asks.
    assert reference.max_matrix_relative_error(x, reference.tri_inv(a)) > 1e-2


def test_compile_errors():
    with pytest.raises(ValueError, match="no function @nope"):
        deltanet.compile(ADD, "nope")
    with pytest.raises(ValueError, match="target must be 'cpu' or 'gpu'"):
        deltanet.compile(ADD, "add", target="npu")
    with pytest.raises(ValueError, match="unknown option 'strategy'"):
        deltanet.compile(TRI_INV, "inv", strategy="neumann")
    with pytest.raises(ValueError, match="tri-inv-strategy"):
        deltanet.compile(TRI_INV, "inv", tri_inv_strategy="magic")
    with pytest.raises(ValueError, match="only ranked tensors"):
        deltanet.compile("func.func @f(%x: f32) -> f32 { return %x : f32 }", "f")
    with pytest.raises(ValueError, match="parse error"):
        deltanet.compile("func.func @f(", "f")


def test_read_only_inputs_and_threads():
    import threading

    add = deltanet.compile(ADD, "add")
    a = np.arange(4000, dtype=np.float32).reshape(1000, 4)
    a.flags.writeable = False
    results = [None] * 4

    def work(i):
        results[i] = add(a, a)[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, 2 * a)


def test_call_errors():
    add = deltanet.compile(ADD, "add")
    a = np.zeros((3, 4), np.float32)
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        add(a)
    with pytest.raises(TypeError, match="argument 1 of @add must be a numpy.ndarray"):
        add(a, [1.0])
    with pytest.raises(TypeError, match="argument 1 of @add must have dtype float32"):
        add(a, a.astype(np.float64))
    with pytest.raises(ValueError, match="argument 0 of @add must have shape"):
        add(np.zeros((3, 5), np.float32), a)
    with pytest.raises(ValueError, match="argument 0 of @add must have rank 2"):
        add(np.zeros(3, np.float32), a)
    with pytest.raises(ValueError, match="argument 1 of @add must be C-contiguous"):
        add(a, np.zeros((4, 3), np.float32).T)
    misaligned = np.frombuffer(bytes(49), dtype=np.float32, offset=1).reshape(3, 4)
    with pytest.raises(ValueError, match="argument 1 of @add must be aligned"):
        add(a, misaligned)
    with pytest.raises(TypeError, match="must have dtype float32"):
        add(a, a.astype(">f4"))


GDR = """
func.func @gdr(%q: tensor<1x70x2x16xf32>, %k: tensor<1x70x2x16xf32>, %v: tensor<1x70x2x8xf32>,
               %g: tensor<1x70x2xf32>, %beta: tensor<1x70x2xf32>, %h0: tensor<1x2x16x8xf32>)
    -> (tensor<1x70x2x8xf32>, tensor<1x2x16x8xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 32 : i64}
      : (tensor<1x70x2x16xf32>, tensor<1x70x2x16xf32>, tensor<1x70x2x8xf32>, tensor<1x70x2xf32>,
         tensor<1x70x2xf32>, tensor<1x2x16x8xf32>) -> (tensor<1x70x2x8xf32>, tensor<1x2x16x8xf32>)
  return %o, %s : tensor<1x70x2x8xf32>, tensor<1x2x16x8xf32>
}
"""


def test_results_to_out_params():
    from deltanet import inputs, reference

    args = inputs.gated_delta_rule_inputs(np.random.default_rng(3), 1, 70, 2, 2, 16, 8)
    gdr = deltanet.compile(GDR, "gdr", results_to_out_params=True)
    assert gdr.results_to_out_params and not deltanet.compile(GDR, "gdr").results_to_out_params
    expected = reference.recurrent_gated_delta_rule(*args)
    o = np.full((1, 70, 2, 8), np.nan, np.float32)
    s = np.full((1, 2, 16, 8), np.nan, np.float32)
    got = gdr(*args, out=(o, s))
    # The caller's arrays, written whole, against the float64 recurrence.
    assert got[0] is o and got[1] is s
    assert reference.relative_error(o, expected[0]) < 1e-5
    assert reference.relative_error(s, expected[1]) < 1e-5
    # Again into the same arrays (holding the first results): the same bits,
    # nothing accumulated; and the bits of the function that returns them.
    first = (o.copy(), s.copy())
    gdr(*args, out=(o, s))
    np.testing.assert_array_equal(o, first[0])
    np.testing.assert_array_equal(s, first[1])
    returned = deltanet.compile(GDR, "gdr")(*args)
    np.testing.assert_array_equal(returned[0], o)
    np.testing.assert_array_equal(returned[1], s)
    # Without out=: new arrays.
    fresh = gdr(*args)
    np.testing.assert_array_equal(fresh[0], o)


def test_results_to_out_params_errors():
    gdr = deltanet.compile(GDR, "gdr", results_to_out_params=True)
    args = [np.zeros(t, np.float32) for t in [(1, 70, 2, 16)] * 2 + [(1, 70, 2, 8), (1, 70, 2), (1, 70, 2), (1, 2, 16, 8)]]
    o, s = np.zeros((1, 70, 2, 8), np.float32), np.zeros((1, 2, 16, 8), np.float32)
    with pytest.raises(TypeError, match="takes 2 arrays, got 1"):
        gdr(*args, out=o)
    with pytest.raises(ValueError, match=r"out\[1\] \(result 1 of @gdr\) must have shape"):
        gdr(*args, out=(o, o))
    read_only = s.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"out\[1\] .* must be writable"):
        gdr(*args, out=(o, read_only))
    with pytest.raises(ValueError, match=r"out\[0\] .* overlaps argument 2"):
        gdr(*args, out=(args[2], s))
    with pytest.raises(TypeError, match="unexpected keyword argument 'outs'"):
        gdr(*args, outs=(o, s))
    with pytest.raises(TypeError, match="out= needs a function compiled with results_to_out_params=True"):
        deltanet.compile(GDR, "gdr")(*args, out=(o, s))
    with pytest.raises(ValueError, match="needs static result shapes.*result 0 of @add is tensor<\\?x4xf32>"):
        deltanet.compile(ADD, "add", results_to_out_params=True)
