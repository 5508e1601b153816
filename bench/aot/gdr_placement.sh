#!/usr/bin/env bash
# Placement table (session 18, docs/Performance.md): the H = 4, 1-thread
# kernels of bench/aot/build.sh OUT_DIR, returned and out-params, with every
# buffer placed on purpose (gdr_split_driver's GDR_PLACE / ":o:OFF:SOFF",
# offsets past 2 MiB boundaries; GDR_HUGE=1: 2 MiB pages), one process per
# placement and round, the two yardsticks timed beside them. Usage:
#   bench/aot/gdr_placement.sh OUT_DIR [ROUNDS=3]
# Prints per placement and round the calling thread's CPU time per call
# (median of 9), and the out-params chunk / recurrent ratio.
set -euo pipefail
cd "${1:?usage: gdr_placement.sh OUT_DIR [ROUNDS]}"
rounds=${2:-3}
# name | inputs q, k, v, g, beta, h0 | o:state of the out-params kernels | huge pages
placements=(
  "page|q:0,k:0,v:0,g:0,beta:0,h0:0|0:0|0"
  "bench-heap|q:0,k:16,v:32,g:1408,beta:1920,h0:0|48:3296|0"
  "aot-heap|q:672,k:688,v:704,g:720,beta:736,h0:752|768:848|0"
  "spread|q:0,k:1024,v:2048,g:3072,beta:512,h0:0|1088:2112|0"
  "split|q:48,k:2096,v:16,g:0,beta:0,h0:0|4048:16|0"
  "page-huge|q:0,k:0,v:0,g:0,beta:0,h0:0|0:0|1"
  "bench-heap-huge|q:0,k:16,v:32,g:1408,beta:1920,h0:0|48:3296|1")
uptime
for round in $(seq "$rounds"); do
  for entry in "${placements[@]}"; do
    IFS='|' read -r name place o huge <<< "$entry"
    GDR_HUGE=$huge GDR_PLACE=$place ./gdr_split_driver 4 9 yard-fma yard-l2 \
      ./chunk_h4_t1.so ./chunk_h4_t1_op.so:o:$o ./recurrent_h4_t1.so \
      ./recurrent_h4_t1_op.so:o:$o | grep -v differs |
      awk -v n="$name" -v r="$round" '
        { for (i = 1; i <= NF; ++i) if ($i == "main-cpu") t[NR] = $(i + 2); k[NR] = $2 }
        END { printf "round %s %-16s", r, n
              for (j = 1; j <= NR; ++j) { sub(".*/", "", k[j]); printf " %s %s", k[j], t[j] }
              printf " | out-params chunk / recurrent %.2fx\n", t[6] / t[4] }'
  done
done
uptime
