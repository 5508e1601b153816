"""Lone chunk_state_scan artifacts (bench/gpu/scan_state.mlir, e.g. built with
`scripts/gpu-aot.sh bench/gpu/scan_state.mlir OUT.so chunk-precision=bf16 scan-mma-chain=true`: M=4 NC=3 C=64 K=128 V=64, bf16 k/w/states/v_new)
against a float64 reference of the op's semantics (k/w rounded as given). Usage: scan_check.py LIB.so..."""
import sys, torch
from bench import Artifact

torch.manual_seed(0)
M, NC, C, K, V = 4, 3, 64, 128, 64
dev = "cuda"
k = (torch.randn(M, NC, C, K) / K**0.5).to(torch.bfloat16)
w = (torch.randn(M, NC, C, K) / K**0.5).to(torch.bfloat16)
u = torch.randn(M, NC, C, V)
g = -torch.cumsum(torch.rand(M, NC, C) * 0.05, dim=-1)
h0 = torch.randn(M, K, V) * 0.5


def reference():
    S = h0.double().clone()
    states = torch.zeros(M, NC, K, V, dtype=torch.float64); vnew = torch.zeros(M, NC, C, V, dtype=torch.float64)
    for c in range(NC):
        states[:, c] = S
        vn = u[:, c].double() - w[:, c].double() @ S
        vnew[:, c] = vn
        gl = g[:, c, -1].double()
        kd = k[:, c].double() * torch.exp(gl[:, None] - g[:, c].double())[..., None]
        S = torch.exp(gl)[:, None, None] * S + kd.transpose(1, 2) @ vn
    return states, vnew, S


ref = reference()
ok = True
for lib in sys.argv[1:]:
    art = Artifact(lib)
    outs = [torch.full((M, NC, K, V), float("nan"), dtype=torch.bfloat16, device=dev),
            torch.full((M, NC, C, V), float("nan"), dtype=torch.bfloat16, device=dev),
            torch.full((M, K, V), float("nan"), device=dev)]
    art("scan", k.to(dev), w.to(dev), u.to(dev), g.to(dev), h0.to(dev), *outs)
    torch.cuda.synchronize()
    for name, got, want in zip(("states", "v_new", "final"), outs, ref):
        got = got.double().cpu()
        err = ((got - want).norm() / want.norm()).item()
        bad = (~torch.isfinite(got)).sum().item()
        print(f"{lib} {name}: rel err {err:.3e}, non-finite {bad}", flush=True)
        if not (err < 2e-2) or bad:
            ok = False
            d = (got - want).abs()
            # where it goes wrong: per chunk, per row / column block of 8
            if got.dim() == 4:
                print("   per chunk:", [f"{((got[:, c] - want[:, c]).norm() / want[:, c].norm()).item():.2e}" for c in range(NC)])
            print("   first bad index:", (d > 1e-1 * want.abs().max()).nonzero()[:4].tolist())
            print("   got  ", got.reshape(-1)[:8].tolist()); print("   want ", want.reshape(-1)[:8].tolist())
print("scan check:", "PASS" if ok else "FAIL")
