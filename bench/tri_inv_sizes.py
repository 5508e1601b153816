"""tri_inv time per matrix vs C (issue 13: C in {16, 32, 64, 128}), every f32
strategy beside the peers, in two regimes: cache-resident (C * C * batch =
64 * 64 * 64 floats, 1 MiB in and 1 MiB out) and 4096 matrices with
`--keep-heap`. Runs build/bin/tri-inv-bench once per (C, regime), writes
docs/performance/tri_inv_sizes.csv (plotted by bench/plot_performance.py)
and prints a markdown table with the load average before and after.

Usage: OPENBLAS_CORETYPE=SkylakeX python3 bench/tri_inv_sizes.py [BUILD_DIR]
Medians of 3 repetitions; both the wall time and the process CPU time per
matrix (1 thread: CPU time is what a loaded machine distorts less)."""

import csv
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "build")
bench = os.path.join(build, "bin", "tri-inv-bench")
out_csv = os.path.join(here, "..", "docs", "performance", "tri_inv_sizes.csv")
ROWS = [
    ("peer_memcpy", "memcpy of the same bytes"),
    ("peer_sgemm", "OpenBLAS sgemm C x C x C (rate)"),
    ("peer_c_forward_substitution", "C forward substitution"),
    ("peer_lapack_strtri", "LAPACK strtri (OpenBLAS)"),
    ("forward_substitution", "our forward substitution"),
    ("blocked_bs16", "blocked (block 16), f32"),
    ("blocked_bs4", "blocked (block 4, default), f32"),
    ("neumann_exact", "Neumann exact, f32"),
]
SIZES = [16, 32, 64, 128]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(c, batch, keep_heap):
    ids = "|".join(r[0] for r in ROWS)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [bench, f"--sizes={c}", f"--batch={batch}",
               "--benchmark_repetitions=3",
               "--benchmark_report_aggregates_only=true",
               f"--benchmark_filter=C={c}/({ids})/",
               f"--benchmark_out={out.name}", "--benchmark_out_format=json"]
        if keep_heap:
            cmd.append("--keep-heap")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        report = json.load(open(out.name))
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    result = {}
    for b in report["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        strategy = b["run_name"].split("/")[2]
        unit = scale[b["time_unit"]]
        result[strategy] = (b["real_time"] * unit / batch,
                            b["cpu_time"] * unit / batch)
    return result


def main():
    before = loadavg()
    print(f"load average before: {before}")
    table = {}
    for c in SIZES:
        for regime, batch, keep in (("cache-resident", 64 * 64 * 64 // (c * c), False),
                                    ("4096, keep-heap", 4096, True)):
            table[(c, regime)] = (batch, run(c, batch, keep))
            print(f"  C={c} {regime} done, load {loadavg()}", file=sys.stderr)
    print(f"load average after: {loadavg()}")
    with open(out_csv, "w", newline="") as f:
        f.write("# bench/tri_inv_sizes.py: medians of 3, us per matrix; "
                f"load average {before} before, {loadavg()} after; "
                "see the latest lead's rerun in docs/Performance.md\n")
        w = csv.writer(f)
        w.writerow(["C", "regime", "batch", "implementation", "wall_us", "cpu_us"])
        for (c, regime), (batch, res) in table.items():
            for sid, name in ROWS:
                if sid in res:
                    w.writerow([c, regime, batch, name, f"{res[sid][0]:.3f}",
                                f"{res[sid][1]:.3f}"])
    for regime in ("cache-resident", "4096, keep-heap"):
        print(f"\n{regime}: us per matrix, CPU time (wall)\n")
        print("| implementation | " + " | ".join(f"C = {c}" for c in SIZES) + " |")
        print("|---|" + "---:|" * len(SIZES))
        for sid, name in ROWS:
            cells = []
            for c in SIZES:
                res = table[(c, regime)][1]
                cells.append(f"{res[sid][1]:.3g} ({res[sid][0]:.3g})" if sid in res else "-")
            print(f"| {name} | " + " | ".join(cells) + " |")
        for sid, name in (("blocked_bs16", "blocked (16)"), ("blocked_bs4", "blocked (4)"),
                          ("neumann_exact", "Neumann")):
            ratios = []
            for c in SIZES:
                res = table[(c, regime)][1]
                ratios.append(
                    f"{res['forward_substitution'][1] / res[sid][1]:.2f}x / "
                    f"{res['peer_c_forward_substitution'][1] / res[sid][1]:.2f}x")
            print(f"| {name} vs our / C forward substitution (CPU time) | "
                  + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
