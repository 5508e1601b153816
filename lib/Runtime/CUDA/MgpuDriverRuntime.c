/*===- MgpuDriverRuntime.c - mgpu* host runtime over the CUDA driver ------===*
 *
 * MLIR's gpu-to-llvm lowering turns gpu.launch_func, gpu.alloc, gpu.memcpy,
 * gpu.wait, ... into calls of ~20 `mgpu*` C functions, which upstream
 * implements in libmlir_cuda_runtime (CudaRuntimeWrappers.cpp). Debian's
 * MLIR 22 packages do not ship that library, and it links libcuda at build
 * time; this file is our replacement, written by hand because nothing
 * upstream provides it here. It reaches the driver only through
 * dlopen("libcuda.so.1") with the few entry points declared below (their
 * signatures are the CUDA driver API's, which is ABI-stable), so that an
 * artifact linked with it builds where no CUDA is installed and reports "no
 * CUDA driver" cleanly where none is present.
 *
 * Failures of driver calls made by generated code are fatal: the message
 * names the call and the CUDA error, and the process exits with status 1
 * (the generated host code has no way to receive an error). Callers that
 * must not exit check deltanetGpuRuntimeInit() first.
 *
 *===----------------------------------------------------------------------===*/

#include "deltanet/Runtime/CUDA/MgpuDriverRuntime.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*===- The driver API subset (cuda.h is not needed to build) --------------===*/

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;
typedef struct CUmemPoolHandle_st *CUmemoryPool;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_DEINITIALIZED = 4,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
  CU_JIT_OPTIMIZATION_LEVEL = 7,
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
  CU_STREAM_DEFAULT = 0,
  CU_EVENT_DEFAULT = 0,
  CU_MEM_ATTACH_GLOBAL = 1,
  CU_MEMPOOL_ATTR_RELEASE_THRESHOLD = 4,
};

#define DRIVER_FUNCTIONS(X)                                                    \
  X(cuInit, "cuInit", (unsigned))                                              \
  X(cuGetErrorName, "cuGetErrorName", (CUresult, const char **))               \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *))                             \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice *, int))                             \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",                      \
    (CUcontext *, CUdevice))                                                   \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext))                           \
  X(cuCtxGetCurrent, "cuCtxGetCurrent", (CUcontext *))                         \
  X(cuCtxGetDevice, "cuCtxGetDevice", (CUdevice *))                            \
  X(cuModuleLoadData, "cuModuleLoadData", (CUmodule *, const void *))          \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx",                                  \
    (CUmodule *, const void *, unsigned, int *, void **))                      \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule))                              \
  X(cuModuleGetFunction, "cuModuleGetFunction",                                \
    (CUfunction *, CUmodule, const char *))                                    \
  X(cuFuncSetAttribute, "cuFuncSetAttribute", (CUfunction, int, int))          \
  X(cuLaunchKernel, "cuLaunchKernel",                                          \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,   \
     unsigned, CUstream, void **, void **))                                    \
  X(cuStreamCreate, "cuStreamCreate", (CUstream *, unsigned))                  \
  X(cuStreamDestroy, "cuStreamDestroy_v2", (CUstream))                         \
  X(cuStreamSynchronize, "cuStreamSynchronize", (CUstream))                    \
  X(cuStreamWaitEvent, "cuStreamWaitEvent", (CUstream, CUevent, unsigned))     \
  X(cuEventCreate, "cuEventCreate", (CUevent *, unsigned))                     \
  X(cuEventDestroy, "cuEventDestroy_v2", (CUevent))                            \
  X(cuEventSynchronize, "cuEventSynchronize", (CUevent))                       \
  X(cuEventRecord, "cuEventRecord", (CUevent, CUstream))                       \
  X(cuMemAllocAsync, "cuMemAllocAsync", (CUdeviceptr *, size_t, CUstream))     \
  X(cuMemFreeAsync, "cuMemFreeAsync", (CUdeviceptr, CUstream))                 \
  X(cuDeviceGetMemPool, "cuDeviceGetMemPool", (CUmemoryPool *, CUdevice))      \
  X(cuMemPoolSetAttribute, "cuMemPoolSetAttribute",                            \
    (CUmemoryPool, int, void *))                                               \
  X(cuMemPoolTrimTo, "cuMemPoolTrimTo", (CUmemoryPool, size_t))                \
  X(cuMemAllocManaged, "cuMemAllocManaged",                                    \
    (CUdeviceptr *, size_t, unsigned))                                         \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr))                                  \
  X(cuMemcpyAsync, "cuMemcpyAsync",                                            \
    (CUdeviceptr, CUdeviceptr, size_t, CUstream))                              \
  X(cuMemsetD32Async, "cuMemsetD32Async",                                      \
    (CUdeviceptr, unsigned, size_t, CUstream))                                 \
  X(cuMemsetD16Async, "cuMemsetD16Async",                                      \
    (CUdeviceptr, unsigned short, size_t, CUstream))

#define DECLARE(name, symbol, params) static CUresult(*p_##name) params;
DRIVER_FUNCTIONS(DECLARE)
#undef DECLARE

/*===- Initialisation and errors ------------------------------------------===*/

static pthread_once_t initOnce = PTHREAD_ONCE_INIT;
static int initStatus = -1;     /* 0 = ready */
static char initMessage[512];
static CUcontext context;
static CUstream externalStream; /* deltanetGpuRuntimeUseStream */
static int useExternalStream;
static int defaultDevice;
static int activeDevice = -1;   /* the device of `context` */
static CUmemoryPool memoryPool; /* the pool cuMemAllocAsync draws from */

static const char *errorName(CUresult status) {
  const char *name = NULL;
  if (p_cuGetErrorName && p_cuGetErrorName(status, &name) == CUDA_SUCCESS &&
      name)
    return name;
  return "unknown CUDA error";
}

/* The generated host code allocates every temporary with gpu.alloc and
 * frees it before returning (mgpuMemAlloc / mgpuMemFree: cuMemAllocAsync /
 * cuMemFreeAsync on the device's current memory pool). That pool's release
 * threshold is 0 by default: at every synchronisation the driver unmaps the
 * freed memory, and the next call maps it again, page by page (at the
 * attention's large shape ~1 GB of stage temporaries per call). Like
 * PyTorch's caching allocator, keep freed memory in the pool for the next
 * call; deltanetGpuRuntimeReleaseCachedMemory gives it back. The pool is the
 * device's, shared with other cuMemAllocAsync users of the process (PyTorch
 * allocates through its own allocator, not this pool). */
static int retainFreedMemory(CUdevice device) {
  CUresult status = p_cuDeviceGetMemPool(&memoryPool, device);
  unsigned long long keepAll = ~0ull;
  if (status == CUDA_SUCCESS)
    status = p_cuMemPoolSetAttribute(
        memoryPool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keepAll);
  if (status != CUDA_SUCCESS) {
    snprintf(initMessage, sizeof(initMessage),
             "CUDA device %d: cannot configure its memory pool (%s)",
             (int)device, errorName(status));
    return -1;
  }
  return 0;
}

static void initialize(void) {
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    snprintf(initMessage, sizeof(initMessage),
             "no CUDA driver: cannot load libcuda.so.1 (%s)", dlerror());
    return;
  }
#define RESOLVE(name, symbol, params)                                          \
  p_##name = (CUresult(*) params)dlsym(driver, symbol);                        \
  if (!p_##name) {                                                             \
    snprintf(initMessage, sizeof(initMessage),                                 \
             "no CUDA driver: libcuda.so.1 lacks %s (driver too old?)",        \
             symbol);                                                          \
    return;                                                                    \
  }
  DRIVER_FUNCTIONS(RESOLVE)
#undef RESOLVE
  CUresult status = p_cuInit(0);
  if (status != CUDA_SUCCESS) {
    snprintf(initMessage, sizeof(initMessage),
             "no CUDA driver: cuInit failed with %s", errorName(status));
    return;
  }
  /* A context already current on this thread (the caller's: PyTorch makes
   * its device's primary context current) decides the device, so that an
   * artifact loaded by a process working on device N runs there; else the
   * primary context of `defaultDevice`. Modules are loaded by global
   * constructors: this runs when the artifact is loaded. */
  CUcontext current = NULL;
  CUdevice currentDevice = 0;
  if (p_cuCtxGetCurrent(&current) == CUDA_SUCCESS && current &&
      p_cuCtxGetDevice(&currentDevice) == CUDA_SUCCESS) {
    context = current;
    activeDevice = (int)currentDevice;
    initStatus = retainFreedMemory(currentDevice);
    return;
  }
  int count = 0;
  status = p_cuDeviceGetCount(&count);
  if (status != CUDA_SUCCESS || count <= defaultDevice) {
    snprintf(initMessage, sizeof(initMessage),
             "no CUDA device: %d device(s) visible, device %d requested", count,
             defaultDevice);
    return;
  }
  CUdevice device;
  if ((status = p_cuDeviceGet(&device, defaultDevice)) != CUDA_SUCCESS ||
      (status = p_cuDevicePrimaryCtxRetain(&context, device)) !=
          CUDA_SUCCESS) {
    snprintf(initMessage, sizeof(initMessage),
             "no CUDA device: cannot open device %d (%s)", defaultDevice,
             errorName(status));
    return;
  }
  activeDevice = defaultDevice;
  initStatus = retainFreedMemory(device);
}

int deltanetGpuRuntimeDevice(void) {
  return deltanetGpuRuntimeInit(NULL, 0) == 0 ? activeDevice : -1;
}

int deltanetGpuRuntimeInit(char *message, size_t messageSize) {
  pthread_once(&initOnce, initialize);
  if (initStatus != 0 && message && messageSize)
    snprintf(message, messageSize, "%s", initMessage);
  return initStatus;
}

static void fatal(const char *what, const char *detail) {
  fprintf(stderr, "deltanet-gpu-runtime: %s: %s\n", what, detail);
  exit(1);
}

/* Every mgpu* function starts here: the driver is ready and the context is
 * current on the calling thread, or the process ends with the reason. */
static void ensureReady(const char *what) {
  if (deltanetGpuRuntimeInit(NULL, 0) != 0)
    fatal(what, initMessage);
  CUresult status = p_cuCtxSetCurrent(context);
  if (status != CUDA_SUCCESS)
    fatal("cuCtxSetCurrent", errorName(status));
}

static void check(CUresult status, const char *call) {
  if (status != CUDA_SUCCESS)
    fatal(call, errorName(status));
}

void deltanetGpuRuntimeUseStream(void *stream) {
  externalStream = (CUstream)stream;
  useExternalStream = 1;
}

void deltanetGpuRuntimeUseOwnStreams(void) {
  useExternalStream = 0;
  externalStream = NULL;
}

void mgpuSetDefaultDevice(int32_t device) { defaultDevice = device; }

static CUstream streamOf(void *stream) {
  return useExternalStream ? externalStream : (CUstream)stream;
}

/*===- Modules and launches -----------------------------------------------===*/

void *mgpuModuleLoad(void *data, size_t gpuBlobSize) {
  (void)gpuBlobSize;
  /* Called from global constructors: without a driver, record nothing and
   * let the first launch report why. */
  if (deltanetGpuRuntimeInit(NULL, 0) != 0)
    return NULL;
  ensureReady("mgpuModuleLoad");
  CUmodule module = NULL;
  check(p_cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  if (deltanetGpuRuntimeInit(NULL, 0) != 0)
    return NULL;
  ensureReady("mgpuModuleLoadJIT");
  char log[8192] = {0};
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                   CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, (void *)(uintptr_t)sizeof(log),
                    (void *)(intptr_t)optLevel};
  CUmodule module = NULL;
  CUresult status = p_cuModuleLoadDataEx(&module, data, 3, options, values);
  if (status != CUDA_SUCCESS) {
    fprintf(stderr, "deltanet-gpu-runtime: PTX JIT log:\n%s\n", log);
    fatal("cuModuleLoadDataEx (PTX JIT)", errorName(status));
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  if (!module || initStatus != 0)
    return;
  /* From global destructors the driver may already have shut down. */
  CUresult status = p_cuModuleUnload((CUmodule)module);
  if (status != CUDA_SUCCESS && status != CUDA_ERROR_DEINITIALIZED)
    fatal("cuModuleUnload", errorName(status));
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  ensureReady("mgpuModuleGetFunction");
  if (!module)
    fatal("mgpuModuleGetFunction", "the GPU module was not loaded");
  CUfunction function = NULL;
  check(p_cuModuleGetFunction(&function, (CUmodule)module, name),
        "cuModuleGetFunction");
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  (void)paramsCount;
  ensureReady("mgpuLaunchKernel");
  /* An empty grid runs no block (gpu.launch's meaning; the driver would
   * reject it): deltanet-gpu-annotate-vector-alignment launches the aligned
   * and the element-aligned kernel of a checked launch with one of them
   * empty. */
  if (gridX == 0 || gridY == 0 || gridZ == 0)
    return;
  /* More than 48 KiB of shared memory (static included: the dynamic
   * shared memory symbol itself takes a byte) must be opted into. */
  if (smem > 32 * 1024)
    check(p_cuFuncSetAttribute((CUfunction)function,
                               CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                               smem),
          "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
  check(p_cuLaunchKernel((CUfunction)function, (unsigned)gridX,
                         (unsigned)gridY, (unsigned)gridZ, (unsigned)blockX,
                         (unsigned)blockY, (unsigned)blockZ, (unsigned)smem,
                         streamOf(stream), params, extra),
        "cuLaunchKernel");
}

/*===- Streams and events -------------------------------------------------===*/

void *mgpuStreamCreate(void) {
  ensureReady("mgpuStreamCreate");
  if (useExternalStream)
    return externalStream;
  /* Blocking: ordered with the legacy default stream, which callers that
   * know nothing of streams use. */
  CUstream stream = NULL;
  check(p_cuStreamCreate(&stream, CU_STREAM_DEFAULT), "cuStreamCreate");
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  if (useExternalStream && (CUstream)stream == externalStream)
    return;
  ensureReady("mgpuStreamDestroy");
  check(p_cuStreamDestroy((CUstream)stream), "cuStreamDestroy");
}

void mgpuStreamSynchronize(void *stream) {
  if (useExternalStream && (CUstream)stream == externalStream)
    return;
  ensureReady("mgpuStreamSynchronize");
  check(p_cuStreamSynchronize((CUstream)stream), "cuStreamSynchronize");
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  ensureReady("mgpuStreamWaitEvent");
  check(p_cuStreamWaitEvent(streamOf(stream), (CUevent)event, 0),
        "cuStreamWaitEvent");
}

void *mgpuEventCreate(void) {
  ensureReady("mgpuEventCreate");
  CUevent event = NULL;
  check(p_cuEventCreate(&event, CU_EVENT_DEFAULT), "cuEventCreate");
  return event;
}

void mgpuEventDestroy(void *event) {
  ensureReady("mgpuEventDestroy");
  check(p_cuEventDestroy((CUevent)event), "cuEventDestroy");
}

void mgpuEventSynchronize(void *event) {
  ensureReady("mgpuEventSynchronize");
  check(p_cuEventSynchronize((CUevent)event), "cuEventSynchronize");
}

void mgpuEventRecord(void *event, void *stream) {
  ensureReady("mgpuEventRecord");
  check(p_cuEventRecord((CUevent)event, streamOf(stream)), "cuEventRecord");
}

/*===- Memory -------------------------------------------------------------===*/

void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, int8_t isHostShared) {
  ensureReady("mgpuMemAlloc");
  CUdeviceptr ptr = 0;
  if (sizeBytes == 0)
    return NULL;
  if (isHostShared)
    check(p_cuMemAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL),
          "cuMemAllocManaged");
  else /* Stream-ordered: no device-wide synchronisation. */
    check(p_cuMemAllocAsync(&ptr, sizeBytes, streamOf(stream)),
          "cuMemAllocAsync");
  return (void *)ptr;
}

void deltanetGpuRuntimeReleaseCachedMemory(void) {
  if (deltanetGpuRuntimeInit(NULL, 0) != 0)
    return;
  ensureReady("deltanetGpuRuntimeReleaseCachedMemory");
  check(p_cuMemPoolTrimTo(memoryPool, 0), "cuMemPoolTrimTo");
}

void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr)
    return;
  ensureReady("mgpuMemFree");
  check(p_cuMemFreeAsync((CUdeviceptr)ptr, streamOf(stream)), "cuMemFreeAsync");
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  ensureReady("mgpuMemcpy");
  check(p_cuMemcpyAsync((CUdeviceptr)dst, (CUdeviceptr)src, sizeBytes,
                        streamOf(stream)),
        "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, uint32_t value, size_t count, void *stream) {
  ensureReady("mgpuMemset32");
  check(p_cuMemsetD32Async((CUdeviceptr)dst, value, count, streamOf(stream)),
        "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, uint16_t value, size_t count, void *stream) {
  ensureReady("mgpuMemset16");
  check(p_cuMemsetD16Async((CUdeviceptr)dst, value, count, streamOf(stream)),
        "cuMemsetD16Async");
}
