#!/usr/bin/env bash
# bench/admission_latency.sh: what bgpcomm-webhook adds to `kubectl apply`, measured by
# the API server itself, and the webhook's peak memory with 10,000 aliases cached.
#
# On a private local control plane (e2e/cluster/up.sh with its own state dir): a
# Community of 10 aliases and a pool, then N BGPAdvertisements of 3 aliases each created
# by one `kubectl apply` with the webhook registered (validating + mutating), deleted,
# and created again with the registrations removed (the baseline). The API server's
# apiserver_request_duration_seconds (verb POST, resource bgpadvertisements) gives the
# mean create latency of each run; apiserver_admission_webhook_admission_duration_seconds
# gives the time spent in each webhook call. Then a Community of 10,000 aliases is applied
# and one advertisement admitted, and the webhook's VmHWM read from /proc.
#
# Prints a markdown section on stdout. Usage: bench/admission_latency.sh [N] (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
export BGPCOMM_STATE_DIR
BGPCOMM_STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-bench-cp.XXXXXX")
work=$BGPCOMM_STATE_DIR/bench
cleanup() { e2e/cluster/down.sh >/dev/null 2>&1 || true; rm -rf "$BGPCOMM_STATE_DIR"; }
trap cleanup EXIT
e2e/cluster/up.sh >/dev/null 2>"$BGPCOMM_STATE_DIR/up.log" || { cat "$BGPCOMM_STATE_DIR/up.log" >&2; exit 1; }
. e2e/tools/paths.sh
export KUBECONFIG=$BGPCOMM_STATE_DIR/kubeconfig
k() { "$KUBECTL" "$@"; }
mkdir -p "$work"

python3 - "$work" "$n" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
head = "apiVersion: metallb.io/v1beta1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: metallb-system\n"
with open(f"{work}/base.yaml", "w") as f:
    f.write(head.format(kind="Community", name="bench-aliases") + "spec:\n  communities:\n")
    for i in range(10):
        f.write(f"  - name: alias-{i}\n    value: \"64512:{100 + i}\"\n")
    f.write("---\n" + head.format(kind="IPAddressPool", name="bench-pool") +
            "spec:\n  addresses:\n  - 203.0.113.0/24\n")
with open(f"{work}/adverts.yaml", "w") as f:
    for i in range(n):
        f.write("---\n" + head.format(kind="BGPAdvertisement", name=f"bench-{i}") +
                f"spec:\n  ipAddressPools: [bench-pool]\n  nodeSelectors: [{{matchLabels: {{rack: r{i}}}}}]\n"
                f"  communities: [alias-{i % 10}, alias-{(i + 1) % 10}, \"64512:{i % 65536}\"]\n")
with open(f"{work}/big.yaml", "w") as f:
    f.write(head.format(kind="Community", name="bench-10k") + "spec:\n  communities:\n")
    for i in range(10000):
        value = f"\"64513:{i}\"" if i % 2 == 0 else f"\"large:64513:1:{i}\""
        f.write(f"  - name: big-{i}\n    value: {value}\n")
PY

# sum COUNT of the series of METRIC whose labels contain every LABEL=VALUE given.
metric() {  # metric NAME LABEL=VALUE... -> "sum count"
  local name=$1; shift
  k get --raw /metrics | python3 -c '
import re, sys
name, want = sys.argv[1], sys.argv[2:]
s = c = 0.0
for line in sys.stdin:
    m = re.match(r"(\w+)\{(.*)\} (\S+)$", line.strip())
    if not m or m.group(1) not in (name + "_sum", name + "_count"):
        continue
    labels = dict(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(2)))
    if all(labels.get(k) == v for k, v in (w.split("=", 1) for w in want)):
        if m.group(1).endswith("_sum"): s += float(m.group(3))
        else: c += float(m.group(3))
print(s, c)' "$name" "$@"
}
creates() { metric apiserver_request_duration_seconds verb=POST resource=bgpadvertisements; }
hook() { metric apiserver_admission_webhook_admission_duration_seconds operation=CREATE type="$1"; }
mean_ms() {  # mean_ms "SUM0 COUNT0" "SUM1 COUNT1"
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
    if (y[2] - x[2] <= 0) { print "n/a"; exit } printf "%.2f", 1000 * (y[1] - x[1]) / (y[2] - x[2]) }'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

k apply -f "$work/base.yaml" >/dev/null
apply_run() {  # apply_run -> "mean_create_ms wall_ms"
  local before after t0 t1
  before=$(creates); t0=$(now_ms)
  k apply -f "$work/adverts.yaml" >/dev/null 2>>"$work/apply.err"
  t1=$(now_ms); after=$(creates)
  echo "$(mean_ms "$before" "$after") $((t1 - t0))"
}
v0=$(hook validating); m0=$(hook admit)
read -r with_ms with_wall < <(apply_run)
v1=$(hook validating); m1=$(hook admit)
stored=$(k -n metallb-system get bgpadvertisements -o name | wc -l)
annotated=$(k -n metallb-system get bgpadvertisements -o json |
  python3 -c 'import json,sys; print(sum(1 for i in json.load(sys.stdin)["items"] if "bgpcomm.io/resolved-communities" in i["metadata"].get("annotations", {})))')
[[ $stored == "$n" && $annotated == "$n" ]] || { echo "admission run stored $stored, annotated $annotated of $n" >&2; exit 1; }
k -n metallb-system delete bgpadvertisements --all >/dev/null
k delete validatingwebhookconfiguration bgpcomm-webhook >/dev/null
k delete mutatingwebhookconfiguration bgpcomm-webhook >/dev/null
sleep 2  # the API server drops the registrations from its cache asynchronously
read -r without_ms without_wall < <(apply_run)

# The webhook's memory with 10,000 aliases (registered again, so it admits the Community).
k -n metallb-system delete bgpadvertisements --all >/dev/null
k apply -f "$BGPCOMM_STATE_DIR/webhook-configurations.yaml" >/dev/null
e2e/cluster/webhook.sh wait-enforced >/dev/null 2>&1
pid=$(. e2e/cluster/lib.sh; state_get WEBHOOK_PID)
rss_before=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
k apply --server-side -f "$work/big.yaml" >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bench-big, namespace: metallb-system}
spec: {ipAddressPools: [bench-pool], communities: [big-0, big-1, big-2, big-3, big-4, big-5, big-6, big-7, big-8, big-9]}
YAML
rss_after=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

added=$(awk -v a="$with_ms" -v b="$without_ms" 'BEGIN { printf "%.2f", a - b }')
cat <<MD
Command: \`bench/admission_latency.sh $n\` (a private local control plane: kube-apiserver
$("$KUBE_APISERVER" --version 2>/dev/null | awk '{print $2}'), etcd, kubectl; the webhook registered by URL). $n BGPAdvertisements of 3
aliases each, created by one \`kubectl apply\`; the baseline is the same apply with the
webhook configurations removed. Means from the API server's own histograms.

| measurement | with the webhook | without (baseline) | added by bgpcomm |
|---|---|---|---|
| mean create latency (apiserver_request_duration_seconds, POST bgpadvertisements) | $with_ms ms | $without_ms ms | $added ms |
| \`kubectl apply\` of $n objects, wall time | $with_wall ms | $without_wall ms | $((with_wall - without_wall)) ms |
| mean validating webhook call (apiserver_admission_webhook_admission_duration_seconds) | $(mean_ms "$v0" "$v1") ms | | |
| mean mutating webhook call (same metric, type admit) | $(mean_ms "$m0" "$m1") ms | | |

Webhook peak RSS (VmHWM): $((rss_before / 1024)) MiB before, $((rss_after / 1024)) MiB after a Community of
10,000 aliases and one advertisement of 10 of them were admitted (target: under 30 MB).
MD
