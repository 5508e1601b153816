#!/usr/bin/python3
"""Modeled NPU cycles of tri_inv strategies and of the chunk gated delta rule.

Every configuration is compiled by `deltanet-opt --deltanet-npu-pipeline` to C
through EmitC, built with the system C compiler and run on the host through
runtime/npu/npu_runtime.h, which executes every npu op and counts cycles per
unit (test/lib/npu_testgen.py drives one run). The same runs check accuracy
against float64, so every cycle count comes with the error of its output.

  bench/npu/npu_report.py tri-inv   [--out docs/npu-model]   # table + plot, ~5 min
  bench/npu/npu_report.py layer     [--out docs/npu-model]   # B=1 T=4096 H=16 K=V=128
  bench/npu/npu_report.py sensitivity [--out docs/npu-model] # assumptions varied

Writes <out>/<name>.json (raw results), prints Markdown tables, and for
tri-inv a plot <out>/tri_inv_cycles.png (python3-matplotlib).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTGEN = os.path.join(ROOT, "test", "lib", "npu_testgen.py")

# label, pipeline options, realistic-input accuracy bound of the CPU path
STRATEGIES = [
    ("forward substitution (fp16 rows)", "tri-inv-strategy=forward-substitution tri-inv-precision=f16", 1e-3),
    ("neumann exact, fp16", "tri-inv-strategy=neumann tri-inv-precision=f16", 1e-3),
    ("neumann order 3 + 1 residual, fp16", "tri-inv-strategy=neumann tri-inv-precision=f16 tri-inv-order=3 tri-inv-residual-steps=1", 1e-3),
    ("blocked 16, fp16", "tri-inv-strategy=blocked tri-inv-precision=f16 tri-inv-block-size=16", 1e-3),
    ("blocked 32, fp16", "tri-inv-strategy=blocked tri-inv-precision=f16 tri-inv-block-size=32", 1e-3),
    ("blocked 4, int8", "tri-inv-strategy=blocked tri-inv-precision=i8", 2e-2),
]
PRESETS = ["mobile", "datacenter"]


def run(args, options, cmd_args, on_chip=True):
    cmd = [sys.executable, TESTGEN, "--opt", args.opt, "--options", options]
    if on_chip:
        cmd.append("--on-chip")
    cmd += cmd_args
    proc = subprocess.run(cmd, capture_output=True, text=True)
    line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if not line.startswith("{"):
        sys.stderr.write(f"failed: {' '.join(cmd)}\n{proc.stderr}\n")
        return None
    return json.loads(line)


def fmt_cycles(x):
    return f"{x:,.0f}"


def tri_inv(args):
    results = []
    for preset in PRESETS:
        for c in args.sizes:
            for label, options, bound in STRATEGIES:
                if "block-size=32" in options and c < 32:
                    continue
                batch = args.batch
                # Each strategy at its best batch tile (matrices per loop
                # iteration): forward substitution wants many (to fill the
                # vector pipeline), the matmul strategies few (to keep their
                # intermediates in local memory).
                r = None
                for tile in (args.tiles_mobile if preset == "mobile" else args.tiles_datacenter):
                    cand = run(args, f"target={preset} {options} tri-inv-batch-tile={tile}",
                               ["--seed", str(c), "tri-inv", "--c", str(c), "--batch", str(batch), "--dist",
                                "realistic"])
                    if cand is not None and (r is None or cand["npu"]["cycles"] < r["npu"]["cycles"]):
                        r = dict(cand, batch_tile=tile)
                if r is None:
                    continue
                r.update({"preset": preset, "c": c, "strategy": label, "batch": batch, "bound": bound})
                results.append(r)
                print(f"{preset:10s} C={c:3d} {label:40s} tile {r['batch_tile']:2d} {r['npu']['cycles'] / batch:10.0f} cycles/matrix  "
                      f"error {r['error']:.1e}", file=sys.stderr)
    save(args, "tri_inv", results)
    print_tri_inv(results)
    plot_tri_inv(args, results)


def per_matrix(r, key=None):
    n = r["batch"]
    if key is None:
        return r["npu"]["cycles"] / n
    return r["npu"]["units"][key]["busy"] / n


def print_tri_inv(results):
    print("| preset | C | strategy | batch tile | rel. error (realistic) | cycles / matrix | dma in | dma out | matrix | vector | "
          "vs forward substitution | unit-bound vs forward substitution |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        base = next(b for b in results if b["preset"] == r["preset"] and b["c"] == r["c"]
                    and b["strategy"].startswith("forward"))
        bound = max(per_matrix(r, u) for u in r["npu"]["units"])
        base_bound = max(per_matrix(base, u) for u in base["npu"]["units"])
        ok = "" if r["error"] <= r["bound"] else " (over bound)"
        print(f"| {r['preset']} | {r['c']} | {r['strategy']} | {r['batch_tile']} | {r['error']:.1e}{ok} | {fmt_cycles(per_matrix(r))} | "
              + " | ".join(fmt_cycles(per_matrix(r, u)) for u in ("dma_in", "dma_out", "matrix", "vector"))
              + f" | {per_matrix(base) / per_matrix(r):.2f}x | {base_bound / bound:.2f}x |")


def plot_tri_inv(args, results):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(python3-matplotlib missing: no plot)", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, len(PRESETS), figsize=(12, 4.5), sharey=False)
    for ax, preset in zip(axes, PRESETS):
        for label, _, _ in STRATEGIES:
            rs = [r for r in results if r["preset"] == preset and r["strategy"] == label]
            if not rs:
                continue
            ax.plot([r["c"] for r in rs], [per_matrix(r) for r in rs], marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(args.sizes)
        ax.set_xticklabels([str(c) for c in args.sizes])
        ax.set_xlabel("chunk size C")
        ax.set_ylabel("modeled cycles per matrix")
        ax.set_title(f"tri_inv on the {preset} preset (operands on chip)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(args.out, "tri_inv_cycles.png")
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


LAYER_VARIANTS = [
    ("forward substitution (fp16 rows)", "tri-inv-strategy=forward-substitution tri-inv-precision=f16"),
    ("blocked 16, fp16", "tri-inv-strategy=blocked tri-inv-precision=f16"),
    ("blocked 4, int8", "tri-inv-strategy=blocked tri-inv-precision=i8"),
]


def layer(args):
    results = []
    shape = ["--B", "1", "--T", str(args.T), "--H", str(args.heads), "--HV", str(args.heads), "--K", "128",
             "--V", "128", "--chunk", "64"]
    n_mat = args.T // 64 * args.heads
    for preset in PRESETS:
        for label, options in LAYER_VARIANTS:
            r = run(args, f"target={preset} {options}", ["--seed", "7", "gdr"] + shape)
            t = run(args, f"target={preset} {options}",
                    ["--seed", "7", "tri-inv", "--c", "64", "--batch", str(n_mat), "--dist", "realistic"])
            if r is None or t is None:
                continue
            r.update({"preset": preset, "strategy": label, "tri_inv": t})
            results.append(r)
            print(f"{preset} {label}: layer {r['npu']['cycles']:.0f}, tri_inv alone {t['npu']['cycles']:.0f}",
                  file=sys.stderr)
    save(args, "layer", results)
    print(f"| preset | tri_inv strategy | o error | state error | layer cycles | layer us | tri_inv alone (cycles) "
          f"| inverse share | layer vs forward substitution |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        base = next(b for b in results if b["preset"] == r["preset"] and b["strategy"].startswith("forward"))
        share = r["tri_inv"]["npu"]["cycles"] / r["npu"]["cycles"]
        gain = 1 - r["npu"]["cycles"] / base["npu"]["cycles"]
        print(f"| {r['preset']} | {r['strategy']} | {r['error']:.1e} | {r['state_error']:.1e} | "
              f"{fmt_cycles(r['npu']['cycles'])} | {r['npu']['us']:,.0f} | {fmt_cycles(r['tri_inv']['npu']['cycles'])} | "
              f"{share:.0%} | {gain:+.0%} |")


# Assumptions of the mobile preset varied one at a time (docs/NPU.md).
SENSITIVITY = [
    ("as preset", {}),
    ("HMX fp16 tile 16 cycles -> 8", {"mm_cycles_f16": 8}),
    ("HMX fp16 tile 16 cycles -> 32", {"mm_cycles_f16": 32}),
    ("HVX issue 2 -> 1 per cycle", {"vector_issue": 1}),
    ("HVX issue 2 -> 4 per cycle", {"vector_issue": 4}),
    ("HVX latency 4 -> 8 cycles", {"vector_latency": 8}),
    ("HMX tile 32 -> 16 (fp16, same MACs/cycle)", {"mm_tile_f16": [16, 16, 16], "mm_cycles_f16": 2}),
    ("local DMA 256 -> 64 B/cycle", {"dma_local_bytes_per_cycle": 64}),
]

MOBILE = dict(name="mobile", clock_mhz=1000, mm_tile_f16=[32, 32, 32], mm_cycles_f16=16, mm_tile_i8=[32, 32, 32],
              mm_cycles_i8=8, mm_latency=32, vector_bits=1024, vector_issue=2, vector_latency=4,
              mm_lhs_bytes=256 << 10, mm_rhs_bytes=256 << 10, mm_acc_bytes=256 << 10, local_bytes=8 << 20,
              dma_global_bytes_per_cycle=32, dma_local_bytes_per_cycle=256, dma_latency=500)


def target_attr(params):
    parts = []
    for key, value in params.items():
        if key == "name":
            parts.append(f'name = "{value}"')
        elif isinstance(value, list):
            parts.append(f"{key} = [{', '.join(map(str, value))}]")
        else:
            parts.append(f"{key} = {value}")
    return "#npu.target<" + ", ".join(parts) + ">"


def sensitivity(args):
    """C = 64, mobile preset with one parameter changed: forward substitution vs blocked fp16 / int8."""
    results = []
    for label, change in SENSITIVITY:
        params = dict(MOBILE, **change)
        row = {"assumption": label}
        for name, options in (("fs", "tri-inv-strategy=forward-substitution tri-inv-precision=f16"),
                              ("blocked", "tri-inv-strategy=blocked tri-inv-precision=f16"),
                              ("int8", "tri-inv-strategy=blocked tri-inv-precision=i8")):
            r = run(args, options, ["--target-attr", target_attr(params), "--seed", "64", "tri-inv", "--c", "64",
                                    "--batch", str(args.batch)])
            row[name] = r
        results.append(row)
        print(label, file=sys.stderr)
    save(args, "sensitivity", results)
    print("| mobile preset, C = 64 | forward substitution (cycles/matrix) | blocked fp16 | blocked int8 | "
          "fs / blocked fp16 | fs / blocked int8 |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in results:
        fs, bl, i8 = (per_matrix(dict(row[k], batch=args.batch)) for k in ("fs", "blocked", "int8"))
        print(f"| {row['assumption']} | {fs:,.0f} | {bl:,.0f} | {i8:,.0f} | {fs / bl:.2f}x | {fs / i8:.2f}x |")


def save(args, name, results):
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        json.dump(results, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["tri-inv", "layer", "sensitivity"])
    parser.add_argument("--opt", default=os.path.join(ROOT, "build", "bin", "deltanet-opt"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "npu-model"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--batch", type=int, default=16, help="matrices per tri_inv run")
    parser.add_argument("--tiles-mobile", type=int, nargs="+", default=[16],
                        help="tri-inv-batch-tile values tried on the mobile preset; the fastest is reported")
    parser.add_argument("--tiles-datacenter", type=int, nargs="+", default=[1, 4],
                        help="the same on the datacenter preset (its 192 KiB unified buffer holds few matrices)")
    parser.add_argument("--T", type=int, default=4096)
    parser.add_argument("--heads", type=int, default=16)
    args = parser.parse_args()
    {"tri-inv": tri_inv, "layer": layer, "sensitivity": sensitivity}[args.what](args)


if __name__ == "__main__":
    main()
