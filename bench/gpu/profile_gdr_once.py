#!/usr/bin/env python3
"""One call of a gdr artifact's entry point at an issue shape (for ncu).

  ncu --clock-control none -k regex:gdr_large --launch-skip 10 --launch-count 1 \\
      python3 profile_gdr_once.py lib/gdr.so large
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gdr_peers  # noqa: E402
from bench import Artifact  # noqa: E402

torch.zeros(1, device="cuda")
art = Artifact(sys.argv[1])
name = sys.argv[2] if len(sys.argv) > 2 else "large"
shape = gdr_peers.SHAPES[0 if name == "large" else 1]
q, k, v, g, beta = gdr_peers.inputs(shape)
h0 = torch.zeros(shape["B"], shape["HV"], shape["K"], shape["V"], device="cuda")
o, ht = torch.empty_like(v), torch.empty_like(h0)
art(f"gdr_{name}", q, k, v, g, beta, h0, o, ht)
torch.cuda.synchronize()
