#!/usr/bin/env bash
# Fuzzes the deltanet compiler with libFuzzer (tools/deltanet-fuzz): mutated
# MLIR seeded from test/ is parsed, verified and run through the deltanet
# passes and the CPU pipeline, in a build of deltanet's code with
# -fsanitize=fuzzer,address,undefined (build-asan/, shared with
# scripts/test-sanitizers.sh). Prints the number of executions; exits 1 if an
# input crashed (the reproducer is left in <build>/fuzz/artifacts/).
#
# Usage: scripts/fuzz.sh [--time SECONDS] [--runs N] [--no-build] [-- LIBFUZZER_ARGS...]
#   --time S     stop after S seconds (default 60, the CI run)
#   --runs N     stop after N executions instead
#   --no-build   use the existing build (ctest does)
# Environment: DELTANET_ASAN_BUILD_DIR (default build-asan).
# Replay one input: DELTANET_FUZZ_VERBOSE=1 <build>/bin/deltanet-fuzz FILE
# prints the equivalent deltanet-opt command line and the MLIR text.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_ASAN_BUILD_DIR:-$root/build-asan}"
time=60 runs="" do_build=1
extra=()
while (($#)); do
  case "$1" in
  --time) time="$2"; shift 2 ;;
  --runs) runs="$2"; shift 2 ;;
  --no-build) do_build=0; shift ;;
  --) shift; extra=("$@"); break ;;
  *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if ((do_build)); then
  "$root/scripts/build-sanitizers.sh" deltanet-fuzz
fi
fuzz="$build/fuzz"
mkdir -p "$fuzz/corpus" "$fuzz/artifacts"
rm -rf "$fuzz/seeds"
/usr/bin/python3 "$root/tools/deltanet-fuzz/make_corpus.py" "$fuzz/seeds"

limit=(-max_total_time="$time")
[ -n "$runs" ] && limit=(-runs="$runs")
# Sanitizer runtime options (leaks on, no false use-after-poison).
source "$root/scripts/sanitizer-env.sh"
log="$fuzz/last-run.log"
start=$(date +%s)
status=0
"$build/bin/deltanet-fuzz" "${limit[@]}" -max_len=8192 -timeout=60 -rss_limit_mb=4096 \
  -dict="$root/tools/deltanet-fuzz/deltanet.dict" -artifact_prefix="$fuzz/artifacts/" \
  -print_final_stats=1 "${extra[@]}" "$fuzz/corpus" "$fuzz/seeds" >"$log" 2>&1 || status=$?
elapsed=$(($(date +%s) - start))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)" "$log" | tail -2 || true
if ((status != 0)); then
  tail -60 "$log"
  echo "fuzz: CRASH after ${execs:-?} executions in ${elapsed}s; reproducer(s):"
  ls -1 "$fuzz/artifacts/"
  exit 1
fi
echo "fuzz: ${execs:-?} executions in ${elapsed}s, 0 crashes (corpus: $(ls "$fuzz/corpus" | wc -l) inputs, log: $log)"
