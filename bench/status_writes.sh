#!/usr/bin/env bash
# bench/status_writes.sh: the API writes of the speaker's status objects with N
# LoadBalancer Services (issue 18: "a benchmark on the local control plane measures the
# writes for 10,000 Services"), against the bounds of charts/bgpcomm/README.md
# ("Status objects").
#
# A private local control plane (e2e/cluster/up.sh in its own state dir; the webhook with
# --allocate-addresses=false: the Services' addresses are written here), a BIRD 2 router
# (e2e/cluster/router.sh), one BGPPeer (P = 1), one IPAddressPool 2001:db8:100::/104, one
# BGPAdvertisement. N Services are created with parallel clients (e2e/lib/lb_services.py),
# each with an address. Then the speaker (e2e/cluster/speaker.sh, Kubernetes mode, one
# node) runs twice, with the chart's intervals (5 s, 30 s for prefixes only):
#   default     --service-bgp-status=false: BGPSessionState per peer, ConfigurationState
#   per-node    --service-bgp-status=true: MetalLB's ServiceBGPStatus per Service as well
# and each run counts the writes (POST, PATCH, PUT, DELETE in the API server's
# apiserver_request_total, by resource and verb, before and after) over three windows:
#   sync        from the speaker's start until BIRD holds the N routes (and, per-node,
#               N ServiceBGPStatuses exist) and then no write for 35 s;
#   steady      the next 60 s, nothing changing;
#   burst       B Services deleted and B others created (each with an address), until
#               no write for 35 s.
# Bounds (the README's accounting: an object's first write is a PATCH answered 404, a
# POST and a PATCH; later writes one PATCH, at most one per 5 s interval, prefixes alone
# at most one per 30 s; a removal one DELETE):
#   sync        per object: 3 + ceil(T / 5)  (T: the window); per-node: + 3 per Service
#   steady      0
#   burst       default: P x (1 + ceil(T / 30)) (the prefixes of each session);
#               per-node: that + 4 per Service deleted and created (its ServiceBGPStatus's
#               DELETE, the new one's 3)
# Prints a markdown section on stdout. Usage: bench/status_writes.sh [N] [B]
# Needs root (network namespace), BIRD 2 and the e2e tools (kube-apiserver, etcd, kubectl).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
burst=${2:-500}
clients=${CREATE_CLIENTS:-16}
quiet_s=${STATUS_QUIET_SECONDS:-35}
# How long a mode's initial sync may take before it is reported unfinished.
sync_limit=${STATUS_SYNC_LIMIT:-600}
work=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-bench-status.XXXXXX")
export BGPCOMM_STATE_DIR=$work/cp
export KUBECONFIG=$BGPCOMM_STATE_DIR/kubeconfig
export BGPCOMM_BIN_DIR=${BGPCOMM_BIN_DIR:-$PWD/build/bin}
mkdir -p "$BGPCOMM_STATE_DIR"
cleanup() {
  e2e/cluster/down.sh >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
. e2e/tools/paths.sh
k() { "$KUBECTL" "$@"; }
. e2e/lib/request-counts.bash
node=bench-status-node
router=stat
rtr_v4=198.51.100.26
ns=metallb-system
kinds="bgpsessionstates configurationstates servicebgpstatuses"

e2e/cluster/up.sh -- --allocate-addresses=false >/dev/null 2>"$work/up.log" ||
  { cat "$work/up.log" >&2; exit 1; }
e2e/cluster/router.sh start "$router" 198.51.100.25/30 "$rtr_v4" 2001:db8:fe:6::1/64 \
  2001:db8:fe:6::2 64513 64512 >/dev/null 2>>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
objects() {
  cat <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: status-router, namespace: $ns}
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: $rtr_v4
  dualStackAddressFamily: true
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: status-pool, namespace: $ns}
spec:
  addresses: ["2001:db8:100::/104"]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: status-advert, namespace: $ns}
spec:
  ipAddressPools: [status-pool]
  communities: ["64512:100"]
YAML
}
# Retried while the CRDs' discovery settles.
for ((i = 0; i < 30; i++)); do objects | k apply -f - >/dev/null 2>&1 && break; sleep 1; done
objects | k apply -f - >/dev/null
k create namespace bench >/dev/null
create_s=$(python3 e2e/lib/lb_services.py create "$BGPCOMM_STATE_DIR" bench 0 "$n" "$clients")

bird_routes() {
  e2e/cluster/router.sh birdc "$router" show route count 2>/dev/null |
    awk '/routes for/ && $1 ~ /^[0-9]+$/ { n += $1 } END { print n + 0 }'
}
objects_of() { k get "$1" -n "$ns" -o name 2>/dev/null | wc -l; }
# status_counts: "RESOURCE VERB COUNT" of the status kinds only.
status_counts() { request_counts | awk -v kinds=" $kinds " 'index(kinds, " " $1 " ")'; }
total() { awk '{ n += $3 } END { print n + 0 }' <<<"$1"; }
# wait_quiet LIMIT: returns once no status write happened for $quiet_s s (at most LIMIT s).
wait_quiet() {
  local deadline=$((SECONDS + $1)) last now since=$SECONDS
  last=$(total "$(status_counts)")
  while ((SECONDS - since < quiet_s)); do
    ((SECONDS < deadline)) || { echo "status writes still running after $1 s" >&2; return 1; }
    sleep 1
    now=$(total "$(status_counts)")
    [[ $now == "$last" ]] || { last=$now; since=$SECONDS; }
  done
}
# diff_counts BEFORE AFTER: "RESOURCE VERB DELTA" for each nonzero difference.
diff_counts() {
  join -a1 -a2 -e0 -o '0,1.2,2.2' <(awk '{ print $1 "/" $2, $3 }' <<<"$1") \
    <(awk '{ print $1 "/" $2, $3 }' <<<"$2") | awk '$3 != $2 { sub("/", " ", $1); print $1, $3 - $2 }'
}
fmt() { awk 'NF { printf "%s%s %s %d", sep, $1, $2, $3; sep = ", "; n++ } END { if (!n) printf "none" }' <<<"$1"; }
ceil_div() { echo $((($1 + $2 - 1) / $2)); }

rows=()
verdicts=()
# measure MODE SERVICE_BGP_STATUS FIRST_BURST_INDEX
measure() {
  local mode=$1 per_node=$2 first=$3 c0 c1 c2 c3 t0 t_sync t_burst d w objs bound sessions
  e2e/cluster/speaker.sh stop >/dev/null 2>&1 || true
  c0=$(status_counts)
  t0=$SECONDS
  e2e/cluster/speaker.sh start "$node" --service-bgp-status="$per_node" >/dev/null 2>>"$work/up.log"
  local deadline=$((SECONDS + sync_limit))
  until (($(bird_routes) >= n)) && { [[ $per_node == false ]] || (($(objects_of servicebgpstatuses) >= n)); }; do
    if ((SECONDS >= deadline)); then
      # Not synced within the limit: the writes so far and their rate, and no steady
      # state or burst to measure.
      c1=$(status_counts)
      t_sync=$((SECONDS - t0))
      d=$(diff_counts "$c0" "$c1"); w=$(total "$d")
      local written
      written=$(objects_of servicebgpstatuses)
      rows+=("| $mode | sync, stopped after $t_sync s: $(bird_routes) routes in BIRD, $written of $n ServiceBGPStatuses written ($((w / t_sync)) writes/s; all $n at that rate: ~$((3 * n * t_sync / (w > 0 ? w : 1) / 60)) min) | $(objects_of bgpsessionstates) BGPSessionState, $(objects_of configurationstates) ConfigurationState, $written ServiceBGPStatus | $w ($(fmt "$d")) | ≤ $((3 * written + 3 * 2 * (3 + $(ceil_div "$t_sync" 5)))) for what is written | $(((w <= 3 * written + 6 * (3 + $(ceil_div "$t_sync" 5)))) && echo "meets (so far)" || echo misses) |")
      rows+=("| $mode | steady, burst | | not measured: the initial sync had not ended | | |")
      verdicts+=("$mode sync not finished within ${sync_limit} s")
      return 0
    fi
    sleep 2
  done
  wait_quiet 600
  c1=$(status_counts)
  t_sync=$((SECONDS - t0))
  sessions=$(objects_of bgpsessionstates)
  objs="$sessions BGPSessionState, $(objects_of configurationstates) ConfigurationState, $(objects_of servicebgpstatuses) ServiceBGPStatus"
  # sync: every object created once and then rewritten at most once per 5 s.
  local config=$(objects_of configurationstates)
  bound=$(((sessions + config) * (3 + $(ceil_div "$t_sync" 5))))
  [[ $per_node == false ]] || bound=$((bound + 3 * n))
  d=$(diff_counts "$c0" "$c1"); w=$(total "$d")
  rows+=("| $mode | sync ($t_sync s, until $n routes in BIRD and quiet ${quiet_s} s) | $objs | $w ($(fmt "$d")) | ≤ $bound | $(((w <= bound)) && echo meets || echo misses) |")
  ((w <= bound)) || verdicts+=("$mode sync")
  sleep 60
  c2=$(status_counts)
  d=$(diff_counts "$c1" "$c2"); w=$(total "$d")
  rows+=("| $mode | steady (60 s, nothing changing) | | $w ($(fmt "$d")) | 0 | $(((w == 0)) && echo meets || echo misses) |")
  ((w == 0)) || verdicts+=("$mode steady")
  t0=$SECONDS
  python3 e2e/lib/lb_services.py delete "$BGPCOMM_STATE_DIR" bench "$first" "$burst" "$clients" >/dev/null
  python3 e2e/lib/lb_services.py create "$BGPCOMM_STATE_DIR" bench "$((n + first))" "$burst" "$clients" >/dev/null
  wait_quiet 300
  c3=$(status_counts)
  t_burst=$((SECONDS - t0))
  bound=$((sessions * (1 + $(ceil_div "$t_burst" 30))))
  [[ $per_node == false ]] || bound=$((bound + 4 * burst))
  d=$(diff_counts "$c2" "$c3"); w=$(total "$d")
  rows+=("| $mode | burst ($burst Services deleted, $burst created; $t_burst s until quiet ${quiet_s} s) | | $w ($(fmt "$d")) | ≤ $bound | $(((w <= bound)) && echo meets || echo misses) |")
  ((w <= bound)) || verdicts+=("$mode burst")
}

measure default false 0
measure per-node true "$burst"
e2e/cluster/speaker.sh stop >/dev/null 2>&1 || true

printf 'Command: `bench/status_writes.sh %s %s`. A private local control plane (etcd,\n' "$n" "$burst"
printf 'kube-apiserver %s, bgpcomm-webhook without the allocator), one speaker as node\n' "${KUBE_BIN_DIR##*/kubernetes-}"
printf '`%s` with one BGPPeer (a BIRD 2 router), %s LoadBalancer Services announced\n' "$node" "$n"
printf '(created in %s s by %s clients). Writes: POST, PATCH, PUT and DELETE on the status kinds in\n' "$create_s" "$clients"
printf "the API server's apiserver_request_total, by resource and verb, before and after each window.\n\n"
printf '| mode | window | objects | writes (resource verb count) | bound (chart README) | verdict |\n|---|---|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
printf '\nBounds: an object'"'"'s first write is a PATCH answered 404, a POST and a PATCH; later\n'
printf 'writes one PATCH, at most one per 5 s per object (30 s when only prefixes change); a\n'
printf 'removal one DELETE. Default mode has no per-Service object: its writes do not grow with\n'
printf 'the Services. Per-node mode (`speaker.status.serviceBGPStatus: true`) costs one object\n'
printf 'and one write per node and Service changed, as the README states.'
if ((${#verdicts[@]})); then printf ' Misses or unfinished: %s.\n' "${verdicts[*]}"; else printf ' Every window meets its bound.\n'; fi
