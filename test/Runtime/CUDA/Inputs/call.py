"""Loads a GPU AOT artifact: `init` prints deltanetGpuRuntimeInit's answer
(after deltanetGpuRuntimeReleaseCachedMemory, which must do nothing without a
driver); `call` calls _mlir_ciface_tri_inv with empty descriptors (the runtime must
stop before touching them when there is no driver)."""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
if sys.argv[2] == "init":
    lib.deltanetGpuRuntimeReleaseCachedMemory()
    message = ctypes.create_string_buffer(512)
    status = lib.deltanetGpuRuntimeInit(message, 512)
    print(f"init {status}: {message.value.decode()}")
else:
    class Memref3(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64),
                    ("sizes", ctypes.c_int64 * 3), ("strides", ctypes.c_int64 * 3)]
    a, x = Memref3(), Memref3()
    lib._mlir_ciface_tri_inv(ctypes.byref(a), ctypes.byref(x))
    print("returned")
