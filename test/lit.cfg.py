# -*- Python -*-
# lit configuration of the deltanet regression and integration tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "DELTANET"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".c"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.deltanet_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "lib", "python"]

llvm_config.use_default_substitutions()

runner_utils = os.path.join(config.mlir_runner_utils_dir, "libmlir_runner_utils.so")
c_runner_utils = os.path.join(config.mlir_runner_utils_dir, "libmlir_c_runner_utils.so")
config.substitutions.append(("%python", config.deltanet_python))

# Test helpers of test/lib, by name, so that tests can live at any depth:
# %NAME runs test/lib/NAME.py with the project's Python and `args`.
test_lib = os.path.join(config.test_source_root, "lib")


def add_test_lib_script(name, *args):
    command = [config.deltanet_python, os.path.join(test_lib, name + ".py"), *args]
    config.substitutions.append(("%" + name, " ".join(command)))


for name in ("exit_code", "differential", "gdr_testgen", "summary_testgen", "tri_inv_testgen"):
    add_test_lib_script(name)
# C emitted by --deltanet-npu-pipeline, compiled with the system C compiler
# and run through runtime/npu (test/lib/npu_testgen.py).
add_test_lib_script(
    "npu_testgen",
    "--opt", os.path.join(config.deltanet_tools_dir, "deltanet-opt"),
    "--translate", os.path.join(config.llvm_tools_dir, "mlir-translate"),
    "--runtime", os.path.join(os.path.dirname(config.test_source_root), "runtime", "npu"),
)
# mlir-runner at -O0: the same results in a tenth of the JIT time (LLVM -O3
# dominates the run time of small integration programs). Listed before
# %mlir_runner, which is its prefix.
config.substitutions.append(
    (
        "%mlir_runner_O0",
        os.path.join(config.llvm_tools_dir, "mlir-runner")
        + " -e main -entry-point-result=void -O0"
        + f" -shared-libs={runner_utils},{c_runner_utils}",
    )
)
config.substitutions.append(
    (
        "%mlir_runner",
        os.path.join(config.llvm_tools_dir, "mlir-runner")
        + " -e main -entry-point-result=void -O3"
        + f" -shared-libs={runner_utils},{c_runner_utils}",
    )
)

# Shared libraries: ours (test/CAPI inspects them) and LLVM's.
config.substitutions.append(("%deltanet_lib_dir", os.path.join(config.deltanet_obj_root, "lib")))
config.substitutions.append(("%llvm_lib_dir", config.llvm_lib_dir))

tool_dirs = [config.deltanet_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["deltanet-opt", "deltanet-capi-test"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.deltanet_tools_dir, append_path=True)

# The GPU pipeline's tensor and buffer stages run on the CPU
# (test/lib/gpu_emulate.py).
add_test_lib_script(
    "gpu_emulate",
    "--opt", os.path.join(config.deltanet_tools_dir, "deltanet-opt"),
    "--llvm-bin", config.llvm_tools_dir,
    "--c-runner-utils", c_runner_utils,
)

# GPU: the AOT helper, and whether an NVIDIA driver is present (CI has none:
# tests of the "no CUDA driver" path are unsupported where one is).
config.substitutions.append(
    ("%gpu_aot", "env DELTANET_BUILD_DIR=" + config.deltanet_obj_root + " "
     + os.path.join(os.path.dirname(config.test_source_root), "scripts", "gpu-aot.sh"))
)
try:
    import ctypes

    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass

# CPU: whether the host executes AVX512_BF16 (vdpbf16ps), for the tests that
# run code compiled with bf16-dot-products=1.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        if "avx512_bf16" in cpuinfo.read().split():
            config.available_features.add("avx512bf16")
except OSError:
    pass
