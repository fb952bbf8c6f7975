#!/usr/bin/env bash
# bench/run.sh (`make bench`): runs every benchmark of bench/ and rewrites its part of
# bench/RESULTS.md, each figure beside its target and a baseline measured in the same run.
#
#   core       community_bench, webhook_bench and view_bench (Google Benchmark): resolution,
#              lint, decide() per review, the webhook view per watch event -> the table between the "generated" markers (report.py)
#   load       webhook_load.sh: throughput and p50/p99 over keep-alive TLS at 4 and 16
#              connections, against the same server's /noop -> block "webhook-load"
#   admission  admission_latency.sh: latency added to kubectl apply (API server metrics and
#              audit log, 3 alternating pairs of applies with and without the webhook
#              registered, ADMISSION_PAIRS) and the webhook's peak RSS
#              -> block "admission-latency"
#   allocator-apply  allocator_apply.sh: 10,000 LoadBalancer Services by one kubectl apply
#              until all hold an address, against the same apply with the allocator off
#              -> block "allocator-apply" (not in the default parts: it needs two control
#              planes per pair and ~20 minutes for 3 pairs; BENCH_PARTS=allocator-apply with
#              BENCH_LIMIT_SECONDS=3600)
#   alias-rewrite  alias_rewrite.sh: an alias referenced by 10,000 BGPAdvertisements
#              changes; the resolver rewrites every annotation, against a plain client
#              making the same 10,000 PATCHes; the webhook's peak RSS with 10,000 aliases
#              as well -> block "alias-rewrite" (not in the default parts: ~10 minutes;
#              BENCH_PARTS=alias-rewrite)
#   status-writes  status_writes.sh: the speaker's status objects with 10,000 LoadBalancer
#              Services (root: a BIRD router), default mode and per-node ServiceBGPStatus:
#              writes over the initial sync, a minute of steady state and a burst, by
#              resource and verb from the API server's metrics, against the chart README's
#              bounds -> block "status-writes" (not in the default parts: ~15 minutes;
#              BENCH_PARTS=status-writes BENCH_LIMIT_SECONDS=1800)
#   speaker    speaker_convergence.sh --write (root: network namespaces): 10,000 and
#              100,000 routes into BIRD and GoBGP, UPDATEs, the speaker's peak RSS
#              -> section "Speaker convergence"
#   allocator  allocator_bench.sh: the allocation core on 100,000 Services over mixed
#              IPv4/IPv6 pools (CPU time, peak RSS), against a copy of the inputs and a
#              full re-allocation per change -> block "allocator"
#   speaker-incremental  speaker_incremental_bench: the speaker's Kubernetes-mode change path
#              at 100,000 Services against the full recomputation per change
#              -> block "speaker-incremental"
#   speaker-scale  speaker_cluster_scale.sh (root): 100,000 LoadBalancer Services in a
#              private local control plane, the speaker's start into BIRD, 100 address
#              changes, its CPU and peak RSS -> block "speaker-scale" (not in the default
#              parts; about 3 minutes: above 20,000 the Services are written into etcd, as
#              kube-apiserver v1.36 creates them in O(Services) each; BENCH_PARTS=speaker-scale)
#   restart    speaker_restart.sh --write (root): routes withdrawn at GoBGP, BIRD and FRR
#              during a kill -9 and restart with 10,000 routes, graceful restart on vs off
#              -> block "speaker-restart"
#   bfd        speaker_bfd.sh --write (root): a cut link -> the router drops the routes, with
#              BFD (300 ms x 3) against BIRD and FRR, against the hold timer alone
#              -> block "speaker-bfd"
#
# BENCH_PARTS="core load" selects parts. Each part has its own time limit and the whole
# run stops after BENCH_LIMIT_SECONDS (default 900, the 15 minutes of the target).
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
parts=${BENCH_PARTS:-core speaker-incremental load admission speaker allocator restart bfd}
deadline=$(($(date +%s) + ${BENCH_LIMIT_SECONDS:-900}))
if [[ -z ${BENCH_OUT:-} ]]; then
  export BENCH_OUT
  BENCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-bench.XXXXXX")
  trap 'rm -rf "$BENCH_OUT"' EXIT
fi
out=$BENCH_OUT
results=bench/RESULTS.md
failed=()

machine() {
  printf 'Run %s on %s: %s CPUs (%s), %s GiB, load average %s.' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "$(hostname)" "$(nproc)" "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
    "$(awk '/MemTotal/ {printf "%d", $2 / 1048576}' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# part NAME LIMIT_SECONDS CMD...: runs CMD within min(LIMIT, time left); a part that fails
# or runs out of time is reported and the others still run.
part() {
  local name=$1 limit=$2 left
  shift 2
  left=$((deadline - $(date +%s)))
  ((left < limit)) && limit=$left
  if ((limit <= 0)); then
    echo "bench: $name skipped: the $((${BENCH_LIMIT_SECONDS:-900} / 60))-minute budget is spent" >&2
    failed+=("$name (no time left)")
    return 0
  fi
  echo "bench: $name (at most ${limit} s)" >&2
  local start=$SECONDS
  if ! timeout -k 15 "$limit" "$0" --part "$@"; then
    echo "bench: $name failed or timed out" >&2
    failed+=("$name")
  fi
  echo "bench: $name took $((SECONDS - start)) s" >&2
}

core() {
  for program in community_bench webhook_bench view_bench; do
    "$BUILD_DIR/bin/$program" --benchmark_repetitions="${BENCH_REPETITIONS:-5}" \
      --benchmark_report_aggregates_only=true --benchmark_format=json \
      --benchmark_out="$out/$program.json" --benchmark_out_format=json >/dev/null
  done
  python3 bench/report.py "$out" "$results"
}

load() {
  {
    echo "$(machine) Server and wrk share the CPUs; 8 worker threads."
    for c in 4 16; do
      echo
      echo "Command: \`LOAD_CONNECTIONS=$c LOAD_SECONDS=${LOAD_SECONDS:-8} bench/webhook_load.sh\`"
      echo
      LOAD_CONNECTIONS=$c LOAD_SECONDS=${LOAD_SECONDS:-8} bench/webhook_load.sh
    done
  } >"$out/load.md"
  python3 bench/section.py "$results" webhook-load <"$out/load.md"
}

admission() {
  { machine; echo; bench/admission_latency.sh "${ADMISSION_OBJECTS:-1000}"; } >"$out/admission.md"
  python3 bench/section.py "$results" admission-latency <"$out/admission.md"
}

allocator_apply() {
  { machine; echo; bench/allocator_apply.sh "${ALLOCATOR_APPLY_SERVICES:-10000}"; } >"$out/allocator-apply.md"
  python3 bench/section.py "$results" allocator-apply <"$out/allocator-apply.md"
}

alias_rewrite() {
  { machine; echo; bench/alias_rewrite.sh "${ALIAS_REWRITE_ADVERTISEMENTS:-10000}"; } >"$out/alias-rewrite.md"
  python3 bench/section.py "$results" alias-rewrite <"$out/alias-rewrite.md"
}

status_writes() {
  { machine; echo; bench/status_writes.sh "${STATUS_SERVICES:-10000}" "${STATUS_BURST:-500}"; } >"$out/status-writes.md"
  python3 bench/section.py "$results" status-writes <"$out/status-writes.md"
}

speaker_incremental() {
  mkdir -p "$out/speaker-incremental"
  "$BUILD_DIR/bin/speaker_incremental_bench" --benchmark_repetitions="${BENCH_REPETITIONS:-5}" \
    --benchmark_report_aggregates_only=true --benchmark_format=json \
    --benchmark_out="$out/speaker-incremental/speaker_incremental_bench.json" \
    --benchmark_out_format=json >/dev/null
  python3 bench/report.py "$out/speaker-incremental" "$results" speaker-incremental
}

speaker_scale() {
  { machine; echo; bench/speaker_cluster_scale.sh "${SCALE_SERVICES:-100000}" "${SCALE_CHANGES:-100}"; } >"$out/speaker-scale.md"
  python3 bench/section.py "$results" speaker-scale <"$out/speaker-scale.md"
}

speaker() {
  BGPCOMM_SPEAKER=${BGPCOMM_SPEAKER:-$PWD/$BUILD_DIR/bin/bgpcomm-speaker} \
    bench/speaker_convergence.sh --write --shapes "${SPEAKER_SHAPES:-1}"
}

allocator() {
  { machine; echo; bench/allocator_bench.sh "${ALLOCATOR_SERVICES:-100000}" "${ALLOCATOR_CHANGES:-10000}"; } >"$out/allocator.md"
  python3 bench/section.py "$results" allocator <"$out/allocator.md"
}

restart() {
  BGPCOMM_SPEAKER=${BGPCOMM_SPEAKER:-$PWD/$BUILD_DIR/bin/bgpcomm-speaker} \
    bench/speaker_restart.sh --write --routes "${RESTART_ROUTES:-10000}"
}

bfd() {
  BGPCOMM_SPEAKER=${BGPCOMM_SPEAKER:-$PWD/$BUILD_DIR/bin/bgpcomm-speaker} \
    bench/speaker_bfd.sh --write --runs "${BFD_RUNS:-5}"
}

# `run.sh --part NAME`: one part in its own process, so that `timeout` can bound it.
if [[ ${1:-} == --part ]]; then
  "$2"
  exit
fi

for p in $parts; do
  case $p in
    core) part core 240 core ;;
    load) part load 120 load ;;
    admission) part admission 960 admission ;;
    allocator-apply) part allocator-apply 3600 allocator_apply ;;
    alias-rewrite) part alias-rewrite 1200 alias_rewrite ;;
    status-writes) part status-writes 1800 status_writes ;;
    speaker) part speaker 420 speaker ;;
    speaker-incremental) part speaker-incremental 300 speaker_incremental ;;
    speaker-scale) part speaker-scale 7200 speaker_scale ;;
    allocator) part allocator 120 allocator ;;
    restart) part restart 300 restart ;;
    bfd) part bfd 240 bfd ;;
    *) echo "bench: unknown part $p" >&2; exit 2 ;;
  esac
done
if ((${#failed[@]})); then
  echo "bench: not updated: ${failed[*]}" >&2
  exit 1
fi
echo "bench: $results updated" >&2
