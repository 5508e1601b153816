#!/usr/bin/env bash
# ncu of the scan kernel only (the 2nd launch of one warm attention call, large shape), with the
# instruction / shared / store / L2 counters of docs/GPU.md (session 15, gpu24); then cuobjdump -sass of
# the cubins in sass/ (ptxas -o of extract_ptx.py output). Run from a copy with profile_gdr_window.py, bench.py, gdr_peers.py:
#   NCU_TARGETS="lib/a.so lib/b.so" bash ncu_scan.sh
cd "$(dirname "$0")"; export PYTHONPATH=..:. ; OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
M=smsp__inst_executed.sum,smsp__inst_executed_pipe_lsu.sum,sm__inst_executed_pipe_lsu.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum,l1tex__t_requests_pipe_lsu_mem_global_op_st.sum,lts__t_sectors_op_write.sum,lts__t_sectors_op_read.sum,lts__t_sectors.avg.pct_of_peak_sustained_elapsed,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,smsp__inst_executed_op_shared_ld.sum,smsp__inst_executed_op_shared_st.sum,smsp__inst_executed_op_global_st.sum,smsp__inst_executed_op_ldsm.sum,l1tex__throughput.avg.pct_of_peak_sustained_active,sm__cycles_elapsed.avg
for t in ${NCU_TARGETS}; do
  n=$(basename "$t" .so)
  timeout "${NCU_S:-40}" ncu --profile-from-start off --clock-control none --launch-skip 1 --launch-count 1 \
    --section SpeedOfLight --section WarpStateStats --section InstructionStats --section ComputeWorkloadAnalysis \
    --section MemoryWorkloadAnalysis --section LaunchStats --metrics $M python3 profile_gdr_window.py "$t" large > "$OUT/ncu_$n.txt" 2>&1
  echo "== ncu $n rc=$?"
  grep -E "Duration|Grid Size|Registers Per|Warp Cycles Per Issued|Issue Slots Busy|Executed Ipc A|Stall|Memory Throughput|L1/TEX Hit|L2 Hit|DRAM Through|Pipe|smsp__|sm__|l1tex__|lts__|Compute \(SM\)|Mem Busy|Max Bandwidth|Mem Pipes" "$OUT/ncu_$n.txt" | cut -c1-110 | head -60
done
which cuobjdump nvdisasm 2>&1 | head -2
for c in sass/*.cubin; do [ -f "$c" ] && (cuobjdump -sass "$c" > "$OUT/$(basename $c .cubin).sass" 2>&1 || nvdisasm "$c" > "$OUT/$(basename $c .cubin).sass" 2>&1); done
ls -la $OUT
