#!/usr/bin/env bash
# bench/speaker_cluster_scale.sh: the speaker in Kubernetes mode with N LoadBalancer
# Services in the local apiserver (issue 16, "the speaker at 100,000 Services").
#
# A private local control plane (e2e/cluster/up.sh in its own state dir; the webhook runs
# with --allocate-addresses=false: this script writes the Services' addresses itself), a
# BIRD 2 router (e2e/cluster/router.sh) and one BGPPeer, one IPAddressPool
# 2001:db8:100::/104 (IPv6: the IPv4 documentation ranges hold 768 addresses and
# 198.18.0.0/15 is the cluster's Service range), one BGPAdvertisement of one community.
# N Services, each with one address in status.loadBalancer.ingress, are put in the
# apiserver in one of two ways (SCALE_SEED):
#   api   created with parallel clients (keep-alive HTTPS, CREATE_CLIENTS threads), then
#         each given its address (a status PATCH). The default up to 20,000 Services.
#   etcd  written into the apiserver's etcd, in transactions of 128 keys, each Service with
#         its ClusterIP's IPAddress object, as the apiserver stores them (JSON, which its
#         storage decoder reads beside protobuf); the apiserver's watch cache takes them
#         from etcd's watch like any write. The default above 20,000 Services: kube-apiserver
#         v1.36 counts every IPAddress object after each ClusterIP allocation, so creating
#         100,000 through it takes over 90 minutes on this machine (RESULTS.md). The
#         speaker sees the same objects either way: it lists and watches the apiserver.
# Then:
#   baseline    `kubectl get services -A -o json` of the N Services (the listing every
#               informer does first), timed;
#   start       the speaker process started (e2e/cluster/speaker.sh; its start time from
#               /proc) -> BIRD holds N routes (`birdc show route count`, polled every
#               ~20 ms);
#   changes     C Services' addresses changed one at a time (status PATCH): each from the
#               PATCH's answer until BIRD shows the new route (birdc polled);
#   CPU         the speaker's user+system time over the C changes, divided by C;
#   peak RSS    the speaker's VmHWM.
# SCALE_PERF=FILE records a perf profile of the speaker over the changes.
# Prints a markdown section on stdout. Usage: bench/speaker_cluster_scale.sh [N] [C]
# Needs root (network namespace), BIRD 2 and the e2e tools (kube-apiserver, etcd, kubectl).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
changes=${2:-100}
clients=${CREATE_CLIENTS:-32}
work=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-bench-scale.XXXXXX")
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
now_ms() { date +%s%3N; }
router=scale
host_v4=198.51.100.21/30 rtr_v4=198.51.100.22
host_v6=2001:db8:fe:5::1/64 rtr_v6=2001:db8:fe:5::2

e2e/cluster/up.sh -- --allocate-addresses=false >/dev/null 2>"$work/up.log" ||
  { cat "$work/up.log" >&2; exit 1; }
e2e/cluster/router.sh start "$router" "$host_v4" "$rtr_v4" "$host_v6" "$rtr_v6" 64513 64512 \
  >/dev/null 2>>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
ns=$(sed -n 's/^BGPCOMM_NAMESPACE=//p' "$BGPCOMM_STATE_DIR/env" | tail -n1)
ns=${ns:-metallb-system}
objects() {
  cat <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: scale-router, namespace: $ns}
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: $rtr_v4
  dualStackAddressFamily: true
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: scale-pool, namespace: $ns}
spec:
  addresses: ["2001:db8:100::/104"]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: scale-advert, namespace: $ns}
spec:
  ipAddressPools: [scale-pool]
  communities: ["64512:100"]
YAML
}
for ((i = 0; i < 30; i++)); do objects | k apply -f - >/dev/null 2>&1 && break; sleep 1; done
objects | k apply -f - >/dev/null
k create namespace scale >/dev/null

# services.py create|change: parallel keep-alive HTTPS clients with the admin certificate.
cat >"$work/services.py" <<'PY'
import http.client, ipaddress, json, os, ssl, statistics, subprocess, sys, threading, time
mode, pki, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
ctx.load_cert_chain(f"{pki}/admin.crt", f"{pki}/admin.key")
def conn():
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
def ip(i):  # the i-th address of 2001:db8:100::/104, as BIRD prints it
    return str(ipaddress.IPv6Address("2001:db8:100::") + i)
def call(c, method, path, body, ctype="application/json"):
    for attempt in range(20):
        try:
            c.request(method, path, json.dumps(body), {"Content-Type": ctype})
            r = c.getresponse(); data = r.read()
            if r.status in (200, 201): return c
            if r.status == 409 and method == "POST": return c
            if r.status not in (429, 500, 503, 504): raise SystemExit(f"{method} {path}: {r.status} {data[:200]}")
        except (OSError, http.client.HTTPException):
            c.close(); c = conn()
        time.sleep(0.2 * (attempt + 1))
    raise SystemExit(f"{method} {path}: gave up")
def service(i):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"svc-{i:06d}", "namespace": "scale"},
            "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False,
                     "ipFamilies": ["IPv4"], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}
def status(address):
    return {"status": {"loadBalancer": {"ingress": [{"ip": address}]}}}
base = "/api/v1/namespaces/scale/services"
if mode == "create":
    clients = int(sys.argv[5]); errors = []
    def worker(w):
        try:
            c = conn()
            for i in range(w, n, clients):
                c = call(c, "POST", base, service(i))
                c = call(c, "PATCH", f"{base}/svc-{i:06d}/status", status(ip(i)),
                         "application/merge-patch+json")
        except BaseException as e:  # noqa: BLE001
            errors.append(str(e))
    t = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    start = time.time(); [x.start() for x in t]; [x.join() for x in t]
    if errors: raise SystemExit(errors[0])
    print(f"{time.time() - start:.1f}")
else:  # change C: C Services' addresses, one at a time; each until BIRD shows it
    changes, birdc = int(sys.argv[5]), sys.argv[6:]
    c = conn(); seen = []
    for j in range(changes):
        i = (j * 7919) % n
        new = ip(n + j)
        c = call(c, "PATCH", f"{base}/svc-{i:06d}/status", status(new), "application/merge-patch+json")
        t0 = time.time()
        while True:
            out = subprocess.run(birdc + ["show", "route", "for", new, "table", "master6"],
                                 capture_output=True, text=True).stdout
            if f"{new}/128" in out: break
            if time.time() - t0 > 30: raise SystemExit(f"change {j}: {new} not in BIRD after 30 s")
            time.sleep(0.005)
        seen.append((time.time() - t0) * 1000)
    seen.sort()
    print(f"{statistics.median(seen):.1f} {seen[min(len(seen) - 1, int(len(seen) * 0.99))]:.1f} {seen[-1]:.1f}")
PY
api_port=$(sed -n 's/^API_PORT=//p' "$BGPCOMM_STATE_DIR/env" | tail -n1)
seed=${SCALE_SEED:-$( ((n > 20000)) && echo etcd || echo api)}
case $seed in
  api)
    create_s=$(python3 "$work/services.py" create "$BGPCOMM_STATE_DIR/pki" "$api_port" "$n" "$clients")
    created="$clients parallel clients created the Services and their addresses in $create_s s" ;;
  etcd)
    etcd_port=$(sed -n 's/^ETCD_PORT=//p' "$BGPCOMM_STATE_DIR/env" | tail -n1)
    # ClusterIPs from 198.18.16.0 up (100,000 fit below the end of the /15), past those
    # the control plane holds already.
    k get ipaddresses -o name >"$work/ipaddresses-before"
    t=$(now_ms)
    python3 bench/seed_services_etcd.py --etcd "http://127.0.0.1:$etcd_port" --namespace scale \
      --services "$n" --first-cluster-ip 198.18.16.0 --first-address 2001:db8:100:: \
      --taken "$work/ipaddresses-before"
    # The apiserver has them when its lists (from its watch caches) hold all N Services and
    # an IPAddress object for each ClusterIP, as if it had allocated them.
    want_ips=$(($(wc -l <"$work/ipaddresses-before") + n))
    until [[ $(k get services -n scale -o name | wc -l) == "$n" &&
             $(k get ipaddresses -o name | wc -l) == "$want_ips" ]]; do
      (($(now_ms) - t < 600000)) ||
        { echo "the apiserver did not list $n Services and $want_ips IPAddresses in 600 s" >&2; exit 1; }
      sleep 3
    done
    create_s=$(awk -v a="$t" -v b="$(now_ms)" 'BEGIN {printf "%.1f", (b - a) / 1000}')
    created="the Services, with their addresses and ClusterIPs' IPAddress objects, were written into etcd (bench/seed_services_etcd.py) and listed by the apiserver in $create_s s" ;;
  *) echo "SCALE_SEED is api or etcd, not $seed" >&2; exit 2 ;;
esac

t=$(now_ms)
listed=$(k get services -n scale -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
list_ms=$(($(now_ms) - t))
[[ $listed == "$n" ]] || { echo "listed $listed Services, expected $n" >&2; exit 1; }

route_count() {
  e2e/cluster/router.sh birdc "$router" show route count 2>/dev/null |
    awk '$1 == "Total:" {print $2; exit}'
}
t=$(now_ms)
e2e/cluster/speaker.sh start scale-node >/dev/null 2>>"$work/up.log" &
starter=$!
got=0
while ((got < n)); do
  got=$(route_count); got=${got:-0}
  if (($(now_ms) - t > 300000)); then echo "BIRD holds $got of $n routes after 300 s" >&2; exit 1; fi
  sleep 0.02
done
all_ms=$(now_ms)
wait "$starter"
pid=$(sed -n 's/^SPEAKER_PID=//p' "$BGPCOMM_STATE_DIR/env" | tail -n1)
ticks=$(getconf CLK_TCK)
# From the speaker process's start (not the script's: speaker.sh first creates its RBAC,
# Node and token), in clock ticks after boot.
boot_s=$(awk '$1 == "btime" {print $2}' /proc/stat)
started_ms=$(awk -v b="$boot_s" -v t="$ticks" '{printf "%.0f\n", b * 1000 + $22 * 1000 / t}' "/proc/$pid/stat")
start_ms=$((all_ms - started_ms))
cpu_start_all=$(awk -v t="$ticks" '{printf "%.0f\n", ($14 + $15) * 1000 / t}' "/proc/$pid/stat")
cpu() { awk -v t="$ticks" '{printf "%.0f\n", ($14 + $15) * 1000 / t}' "/proc/$pid/stat"; }
# Idle: what the speaker spends with nothing changing (keepalives, the 30 s re-read of
# passwordSecrets), over 10 s, subtracted from the changes' CPU per second of their run.
idle_start=$(cpu)
sleep 10
idle_per_s=$(awk -v a="$idle_start" -v b="$(cpu)" 'BEGIN {printf "%.2f", (b - a) / 10}')
cpu_start=$(cpu)
# SCALE_PERF=FILE: the speaker is profiled (perf record) over the changes, for finding
# where the change path spends its time.
if [[ -n ${SCALE_PERF:-} ]]; then
  perf record -g -o "$SCALE_PERF" -p "$pid" >/dev/null 2>&1 &
  perf_pid=$!
fi
changes_start=$(now_ms)
ctl=$(e2e/cluster/router.sh ctl "$router")
read -r med p99 max < <(python3 "$work/services.py" change "$BGPCOMM_STATE_DIR/pki" "$api_port" "$n" \
  "$changes" birdc -s "$ctl")
changes_s=$(awk -v a="$changes_start" -v b="$(now_ms)" 'BEGIN {printf "%.1f", (b - a) / 1000}')
cpu_changes=$(($(cpu) - cpu_start))
if [[ -n ${perf_pid:-} ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
cpu_per_change=$(awk -v u="$cpu_changes" -v i="$idle_per_s" -v s="$changes_s" -v c="$changes" \
  'BEGIN {v = (u - i * s) / c; printf "%.2f", v < 0 ? 0 : v}')
hwm=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")

verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v + 0 < t + 0) ? "meets" : "MISSES"}'; }
cat <<MD
Command: \`SCALE_SEED=$seed bench/speaker_cluster_scale.sh $n $changes\` ($created).

| measurement | value | target | baseline (same run) | verdict |
|---|---|---|---|---|
| speaker process start -> all $n routes in BIRD (speaker CPU until then: $cpu_start_all ms) | $start_ms ms | 10000 ms | \`kubectl get services -o json\` of the $n: $list_ms ms | $(verdict "$start_ms" 10000) |
| one Service's address changed -> the router has the route (median of $changes) | $med ms (p99 $p99 ms, max $max ms) | 50 ms | | $(verdict "$med" 50) |
| speaker CPU per change: user+system over the $changes changes ($cpu_changes ms in $changes_s s), watch decoding included, less its idle CPU ($idle_per_s ms/s) | $cpu_per_change ms | 1 ms | idle speaker: $idle_per_s ms per second | $(verdict "$cpu_per_change" 1) |
| speaker peak RSS (VmHWM) | $hwm MiB | 256 MiB | | $(verdict "$hwm" 256) |
MD
