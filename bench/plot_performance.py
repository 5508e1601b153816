"""Plots docs/performance/figures.csv (the figures of docs/Performance.md)
into docs/performance/figures.png. Usage: python3 bench/plot_performance.py"""

import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "docs", "performance", "figures.csv")
rows = [r for r in csv.reader(l for l in open(data) if not l.startswith("#"))][1:]
groups = []
for group, name, value, unit in rows:
    if group not in groups:
        groups.append(group)
fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4.5))
for ax, group in zip(axes, groups):
    sel = [r for r in rows if r[0] == group]
    names = [r[1] for r in sel]
    values = [float(r[2]) for r in sel]
    colors = ["tab:green" if "(now)" in n else "tab:gray" for n in names]
    ax.barh(names, values, color=colors)
    ax.invert_yaxis()
    ax.set_title(group)
    ax.set_xlabel(sel[0][3].split(" (")[0] + " (lower is better)")
    for y, (v, r) in enumerate(zip(values, sel)):
        ax.text(v, y, f" {v:g}", va="center", fontsize=8)
fig.suptitle("deltanet-mlir CPU (green: session 17's idle rerun, wall, 2-core AMD EPYC;\n"
             "gray: issue 13's figures, idle, wall, the Intel Xeon of sessions 1-10)", fontsize=9)
fig.tight_layout()
fig.savefig(os.path.join(here, "..", "docs", "performance", "figures.png"), dpi=110)

# tri_inv time per matrix vs C per implementation (bench/tri_inv_sizes.py),
# one panel per regime, CPU time, log-log.
sizes = os.path.join(here, "..", "docs", "performance", "tri_inv_sizes.csv")
if os.path.exists(sizes):
    rows = [r for r in csv.reader(l for l in open(sizes) if not l.startswith("#"))][1:]
    regimes = []
    for r in rows:
        if r[1] not in regimes:
            regimes.append(r[1])
    fig, axes = plt.subplots(1, len(regimes), figsize=(6 * len(regimes), 4.5), squeeze=False)
    for ax, regime in zip(axes[0], regimes):
        names = []
        for r in rows:
            if r[1] == regime and r[3] not in names:
                names.append(r[3])
        for name in names:
            pts = sorted((int(r[0]), float(r[5])) for r in rows if r[1] == regime and r[3] == name)
            style = ":x" if name.endswith(" main") else ("-o" if name.startswith(("blocked", "Neumann", "our")) else "--.")
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks([16, 32, 64, 128], ["16", "32", "64", "128"])
        ax.set_xlabel("C (matrix size)")
        ax.set_ylabel("us per matrix, CPU time (lower is better)")
        ax.set_title(f"tri_inv, f32, 1 thread, {regime}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(here, "..", "docs", "performance", "tri_inv_sizes.png"), dpi=110)
