#!/usr/bin/env bash
# AOT harness (issue 13): compiles bench/aot/*.mlir through
# deltanet-opt --deltanet-cpu-pipeline into shared objects, builds the two
# drivers, and writes OUT_DIR/measure.sh, which prints the figures of
# docs/Performance.md ("AOT harness"). Usage:
#   bench/aot/build.sh OUT_DIR && OUT_DIR/measure.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${DELTANET_BUILD_DIR:-$here/../../build}"
out="$(mkdir -p "${1:?usage: build.sh OUT_DIR}" && cd "$1" && pwd)"
llvm=/usr/lib/llvm-22/bin
omp=(-L/usr/lib/llvm-22/lib -lomp -Wl,-rpath,/usr/lib/llvm-22/lib)
kernel() { # kernel SRC NAME PIPELINE-OPTIONS
  "$build/bin/deltanet-opt" "$here/$1" \
    --pass-pipeline="builtin.module(deltanet-cpu-pipeline{$3})" -o "$out/$2.ll.mlir"
  "$llvm/mlir-translate" --mlir-to-llvmir "$out/$2.ll.mlir" -o "$out/$2.ll"
  "$llvm/clang" -O3 -march=native -shared -fPIC -Wno-override-module \
    "$out/$2.ll" -o "$out/$2.so" "${omp[@]}"
}
for h in 4 16; do
  kernel chunk_h$h.mlir chunk_h${h}_t1 ""
  kernel chunk_h$h.mlir chunk_h${h}_t2 "num-threads=2"
  kernel recurrent_h$h.mlir recurrent_h${h}_t1 ""
  kernel recurrent_h$h.mlir recurrent_h${h}_t2 "num-threads=2"
  # Outputs in caller buffers (gdr_split_driver's ":o"; gdr_placement.sh).
  kernel chunk_h$h.mlir chunk_h${h}_t1_op "results-to-out-params=1"
  kernel recurrent_h$h.mlir recurrent_h${h}_t1_op "results-to-out-params=1"
done
kernel tri_inv_c64.mlir tri_inv_c64 ""
kernel tri_inv_c64.mlir tri_inv_c64_fs "tri-inv-strategy=forward-substitution"
for clk in CLOCK_THREAD_CPUTIME_ID CLOCK_MONOTONIC; do
  "$llvm/clang" -O3 -march=native -DCLK=$clk "$here/tri_inv_driver.c" \
    -o "$out/tri_inv_driver_$clk" -lm -ldl
  "$llvm/clang" -O3 -march=native -DCLK=$clk \
    -Wno-implicit-const-int-float-conversion "$here/gdr_driver.c" \
    -o "$out/gdr_driver_$clk" -lm -ldl
done
# Wall, process and calling-thread CPU per call, kernels interleaved
# (returned-output and out-params ones; session 17).
"$llvm/clang" -O2 -Wno-implicit-const-int-float-conversion \
  "$here/gdr_split_driver.c" -o "$out/gdr_split_driver" -lm -ldl
cat > "$out/measure.sh" <<EOS
#!/usr/bin/env bash
# 1 thread: CPU time of the calling thread; 1 vs 2 threads: wall time.
cd "$out"; uptime
for h in 4 16; do
  ./gdr_driver_CLOCK_THREAD_CPUTIME_ID \$h 5 ./recurrent_h\${h}_t1.so ./chunk_h\${h}_t1.so
  ./gdr_driver_CLOCK_MONOTONIC \$h 5 ./recurrent_h\${h}_t1.so ./chunk_h\${h}_t1.so ./recurrent_h\${h}_t2.so ./chunk_h\${h}_t2.so
done
./tri_inv_driver_CLOCK_THREAD_CPUTIME_ID 64 15 ./tri_inv_c64.so ./tri_inv_c64_fs.so
uptime
EOS
chmod +x "$out/measure.sh"
echo "built into $out; run $out/measure.sh"
