/*===- MgpuDriverRuntime.h - mgpu* host runtime over the CUDA driver -*- C -*-===*
 *
 * The functions that MLIR's gpu-to-llvm host code calls (mgpuModuleLoad,
 * mgpuLaunchKernel, mgpuMemAlloc, ...) plus deltanet's own control entry
 * points. Everything goes through dlopen("libcuda.so.1"): a program linked
 * with this runtime needs the NVIDIA driver and nothing else at run time, and
 * starts (and reports why not) on a machine without one.
 *
 *===----------------------------------------------------------------------===*/

#ifndef DELTANET_RUNTIME_CUDA_MGPUDRIVERRUNTIME_H
#define DELTANET_RUNTIME_CUDA_MGPUDRIVERRUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Loads the driver, initialises it and takes the context current on the
 * calling thread, or else the primary context of the default device (the
 * one PyTorch and the CUDA runtime use; see deltanetGpuRuntimeDevice). Returns 0 on success; else
 * non-zero with a message ("no CUDA driver: ...", "no CUDA device: ...") in
 * `message` (if not NULL). Safe to call any number of times. */
int deltanetGpuRuntimeInit(char *message, size_t messageSize);

/* The device ordinal the runtime works on (after initialising it), -1
 * without a driver. The first initialisation (at the latest when an
 * artifact's global constructors load its modules) takes the CUDA context
 * current on the calling thread if there is one (PyTorch's device), else the
 * primary context of the device of mgpuSetDefaultDevice (0). */
int deltanetGpuRuntimeDevice(void);

/* Routes every launch, copy and allocation of the generated host code to
 * `stream` (a CUstream; NULL is the legacy default stream). While one is
 * set, mgpuStreamSynchronize and mgpuStreamDestroy leave that stream alone:
 * the caller synchronises (as with any asynchronous CUDA library), so that
 * work can be timed with events and is ordered with the caller's other work
 * on the stream. */
void deltanetGpuRuntimeUseStream(void *stream);

/* Back to the default: a fresh stream per mgpuStreamCreate (blocking with
 * respect to the legacy default stream), synchronised by the generated code
 * before it returns. */
void deltanetGpuRuntimeUseOwnStreams(void);

/* Device memory freed by the kernels' host code stays in the device's
 * memory pool (cuMemAllocAsync's) for the next call instead of being unmapped
 * at every synchronisation, as PyTorch's caching allocator keeps its blocks;
 * this returns the unused part of the pool to the driver (the counterpart of
 * torch.cuda.empty_cache()). Does nothing without a driver. */
void deltanetGpuRuntimeReleaseCachedMemory(void);

/* mgpu* entry points, as declared by MLIR's gpu-to-llvm lowering. */
void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, int8_t isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, uint32_t value, size_t count, void *stream);
void mgpuMemset16(void *dst, uint16_t value, size_t count, void *stream);
void mgpuSetDefaultDevice(int32_t device);

#ifdef __cplusplus
}
#endif

#endif /* DELTANET_RUNTIME_CUDA_MGPUDRIVERRUNTIME_H */
