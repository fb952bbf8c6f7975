#!/usr/bin/env bash
# bench/allocator_bench.sh [SERVICES] [CHANGES]: the allocation core (allocator/) on 100,000
# LoadBalancer Services over mixed IPv4/IPv6 pools; prints the markdown body of the
# "allocator" block of bench/RESULTS.md (bench/run.sh part `allocator` writes it).
#
# Each mode of allocator_bench runs in its own process, so that each peak RSS is its own.
# Baselines, measured in the same run:
#   - `inputs`: copying the 100,000 Service inputs once: the least any allocator pays to
#     look at its input, and the memory the inputs alone take;
#   - for one change, a full re-allocation from scratch (the `allocate` row): what an
#     allocator without incremental state would pay per Service event.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BUILD_DIR:-build}/bin/allocator_bench
n=${1:-100000}
changes=${2:-10000}
[[ -x $bin ]] || { echo "allocator_bench: $bin is not built (cmake --build build --target allocator_bench)" >&2; exit 1; }

declare -A r
run() {
  local line
  line=$("$bin" "$@")
  for kv in $line; do r[$1.${kv%%=*}]=${kv#*=}; done
}
run inputs "$n"
run allocate "$n"
run restart "$n"
run incremental "$n" "$changes"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; printf (r >= 100 ? "%.0f" : "%.1f"), r }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
per_service() { awk -v ms="$1" -v n="$n" 'BEGIN { printf "%.1f µs", ms * 1000 / n }'; }
full_us=$(awk -v ms="${r[allocate.median_ms]}" 'BEGIN { printf "%.0f", ms * 1000 }')

cat <<MD
$(g++ --version | head -1); bgpcomm built ${BUILD_TYPE:-RelWithDebInfo}.
Command: \`bench/allocator_bench.sh $n $changes\` (CPU time of the process; medians of 5
repetitions for the one-shot rows). $n Services in 100 namespaces: 60% IPv4, 20% IPv6, 12%
PreferDualStack, 5% RequireDualStack, 3% naming a pool; 10% share addresses in pairs, 2% name
their address, one in seven is \`externalTrafficPolicy: Local\`. Pools: an IPv4 /16 with
avoidBuggyIPs, a /17 for ten namespaces by priority, an IPv6 /64, a dual-stack pool and a
manual one.

| measurement | CPU time | per Service / change | peak RSS | baseline (same run) | ratio |
|---|---|---|---|---|---|
| copy the $n inputs (baseline) | ${r[inputs.median_ms]} ms | $(per_service "${r[inputs.median_ms]}") | $(mib "${r[inputs.peak_rss_kib]}") | | |
| AllocateAll from scratch ($((r[allocate.allocated])) allocated, ${r[allocate.failed]} failed) | ${r[allocate.median_ms]} ms | $(per_service "${r[allocate.median_ms]}") | $(mib "${r[allocate.peak_rss_kib]}") | copy of the inputs: ${r[inputs.median_ms]} ms | $(ratio "${r[allocate.median_ms]}" "${r[inputs.median_ms]}")× |
| restart: the same Services with their status held (nothing moves) | ${r[restart.median_ms]} ms | $(per_service "${r[restart.median_ms]}") | $(mib "${r[restart.peak_rss_kib]}") | AllocateAll from scratch: ${r[allocate.median_ms]} ms | $(ratio "${r[restart.median_ms]}" "${r[allocate.median_ms]}")× |
| one change on the incremental Allocator holding all $n (edit + status write, or delete + create), median of $changes | | ${r[incremental.per_change_us]} µs (p99 ${r[incremental.p99_change_us]} µs) | $(mib "${r[incremental.peak_rss_kib]}") | full re-allocation per change: ${full_us} µs | $(ratio "$full_us" "${r[incremental.per_change_us]}")× less |

The allocator's own memory is the peak RSS above the inputs' (the \`AllocateAll\` row keeps
the inputs, their copy inside the allocator and the results).
MD
