#!/usr/bin/env bash
# The main job: installs what is missing, builds, compiles DeltaNet triangular
# inverses with deltanet-opt, runs them on the CPU against float64, then
# prints the speed/accuracy reports (tri_inv strategies; gated delta rule vs
# PyTorch).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_BUILD_DIR:-$root/build}"
llvm=/usr/lib/llvm-22
runner="$llvm/bin/mlir-runner -e main -entry-point-result=void -O3 -shared-libs=$llvm/lib/libmlir_runner_utils.so,$llvm/lib/libmlir_c_runner_utils.so"
testgen="/usr/bin/python3 $root/test/lib/tri_inv_testgen.py"

"$root/scripts/install-deps.sh" --reports
"$root/scripts/build.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo
echo "== 1. A program: examples/tri_inv.mlir through deltanet-opt and mlir-runner"
echo "\$ deltanet-opt examples/tri_inv.mlir --deltanet-cpu-pipeline | mlir-runner -e main ..."
"$build/bin/deltanet-opt" "$root/examples/tri_inv.mlir" --deltanet-cpu-pipeline | $runner

echo
echo "== 2. Accuracy on chunk matrices (C = 64, 8 chunks) vs the float64 inverse"
for dist in realistic adversarial; do
  $testgen gen --c 64 --batch 8 --dist "$dist" --seed 7 > "$work/$dist.mlir"
  for strategy in blocked forward-substitution neumann; do
    "$build/bin/deltanet-opt" "$work/$dist.mlir" \
      --deltanet-cpu-pipeline="tri-inv-strategy=$strategy" | $runner |
      $testgen check --label "$(printf '%-11s %-21s' "$dist" "$strategy")"
  done
done

echo
echo "== 3. Report: tri_inv, every strategy, C in {16, 32, 64, 128}, 4096 matrices, one process"
"$build/bin/tri-inv-bench" "$@"

echo
echo "== 4. Report: gated delta rule, chunk vs recurrent vs PyTorch, B=1 T=4096 H=HV=4 K=V=128"
/usr/bin/python3 "$root/bench/gdr_report.py" --build "$build"
