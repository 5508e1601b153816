#!/usr/bin/env python3
"""One warm call of the attention (ours or fla) inside a CUDA profiler window,
for ncu --profile-from-start off (fla's Triton autotuning and our module load
run before the window, so every kernel ncu sees belongs to the one call).

  ncu --profile-from-start off --clock-control none --section SpeedOfLight \\
      --section Occupancy --section WarpStateStats --section LaunchStats \\
      python3 profile_gdr_window.py lib/gdr.so large     # ours
  ncu ... python3 profile_gdr_window.py fla large        # fla
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gdr_peers  # noqa: E402
from bench import Artifact  # noqa: E402

which = sys.argv[1]
name = sys.argv[2] if len(sys.argv) > 2 else "large"
shape = gdr_peers.SHAPES[0 if name == "large" else 1]
q, k, v, g, beta = gdr_peers.inputs(shape)
scale = shape["K"] ** -0.5
h0 = torch.zeros(shape["B"], shape["HV"], shape["K"], shape["V"], device="cuda")
o, ht = torch.empty_like(v), torch.empty_like(h0)
if which == "fla":
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    call = lambda: chunk_gated_delta_rule(q, k, v, g, beta, scale=scale, output_final_state=True)  # noqa: E731
else:
    art = Artifact(which)
    call = lambda: art(f"gdr_{name}", q, k, v, g, beta, h0, o, ht)  # noqa: E731
for _ in range(3):
    call()
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStart()
call()
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStop()
