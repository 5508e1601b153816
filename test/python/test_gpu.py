"""deltanet.gpu (the loader of ahead-of-time GPU artifacts) and compile(target="gpu"), without a GPU.

CI has no NVIDIA driver: these check what happens before the device is
reached (the manifest, every argument check, the import without the
compiled extension) and that a well-formed call then fails with a clear
"no CUDA driver" error instead of crashing. Results on the device:
bench/gpu/cp_bench.py, docs/ContextParallel.md.
"""

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import deltanet
import deltanet.gpu as dg

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.dirname(os.path.abspath(deltanet.__file__))
BUILD = os.path.dirname(os.path.dirname(PACKAGE))  # <build>/python_packages/deltanet

TRI_INV = """
// Destination-passing: a device memref in, one out.
func.func @tri_inv(%a: memref<4x16x16xf32>, %x: memref<4x16x16xf32>) attributes {llvm.emit_c_interface} {
  %t = bufferization.to_tensor %a restrict : memref<4x16x16xf32> to tensor<4x16x16xf32>
  %y = deltanet.tri_inv %t : tensor<4x16x16xf32>
  bufferization.materialize_in_destination %y in restrict writable %x : (tensor<4x16x16xf32>, memref<4x16x16xf32>) -> ()
  return
}
"""


def have_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


class DeviceArray:
    """A stand-in device buffer (never dereferenced: the calls stop before the device)."""

    def __init__(self, shape, typestr="<f4", pointer=0x7F0000000000, strides=None):
        self.__cuda_array_interface__ = {"shape": tuple(shape), "typestr": typestr, "data": (pointer, False),
                                         "strides": strides, "version": 3}


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """tri_inv built ahead of time by scripts/gpu-aot.sh (with its manifest)."""
    work = tmp_path_factory.mktemp("aot")
    source = work / "tri_inv.mlir"
    source.write_text(TRI_INV)
    out = work / "tri_inv.so"
    env = dict(os.environ, DELTANET_BUILD_DIR=BUILD, DELTANET_PYTHON=sys.executable)
    subprocess.run([os.path.join(ROOT, "scripts", "gpu-aot.sh"), str(source), str(out)], check=True, env=env)
    return dg.load(str(out))


def test_manifest_names_entry_points_and_ops(artifact):
    entry = artifact["tri_inv"]
    assert [a.text() for a in entry.arguments] == ["memref<4x16x16xf32>"] * 2
    assert entry.ops == [("tri_inv", {})]
    with pytest.raises(KeyError, match="no entry point @nope.*tri_inv"):
        artifact["nope"]


def test_manifest_reads_attributes():
    text = (
        "func.func @c(%q: memref<1x64x2x16xbf16>) attributes {llvm.emit_c_interface} {\n"
        "  %o, %h = deltanet.chunk_gated_delta_rule %a, %b {chunk_size = 32 : i64, scale = 0x3E800000 : f32,"
        " use_qk_l2norm} : (x) -> y\n  return\n}\n"
        "func.func @private(%q: memref<2xf32>) {\n  return\n}\n"
    )
    entries = dg.manifest(text)["entry_points"]
    assert list(entries) == ["c"]
    assert entries["c"]["ops"] == [["chunk_gated_delta_rule", {"chunk_size": 32, "scale": 0.25, "use_qk_l2norm": True}]]
    with pytest.raises(ValueError, match="identity-layout memrefs"):
        dg.manifest("func.func @f(%a: memref<4xf32, strided<[2]>>) attributes {llvm.emit_c_interface} {\n}\n")


@pytest.mark.parametrize("args, error, message", [
    ((DeviceArray((4, 16, 16)),), TypeError, r"takes 2 buffers"),
    ((DeviceArray((4, 16, 16)), DeviceArray((4, 16, 8))), ValueError, r"argument 1 \(%x\).*shape \(4, 16, 16\).*got \(4, 16, 8\)"),
    ((DeviceArray((4, 16, 16), "<f2"), DeviceArray((4, 16, 16))), TypeError, r"argument 0 \(%a\).*must hold f32.*got f16"),
    ((DeviceArray((4, 16, 16), "<u4"), DeviceArray((4, 16, 16))), TypeError, r"typestr '<u4'"),
    ((DeviceArray((4, 16, 16), strides=(64, 4, 1024)), DeviceArray((4, 16, 16))), ValueError, r"C-contiguous"),
    ((DeviceArray((4, 16, 16), pointer=0x7F0000000002), DeviceArray((4, 16, 16))), ValueError, r"not aligned"),
    ((np.zeros((4, 16, 16), np.float32), DeviceArray((4, 16, 16))), TypeError, r"NumPy array \(host memory\)"),
    (("a", DeviceArray((4, 16, 16))), TypeError, r"torch CUDA tensor or have __cuda_array_interface__"),
])
def test_loader_checks_arguments_before_the_device(artifact, args, error, message):
    with pytest.raises(error, match=message):
        artifact["tri_inv"](*args)


def test_loader_rejects_host_torch_tensors(artifact):
    torch = pytest.importorskip("torch")
    a = torch.zeros(4, 16, 16)
    with pytest.raises(TypeError, match=r"tensor on cpu: the GPU kernels take CUDA tensors"):
        artifact["tri_inv"](a, a)


@pytest.mark.skipif(have_driver(), reason="an NVIDIA driver is present")
def test_loader_without_driver_raises(artifact):
    a, x = DeviceArray((4, 16, 16)), DeviceArray((4, 16, 16))
    with pytest.raises(RuntimeError, match=r"tri_inv\.so: no CUDA driver: cannot load libcuda\.so\.1"):
        artifact["tri_inv"](a, x)
    with pytest.raises(RuntimeError, match="no CUDA driver"):  # again: no crash, same answer
        artifact["tri_inv"](a, x)
    artifact.release_cached_memory()  # nothing cached, nothing to release: no error


@pytest.mark.skipif(have_driver(), reason="an NVIDIA driver is present")
def test_compile_for_gpu_without_driver_raises():
    fn = deltanet.compile(TRI_INV, "tri_inv", target="gpu", tri_inv_block_size=4)
    assert [a.text() for a in fn.arguments] == ["memref<4x16x16xf32>"] * 2
    with pytest.raises(ValueError, match="argument 1"):
        fn(DeviceArray((4, 16, 16)), DeviceArray((4, 4)))
    with pytest.raises(RuntimeError, match="no CUDA driver"):
        fn(DeviceArray((4, 16, 16)), DeviceArray((4, 16, 16)))


def test_compile_for_gpu_errors():
    returning = "func.func @f(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {\n" \
                "  %x = deltanet.tri_inv %a : tensor<4x16x16xf32>\n  return %x : tensor<4x16x16xf32>\n}\n"
    with pytest.raises(ValueError, match="destination-passing"):
        deltanet.compile(returning, "f", target="gpu")
    with pytest.raises(ValueError, match="unknown option 'threads_per_block'.*threads"):
        deltanet.compile(TRI_INV, "tri_inv", target="gpu", threads_per_block=64)
    with pytest.raises(ValueError, match="'cpu' or 'gpu'"):
        deltanet.compile(TRI_INV, "tri_inv", target="npu")


def test_find_reports_missing_kernels(artifact):
    with pytest.raises(LookupError, match=r"no registered GPU kernel for deltanet\.gated_delta_rule_summary"
                                          r"\(memref<1x64x1x16xbf16>.*scripts/gpu-aot\.sh"):
        dg.find("gated_delta_rule_summary", [((1, 64, 1, 16), "bf16")], chunk_size=64)
    dg.register(artifact)
    assert dg.find("tri_inv", [((4, 16, 16), "f32")] * 2) is artifact["tri_inv"]


def test_loader_imports_without_the_compiled_extension(tmp_path):
    """The GPU machine has no MLIR: the pure-Python modules import without _deltanet."""
    copy = tmp_path / "deltanet"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("_deltanet*", "__pycache__"))
    code = ("import deltanet, deltanet.gpu, deltanet.context_parallel; "
            "assert deltanet.EXTENSION_ERROR is not None; assert not hasattr(deltanet, 'compile'); print('ok')")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_op_functions_for_gpu_take_cuda_tensors_only():
    a = np.zeros((2, 16, 16), np.float32)
    with pytest.raises(TypeError, match=r"a is a NumPy array \(host memory\): target='gpu' takes torch CUDA"):
        deltanet.tri_inv(a, target="gpu")
    q = np.zeros((1, 64, 1, 16), np.float32)
    g = np.zeros((1, 64, 1), np.float32)
    with pytest.raises(TypeError, match=r"q is a NumPy array"):
        deltanet.chunk_gated_delta_rule(q, q, q, g, g, target="gpu")
    with pytest.raises(TypeError, match=r"k is a NumPy array"):
        deltanet.gated_delta_rule_summary(q, q, g, g, target="gpu")
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"q is on cpu: target='gpu' takes CUDA tensors"):
        deltanet.recurrent_gated_delta_rule(*(torch.from_numpy(x) for x in (q, q, q, g, g)), target="gpu")
    with pytest.raises(ValueError, match="deltanet.gpu.segment_parallel_chunk_gated_delta_rule"):
        deltanet.segment_parallel_chunk_gated_delta_rule(q, q, q, g, g, target="gpu")


def test_manifest_records_promised_alignment():
    """16-byte accesses are checked by the kernels by default (nothing promised);
    check-global-alignment=false promises global-alignment to the kernels."""
    assert dg.promised_alignment() == 0
    assert dg.promised_alignment("global-alignment=16") == 0
    assert dg.promised_alignment("check-global-alignment=false") == 16
    assert dg.promised_alignment(["global-alignment=8", "check-global-alignment=false"]) == 8
    assert dg.promised_alignment("global-alignment=0 check-global-alignment=false") == 0
    assert dg.manifest(TRI_INV)["promised_alignment"] == 0
    assert dg.manifest(TRI_INV, "check-global-alignment=false")["promised_alignment"] == 16


def test_loader_checks_promised_alignment(artifact, tmp_path):
    """The default artifact takes any element-aligned buffer (the kernel checks);
    one built with check-global-alignment=false rejects a buffer that is not
    16-byte aligned before the device is touched."""
    misaligned, aligned = DeviceArray((4, 16, 16), pointer=0x7F0000000004), DeviceArray((4, 16, 16))
    assert artifact["tri_inv"].promised_alignment == 0
    artifact["tri_inv"].check(misaligned, aligned)
    source = tmp_path / "tri_inv.mlir"
    source.write_text(TRI_INV)
    out = tmp_path / "tri_inv_promised.so"
    env = dict(os.environ, DELTANET_BUILD_DIR=BUILD, DELTANET_PYTHON=sys.executable)
    subprocess.run([os.path.join(ROOT, "scripts", "gpu-aot.sh"), str(source), str(out), "check-global-alignment=false"],
                   check=True, env=env)
    promised = dg.load(str(out))["tri_inv"]
    assert promised.promised_alignment == 16
    promised.check(aligned, aligned)
    with pytest.raises(ValueError, match=r"argument 0 \(%a\).*0x7f0000000004, not a multiple of 16 bytes"):
        promised(misaligned, aligned)
    if not have_driver():
        with pytest.raises(RuntimeError, match="no CUDA driver"):
            promised(aligned, aligned)


@pytest.mark.skipif(have_driver(), reason="an NVIDIA driver is present")
def test_compile_for_gpu_promised_alignment():
    fn = deltanet.compile(TRI_INV, "tri_inv", target="gpu", check_global_alignment=False)
    assert fn.promised_alignment == 16
    with pytest.raises(ValueError, match="not a multiple of 16 bytes"):
        fn(DeviceArray((4, 16, 16), pointer=0x7F0000000008), DeviceArray((4, 16, 16)))
    assert deltanet.compile(TRI_INV, "tri_inv", target="gpu").promised_alignment == 0


def test_prologue_inverse_emulation():
    """bench/gpu/emulate_prologue_inverse.py (numpy, the prologue chain's
    operand rounding): the whole-chunk Neumann product is wrong on
    correlated keys without decay even in float64, the blocked inverse the
    chain uses is right, and its split (f32) operands are far below the
    bf16 rounding of T that the WY products then apply."""
    sys.path.insert(0, os.path.join(ROOT, "bench", "gpu"))
    try:
        import emulate_prologue_inverse as emu
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(1)
    for realistic, corr in ((True, 0.0), (False, 0.9)):
        a = emu.chunks(rng, 8, corr=corr, realistic=realistic)
        ref = np.linalg.inv(np.eye(64) + a)

        def err(x):
            return np.linalg.norm(x - ref) / np.linalg.norm(ref)

        assert err(emu.blocked(a, "f64")) < 1e-6
        assert err(emu.blocked(a, "split")) < 2e-4
        assert err(emu.blocked(a, "split")) < 0.2 * err(emu.bf16(ref))
        if not realistic:
            assert err(emu.neumann(a, "f64")) > 1e-1
