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
fig.suptitle("deltanet-mlir CPU (green: this work, thread CPU time on a loaded 2-core AVX-512 machine;\n"
             "gray: issue 13 figures, idle machine, wall time)", fontsize=9)
fig.tight_layout()
fig.savefig(os.path.join(here, "..", "docs", "performance", "figures.png"), dpi=110)
