#!/usr/bin/env python3
"""Locates wrong entries of the GPU tri_inv: per 16x16 block of the 64x64
result, the largest error against float64 and the count of non-finite
values (correlated keys, no decay). Usage: debug_tri_inv.py LIB.so [N]."""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench import Artifact, chunk_matrices, reference_inverse  # noqa: E402

torch.zeros(1, device="cuda")
art = Artifact(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
gen = torch.Generator(device="cuda").manual_seed(7)
for corr, decay in ((0.9, 0.0), (0.0, 0.05)):
    a = chunk_matrices(n, corr=corr, decay=decay, gen=gen).float()
    ref = reference_inverse(a.double())
    x = torch.full_like(a, float("nan"))
    art("tri_inv_f32", a, x)
    torch.cuda.synchronize()
    print(f"corr={corr} decay={decay} n={n}: max|ref|={ref.abs().max().item():.3g}")
    for bi in range(4):
        cells = []
        for bj in range(4):
            xs = x[:, bi * 16:(bi + 1) * 16, bj * 16:(bj + 1) * 16].double()
            rs = ref[:, bi * 16:(bi + 1) * 16, bj * 16:(bj + 1) * 16]
            bad = (~torch.isfinite(xs)).sum().item()
            err = (xs - rs).abs().nan_to_num(nan=float("inf")).max().item()
            cells.append(f"{err:9.2e}/{bad:<6d}")
        print("  " + " ".join(cells))
