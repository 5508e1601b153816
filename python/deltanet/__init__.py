"""deltanet: compile and run chunk-wise Gated DeltaNet kernels (MLIR) on NumPy arrays.

Low level:
  run_pipeline(mlir_text, pipeline="deltanet-cpu-pipeline", **options) -> str
  compile(mlir_text, entry, target="cpu", **options) -> callable on arrays
High level (kernels compiled once per shape/dtype/options and cached):
  tri_inv(a, strategy="blocked", block_size=None, order=None, residual_steps=0,
          precision="f32")
  chunk_gated_delta_rule(q, k, v, g, beta, initial_state=None, chunk_size=64,
                         scale=None, use_qk_l2norm=False, precision="f32")
      -> (o, final_state)
  recurrent_gated_delta_rule(q, k, v, g, beta, initial_state=None,
                             scale=None, use_qk_l2norm=False)
      -> (o, final_state)
  (both take cu_seqlens=: int32/int64 offsets of N sequences packed along T,
   B = 1, states [N, HV, K, V]; flash-linear-attention's convention)
PyTorch drop-in for flash-linear-attention (imports torch):
  deltanet.torch.chunk_gated_delta_rule / fused_recurrent_gated_delta_rule
Segments (docs/ContextParallel.md):
  gated_delta_rule_summary(k, v, g, beta, chunk_size=64, ...) -> (m, u)
      the state leaving a segment is m @ h_in + u
  compose_summaries(first, second), apply_summary(summary, state)
  segment_parallel_chunk_gated_delta_rule(q, k, v, g, beta, ..., threads=2)
      one long sequence on several threads
  deltanet.context_parallel: the same across torch.distributed ranks
GPU (deltanet.gpu, pure Python: works without the compiled extension):
  deltanet.gpu.load("x.so") -> artifact of scripts/gpu-aot.sh, its entry
      points callable on torch CUDA tensors (torch's current stream)
  compile(text, entry, target="gpu") -> the same for a kernel JIT-compiled here
float64 references: deltanet.reference. Report: python3 -m deltanet.report.
"""

from . import inputs, reference

try:
    from . import _deltanet  # noqa: F401  (the compiled extension: MLIR, the JIT)
except ImportError as _error:
    # A machine without MLIR (e.g. a GPU machine running ahead-of-time
    # artifacts): deltanet.gpu, deltanet.reference and
    # deltanet.context_parallel on CUDA tensors work; the compiler does not.
    EXTENSION_ERROR = _error
else:
    EXTENSION_ERROR = None
    from ._api import chunk_gated_delta_rule, recurrent_gated_delta_rule, tri_inv
    from ._kernels import CACHE as kernel_cache
    from ._pipeline import CPU_PIPELINE, compile, cpu_pipeline_options, run_pipeline
    from ._summary import (apply_summary, compose_summaries, gated_delta_rule_summary,
                           segment_parallel_chunk_gated_delta_rule)

__all__ = [
    "CPU_PIPELINE",
    "EXTENSION_ERROR",
    "apply_summary",
    "compose_summaries",
    "gated_delta_rule_summary",
    "segment_parallel_chunk_gated_delta_rule",
    "chunk_gated_delta_rule",
    "compile",
    "cpu_pipeline_options",
    "inputs",
    "kernel_cache",
    "recurrent_gated_delta_rule",
    "reference",
    "run_pipeline",
    "tri_inv",
]
