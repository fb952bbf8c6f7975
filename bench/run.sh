#!/usr/bin/env bash
# bench/run.sh: runs the benchmark programs and rewrites the generated table in
# bench/RESULTS.md (between the BEGIN/END markers), with the machine, versions, date and
# each figure beside its target and the baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
out=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

for program in community_bench webhook_bench; do
  echo "bench: $program" >&2
  "$BUILD_DIR/bin/$program" --benchmark_repetitions="${BENCH_REPETITIONS:-5}" \
    --benchmark_report_aggregates_only=true --benchmark_format=json \
    --benchmark_out="$out/$program.json" --benchmark_out_format=json >/dev/null
done

python3 bench/report.py "$out" bench/RESULTS.md
echo "bench: bench/RESULTS.md updated" >&2
