#!/usr/bin/env python3
"""One call of a tri_inv artifact on 16384 realistic matrices (for ncu)."""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench import Artifact, chunk_matrices  # noqa: E402

torch.zeros(1, device="cuda")
art = Artifact(sys.argv[1])
a = chunk_matrices(16384, decay=0.05).float()
x = torch.empty_like(a)
art("tri_inv_f32", a, x)
torch.cuda.synchronize()
