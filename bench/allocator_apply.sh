#!/usr/bin/env bash
# bench/allocator_apply.sh: what the allocator adds to creating LoadBalancer Services.
#
# N Services (default 10,000) of type LoadBalancer created by one `kubectl apply`, on a
# private local control plane (e2e/cluster/up.sh with its own state dir) with one
# IPAddressPool of 16,384 addresses:
#   baseline   bgpcomm-webhook runs with --allocate-addresses=false: the wall time of the
#              apply (every Service created);
#   allocator  the webhook as installed (allocator on): the wall time from the start of
#              the apply until every Service holds an address in its status (the webhook's
#              bgpcomm_allocator_addresses_in_use reaches N, written after the statuses of
#              each pass; then one LIST confirms every status and that no address is held
#              twice).
# Each run gets a fresh control plane, so that neither sees the other's objects. The
# Services set allocateLoadBalancerNodePorts: false: the default node port range holds
# 2,768 ports, fewer than the Services.
#
# Prints a markdown section on stdout. Usage: bench/allocator_apply.sh [N]
# ALLOCATOR_APPLY_PAIRS: baseline/allocator pairs, the verdict on their median (default 3).
# ALLOCATOR_APPLY_WAIT: seconds to wait for every Service to hold an address (default 900).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-bench-alloc.XXXXXX")
export BGPCOMM_STATE_DIR=
cleanup() {
  if [[ -n $BGPCOMM_STATE_DIR ]]; then e2e/cluster/down.sh >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
. e2e/tools/paths.sh
# The kubectl built with kube-apiserver, not the machine's: /usr/bin/kubectl (v1.32)
# validates each object against the v1.36 server's OpenAPI so slowly that one apply of
# 1,000 Services took 5 minutes of its own CPU before creating any (200: 23 s, against 1 s).
export KUBECTL=$KUBE_BIN_DIR/kubectl
k() { "$KUBECTL" "$@"; }
now() { date +%s.%N; }

python3 - "$work" "$n" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/pool.yaml", "w") as f:
    f.write("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n---\n"
            "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
            "metadata: {name: bench-pool, namespace: metallb-system}\n"
            "spec:\n  addresses: [198.18.0.0/18]\n")
with open(f"{work}/services.yaml", "w") as f:
    for i in range(n):
        f.write(f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i:05d}, namespace: bench}}\n"
                "spec:\n  type: LoadBalancer\n  allocateLoadBalancerNodePorts: false\n"
                "  ports: [{name: http, port: 80, protocol: TCP}]\n")
PY

# up: a fresh control plane in its own state dir; webhook arguments as given.
up() {
  BGPCOMM_STATE_DIR=$(mktemp -d "$work/cp.XXXXXX")
  export KUBECONFIG=$BGPCOMM_STATE_DIR/kubeconfig
  e2e/cluster/up.sh >/dev/null 2>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
  if (($#)); then e2e/cluster/webhook.sh restart "$@" >/dev/null 2>>"$work/up.log"; fi
  # The pool, retried while the CRD's discovery settles.
  local i
  for ((i = 0; i < 30; i++)); do k apply -f "$work/pool.yaml" >/dev/null 2>&1 && return 0; sleep 1; done
  k apply -f "$work/pool.yaml" >/dev/null
}
down() { e2e/cluster/down.sh >/dev/null 2>&1 || true; BGPCOMM_STATE_DIR=; }
in_use() {
  curl -s "http://127.0.0.1:$(sed -n 's/^WEBHOOK_METRICS_PORT=//p' "$BGPCOMM_STATE_DIR/env" | tail -n1)/metrics" |
    awk '$1 == "bgpcomm_allocator_addresses_in_use{pool=\"bench-pool\"}" { printf "%d\n", $2 }'
}
webhook_rss_kib() { awk '/VmHWM/ { print $2 }' "/proc/$(sed -n 's/^WEBHOOK_PID=//p' "$BGPCOMM_STATE_DIR/env" | tail -n1)/status"; }

# --- one baseline run: allocator off; sets `baseline` -----------------------------------
run_baseline() {
  up --allocate-addresses=false
  local t0 t1 created
  t0=$(now)
  k apply -f "$work/services.yaml" >/dev/null
  t1=$(now)
  created=$(k get services -n bench --no-headers | wc -l)
  [[ $created == "$n" ]] || { echo "baseline: $created of $n Services created" >&2; exit 1; }
  baseline=$(echo "$t1 - $t0" | bc)
  down
}

# --- one allocator run: sets `with`, `apply_only` and `rss` --------------------------------
run_allocator() {
  up
  local i t0 t_applied t1 deadline held dupes
  # The leader has taken the Lease and made its first pass (the pool's gauge exists).
  for ((i = 0; i < 600; i++)); do [[ -n $(in_use) ]] && break; sleep 0.1; done
  [[ -n $(in_use) ]] || { echo "allocator: the webhook never reported bench-pool" >&2; exit 1; }
  t0=$(now)
  k apply -f "$work/services.yaml" >/dev/null
  t_applied=$(now)
  deadline=$((SECONDS + ${ALLOCATOR_APPLY_WAIT:-900}))
  until [[ $(in_use) == "$n" ]]; do
    ((SECONDS < deadline)) ||
      { echo "allocator: only $(in_use) of $n assigned after ${ALLOCATOR_APPLY_WAIT:-900} s" >&2; exit 1; }
    sleep 0.2
  done
  t1=$(now)
  k get services -n bench -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}' \
    >"$work/addresses"
  held=$(grep -c . "$work/addresses" || true)
  dupes=$(sort "$work/addresses" | uniq -d | wc -l)
  [[ $held == "$n" && $dupes == 0 ]] ||
    { echo "allocator: $held of $n hold an address, $dupes held twice" >&2; exit 1; }
  with=$(echo "$t1 - $t0" | bc)
  apply_only=$(echo "$t_applied - $t0" | bc)
  rss=$(webhook_rss_kib)
  down
}

# Pairs, each a baseline then an allocator run on fresh control planes: the baseline alone
# moves by a third between quiet runs on this machine, so one pair cannot decide a 25%
# bound. The verdict is on the median of the pairs' ratios.
pairs=${ALLOCATOR_APPLY_PAIRS:-3}
rows=() ratios=() rss_max=0
for ((p = 1; p <= pairs; p++)); do
  run_baseline
  run_allocator
  ratio=$(echo "scale=3; $with / $baseline" | bc)
  ratios+=("$ratio")
  ((rss > rss_max)) && rss_max=$rss
  rows+=("$(printf '| %d | %.1f s | %.1f s (the apply itself: %.1f s) | %s |' "$p" "$baseline" "$with" "$apply_only" "$ratio")")
  echo "allocator-apply: pair $p of $pairs: baseline $baseline s, allocator $with s, ratio $ratio" >&2
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
verdict=$(echo "$median <= 1.25" | bc)
printf 'Command: `bench/allocator_apply.sh %s` (%s pairs). Each run on a fresh local control plane\n' "$n" "$pairs"
printf '(etcd, kube-apiserver and bgpcomm-webhook as local processes on the same CPUs as kubectl;\n'
printf 'kubectl and kube-apiserver %s). Baseline: `kubectl apply` of %s LoadBalancer Services with\n' "${KUBE_BIN_DIR##*/kubernetes-}" "$n"
printf 'the allocator off, until all are created. Allocator: the same apply with the webhook as\n'
printf 'installed, until every Service holds an address.\n\n'
printf '| pair | baseline | allocator on | ratio |\n|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
printf '\n| measurement | value | target | verdict |\n|---|---|---|---|\n'
printf '| what the allocator adds to the apply: median ratio of the %s pairs | %s | at most 1.25 | %s |\n' \
  "$pairs" "$median" "$([[ $verdict == 1 ]] && echo meets || echo misses)"
printf '\nEvery Service held a distinct address of the pool in every allocator run. The webhook'"'"'s\n'
printf 'peak RSS (VmHWM) with %s Services cached: %s MiB (highest of the runs).\n' "$n" "$((rss_max / 1024))"
