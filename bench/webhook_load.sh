#!/usr/bin/env bash
# bench/webhook_load.sh: admission throughput and latency over keep-alive TLS with wrk,
# against the /noop endpoint of the same server as the baseline. Prints one markdown
# table (and the server's peak RSS with 10,000 aliases in its view).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
DURATION=${LOAD_SECONDS:-10}
CONNECTIONS=${LOAD_CONNECTIONS:-16}
work=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-load.XXXXXX")
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD_DIR/bin/webhook_load_server" 10000 "$work" > "$work/server.out" &
server_pid=$!
for _ in $(seq 100); do grep -q "^port=" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^port=\([0-9]*\).*/\1/p' "$work/server.out")
[ -n "$port" ] || { echo "webhook_load_server did not start" >&2; exit 1; }

# The review: an advertisement of 10 aliases out of the 10,000 (as webhook_bench uses).
python3 - "$work/review.json" <<'PY'
import json, sys
entries = ["alias-%d" % ((i * 997) % 10000) for i in range(10)]
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "load", "kind": {"group": "metallb.io", "version": "v1beta1", "kind": "BGPAdvertisement"},
    "resource": {"group": "metallb.io", "version": "v1beta1", "resource": "bgpadvertisements"},
    "name": "advert-0", "namespace": "metallb-system", "operation": "CREATE",
    "userInfo": {"username": "admin"}, "object": {"apiVersion": "metallb.io/v1beta1",
    "kind": "BGPAdvertisement", "metadata": {"name": "advert-0", "namespace": "metallb-system"},
    "spec": {"ipAddressPools": ["production-pool"], "aggregationLength": 32, "communities": entries}},
    "oldObject": None, "dryRun": False}}
open(sys.argv[1], "w").write(json.dumps(review))
PY

run() {  # run PATH -> "requests_per_second p50_ms p99_ms"
  BODY_FILE="$work/review.json" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s bench/webhook_load.lua "https://127.0.0.1:$port$1" > "$work/wrk.out"
  python3 - "$work/wrk.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p = {m.group(1): ms(m.group(2), m.group(3)) for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", text, re.M)}
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.exit("non-2xx responses: " + errors.group(1))
print(f"{rps:.0f} {p['50']:.3f} {p['99']:.3f}")
PY
}

read -r noop_rps noop_p50 noop_p99 < <(run /noop)
read -r mut_rps mut_p50 mut_p99 < <(run /mutate-metallb-io-v1beta1-bgpadvertisement)
read -r val_rps val_p50 val_p99 < <(run /validate-metallb-io-v1beta1-bgpadvertisement)
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")

echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s over keep-alive TLS, server and wrk sharing $(nproc) CPUs:"
echo
echo "| endpoint | requests/s | p50 | p99 | throughput vs /noop | target (issue 16) | verdict |"
echo "|---|---|---|---|---|---|---|"
echo "| /noop (baseline: TLS + HTTP, no admission work) | $noop_rps | ${noop_p50} ms | ${noop_p99} ms | 1.00 | | |"
row() {  # row LABEL RPS P50 P99 TARGET_RATIO (the issue's targets are for 4 connections)
  awk -v label="$1" -v r="$2" -v b="$noop_rps" -v p50="$3" -v p99="$4" -v t="$5" \
      -v judged="$([[ $CONNECTIONS == 4 ]] && echo 1 || echo 0)" 'BEGIN {
    ratio = r / b
    if (!judged) { printf "| %s | %d | %s ms | %s ms | %.2f | | |\n", label, r, p50, p99, ratio; exit }
    printf "| %s | %d | %s ms | %s ms | %.2f | >= %.2f | %s |\n", label, r, p50, p99, ratio, t,
      (sprintf("%.2f", ratio) + 0 >= t ? "meets" : "MISSES") }'
}
row "mutate (10 of 10,000 aliases)" "$mut_rps" "$mut_p50" "$mut_p99" 0.80
row "validate (10 of 10,000 aliases)" "$val_rps" "$val_p50" "$val_p99" 0.85
echo
echo "Server peak RSS (VmHWM) with 10,000 aliases in its view: $((rss_kb / 1024)) MiB."
