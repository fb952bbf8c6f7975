#!/usr/bin/env bash
# bench/speaker_convergence.sh: convergence of N IPv4 /32 routes sharing one set of
# attributes from bgpcomm-speaker (--objects mode) into BIRD 2 and into GoBGP, each in its
# own network namespace (the e2e/interop helpers: 198.51.100.0/30 on a veth pair, nothing
# added to the root namespace). A benchmark, not a test: it prints a markdown table and,
# with --write, replaces the "Speaker convergence" section of bench/RESULTS.md.
#
# Per run (router x N x object shape):
#   load      speaker start -> its `event=objects_applied` log line (YAML load, resolution,
#             desired routes): the baseline, the part that needs no session at all
#   first UPD speaker start -> its first `event=updates_sent` log line (load + TCP + OPEN)
#   converged speaker start -> the router reports N routes (birdc `show route count`,
#             `gobgp global rib summary`, polled in a tight loop)
#   UPDATEs   bgpcomm_speaker_updates_sent_total from the speaker's /metrics (includes the
#             one End-of-RIB); prefixes/UPDATE = N / (UPDATEs - 1)
#   peak RSS  VmHWM of the speaker from /proc/PID/status after convergence
#   CPU       the speaker's user + system time at convergence (/proc/PID/stat): the wall
#             times above include waiting for a CPU on a shared machine, this does not
#   libyaml   baseline: libyaml's event parser alone on the same file (a small program built here),
#             its time and peak RSS
#
# Route prefixes come from 198.18.0.0/15 (RFC 2544 benchmarking), announced only inside
# the router namespace. Object shapes: "1/svc" = N LoadBalancer Services with one ingress
# IP each (the realistic shape), "1000/svc" = N/1000 Services with 1,000 IPs each (the same
# routes with 1,000x fewer YAML documents, to separate YAML cost from BGP cost).
#
# Usage (root; needs ip, bird/birdc, gobgpd/gobgp, curl, perl):
#   nice -n 10 bench/speaker_convergence.sh [--write] [--sizes "10000 100000"]
#        [--routers "bird gobgp"] [--shapes "1 1000"]
#   BGPCOMM_SPEAKER=path/to/bgpcomm-speaker (default: the first build*/bin/bgpcomm-speaker)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

WRITE=0
SIZES="10000 100000"
ROUTERS="bird gobgp"
SHAPES="1 1000"
while (($#)); do
  case "$1" in
    --write) WRITE=1 ;;
    --sizes) SIZES="$2"; shift ;;
    --routers) ROUTERS="$2"; shift ;;
    --shapes) SHAPES="$2"; shift ;;
    *) echo "usage: $0 [--write] [--sizes LIST] [--routers LIST] [--shapes LIST]" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "${BGPCOMM_SPEAKER:-}" ]; then
  for candidate in build/bin/bgpcomm-speaker build*/bin/bgpcomm-speaker; do
    if [ -x "$candidate" ]; then BGPCOMM_SPEAKER="$REPO/$candidate"; break; fi
  done
fi
export BGPCOMM_SPEAKER
source e2e/interop/lib.bash
source e2e/interop/bird.bash
source e2e/interop/gobgp.bash
require_cmd ip bird birdc gobgpd gobgp curl perl python3 gcc

OUT=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-convergence.XXXXXX")
cleanup() {
  net_down
  rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A one-file baseline program: libyaml's event parser alone over the objects file (the
# floor of the speaker's manifest loader, which builds its trees from these events),
# printing "MS RSS_MB EVENTS" (VmHWM). Built here so that this script needs no CMake target.
build_yaml_baseline() {
  cat >"$OUT/yaml_events.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "rb");
  if (!f) return 1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  unsigned char* text = malloc(n);
  if (fread(text, 1, n, f) != (size_t)n) return 1;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  yaml_parser_t parser;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, text, n);
  long events = 0;
  for (;;) {
    yaml_event_t e;
    if (!yaml_parser_parse(&parser, &e)) return 2;
    int type = e.type;
    yaml_event_delete(&e);
    ++events;
    if (type == YAML_STREAM_END_EVENT) break;
  }
  yaml_parser_delete(&parser);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  FILE* status = fopen("/proc/self/status", "r");
  char line[256];
  long hwm_kb = 0;
  while (fgets(line, sizeof line, status))
    if (strncmp(line, "VmHWM:", 6) == 0) hwm_kb = atol(line + 6);
  printf("%ld %.1f %ld\n", ms, hwm_kb / 1024.0, events);
  return 0;
}
C
  gcc -O2 -o "$OUT/yaml_events" "$OUT/yaml_events.c" -lyaml
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ms since the epoch of the first log line of the speaker containing EVENT.
log_ms() {
  local line
  line=$(grep -m1 -F "event=$1" "$WORK/speaker.log" || true)
  [ -n "$line" ] || { echo ""; return; }
  local ts=${line#ts=}
  ts=${ts%% *}
  # 2026-11-26T01:40:00.123Z
  local secs ms
  secs=$(date -u -d "${ts%.*}Z" +%s)
  ms=${ts##*.}
  ms=${ms%Z}
  echo $((secs * 1000 + 10#$ms))
}

# write_bench_objects FILE N IPS_PER_SERVICE
write_bench_objects() {
  python3 - "$1" "$2" "$3" "$SPK_V4" "$RTR_V4" <<'PY'
import ipaddress, sys
path, n, per, spk, rtr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
base = int(ipaddress.IPv4Address("198.18.0.0"))
assert n <= 131072 - 2
out = ["""apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: bench-communities
  namespace: metallb-system
spec:
  communities:
    - name: primary-route
      value: "64512:100"
    - name: region
      value: "large:64512:1:100"
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: bench-pool
  namespace: metallb-system
spec:
  addresses:
    - 198.18.0.0/15
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: bench-advert
  namespace: metallb-system
spec:
  ipAddressPools:
    - bench-pool
  communities:
    - primary-route
    - region
    - "64512:300"
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: bench-router
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: %s
  routerID: %s
  dualStackAddressFamily: false
""" % (rtr, spk)]
i = 0
svc = 0
while i < n:
    count = min(per, n - i)
    lines = ["---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\n  namespace: default\n"
             "spec:\n  type: LoadBalancer\nstatus:\n  loadBalancer:\n    ingress:\n" % svc]
    for k in range(count):
        lines.append("      - ip: %s\n" % ipaddress.IPv4Address(base + 1 + i + k))
    out.append("".join(lines))
    i += count
    svc += 1
with open(path, "w") as f:
    f.write("".join(out))
PY
}

bird_count() {
  birdc -s "$WORK/bird.ctl" show route count table master4 2>/dev/null |
    awk '/routes for/ {print $1; exit}'
}
gobgp_count() {
  in_rtr gobgp -u 127.0.0.1 -p 50051 global rib summary -a ipv4 2>/dev/null |
    awk -F'[:,] *' '/Destination/ {print $2; exit}'
}

# run_one ROUTER N PER -> appends a result line to $OUT/results.tsv
run_one() {
  local router="$1" n="$2" per="$3"
  echo "bench: $router, $n routes, $per IP(s) per Service" >&2
  net_up "cv$router"
  mkdir -p "$WORK/objects"
  write_bench_objects "$WORK/objects/objects.yaml" "$n" "$per"
  local size_mb
  size_mb=$(awk -v b="$(stat -c %s "$WORK/objects/objects.yaml")" 'BEGIN {printf "%.1f", b / 1048576}')
  local yaml_ms yaml_rss
  read -r yaml_ms yaml_rss _ < <("$OUT/yaml_events" "$WORK/objects/objects.yaml")
  case "$router" in
    bird) start_bird 64513 64512 ;;
    gobgp) start_gobgp 64513 64512; sleep 0.5 ;;  # let gobgpd open its BGP listener
  esac
  local count_fn="${router}_count"
  local t0 t_end count="" deadline
  t0=$(now_ms)
  ip netns exec "$NS_SPK" "$BGPCOMM_SPEAKER" --objects "$WORK/objects" --node-name node-a \
    --log-level info --metrics-bind-address 127.0.0.1:7472 \
    --health-probe-bind-address 127.0.0.1:7473 >>"$WORK/speaker.log" 2>&1 &
  SPEAKER_PID=$!
  PIDS+=("$SPEAKER_PID")
  deadline=$((t0 + 300000))
  while :; do
    count=$($count_fn || true)
    if [ "${count:-0}" -ge "$n" ] 2>/dev/null; then t_end=$(now_ms); break; fi
    if (($(now_ms) > deadline)) || ! kill -0 "$SPEAKER_PID" 2>/dev/null; then
      echo "bench: $router did not reach $n routes (has ${count:-0}); speaker log:" >&2
      tail -20 "$WORK/speaker.log" >&2
      t_end=""
      break
    fi
    sleep 0.01
  done
  local updates hwm cpu t_load t_first failures
  sleep 0.3  # let the metrics catch up with the last write
  updates=$(in_spk curl -sf http://127.0.0.1:7472/metrics |
    awk '/^bgpcomm_speaker_updates_sent_total\{/ {print $2; exit}')
  hwm=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$SPEAKER_PID/status")
  # utime + stime in ms: CPU time is what the wall times would be on an idle machine.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz)}' \
    "/proc/$SPEAKER_PID/stat")
  t_load=$(log_ms objects_applied)
  t_first=$(log_ms updates_sent)
  failures=$(grep -c 'event=connect_failed' "$WORK/speaker.log" || true)
  local conv="" load="" first=""
  [ -n "$t_end" ] && conv=$((t_end - t0))
  [ -n "$t_load" ] && load=$((t_load - t0))
  [ -n "$t_first" ] && first=$((t_first - t0))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$router" "$n" "$per" "$size_mb" \
    "$yaml_ms" "$yaml_rss" "$load" "$first" "$conv" "${updates:-}" "$hwm" "$cpu" "$failures" \
    >>"$OUT/results.tsv"
  stop_speaker
  net_down
}

build_yaml_baseline
for n in $SIZES; do
  for per in $SHAPES; do
    for router in $ROUTERS; do
      run_one "$router" "$n" "$per"
    done
  done
done

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(python3 - "$OUT/results.tsv" <<'PY'
import sys
def fmt_ms(v):
    return "n/a" if v == "" else f"{int(v):,} ms"
print("| router | routes | IPs per Service | YAML file | libyaml events alone | speaker load | first UPDATE | converged | converged - first UPDATE | UPDATEs | prefixes/UPDATE | speaker peak RSS | speaker CPU | connect retries |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
rows = []
for line in open(sys.argv[1]):
    router, n, per, size, yms, yrss, load, first, conv, upd, hwm, cpu, fails = line.rstrip("\n").split("\t")
    bgp = fmt_ms(str(int(conv) - int(first))) if conv and first else "n/a"
    n = int(n)
    ppu = f"{n / (float(upd) - 1):,.0f}" if upd and float(upd) > 1 else "n/a"
    router = {"bird": "BIRD 2", "gobgp": "GoBGP"}[router]
    print(f"| {router} | {n:,} | {int(per):,} | {size} MB | {fmt_ms(yms)}, {yrss} MB | {fmt_ms(load)} | "
          f"{fmt_ms(first)} | {fmt_ms(conv)} | {bgp} | {upd and int(float(upd))} | {ppu} | {hwm} MB | {fmt_ms(cpu)} | {fails} |")
    rows.append((router, n, conv, upd, hwm))
# Verdicts against the targets of issue 5, from the rows above.
def verdict(ok):
    return "meets" if ok else "MISSES"
print()
ppus = [n / (float(upd) - 1) for _, n, _, upd, _ in rows if upd and float(upd) > 1]
if ppus:
    print(f"- At least 500 prefixes per UPDATE: {verdict(min(ppus) >= 500)} (lowest {min(ppus):,.0f}).")
bird = [conv for router, n, conv, _, _ in rows if router == "BIRD 2" and n == 100000]
if bird:
    ok = all(c != "" and int(c) < 2000 for c in bird)
    print(f"- 100,000 routes into BIRD in under 2 s from speaker start: {verdict(ok)} "
          f"({', '.join(fmt_ms(c) for c in bird)}).")
rss = [float(h) for *_, h in rows if h]
if rss:
    print(f"- Speaker peak RSS under 64 MB: {verdict(max(rss) < 64)} (highest {max(rss):.1f} MB).")
PY
)
echo
echo "$table"

if ((WRITE)); then
  stamp=$(date -u '+%Y-%m-%d %H:%M UTC')
  cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
  section=$(cat <<EOF
## Speaker convergence

Run $stamp on $(hostname): $(nproc) CPUs ($cpu), load average $loadavg at the end
(shared with a full test run); $(bird --version 2>&1 | head -1), $(gobgp --version);
bgpcomm-speaker $(grep -s '^CMAKE_BUILD_TYPE' "$(dirname "$(dirname "$BGPCOMM_SPEAKER")")/CMakeCache.txt" | cut -d= -f2).
Command: \`nice -n 10 bench/speaker_convergence.sh --write\` (root: network namespaces).

The speaker (\`--objects\`, one eBGP IPv4 session) announces N /32 routes from
198.18.0.0/15 sharing one attribute set (two communities and a large community from one
resolved BGPAdvertisement) to a passive BIRD 2 or GoBGP in another namespace. Times are
from starting the speaker: *load* is its \`event=objects_applied\` log line (YAML load,
resolution, desired routes; the baseline, which needs no session), *first UPDATE* its first
\`event=updates_sent\` line, *converged* when the router reports all N routes (\`birdc show
route count\` / \`gobgp global rib summary\`, polled every ~10 ms). UPDATEs is
\`bgpcomm_speaker_updates_sent_total\` (it includes one End-of-RIB; prefixes/UPDATE
excludes it). Peak RSS is the speaker's VmHWM; CPU its user + system time at convergence
(the wall times include waiting for one of the 2 shared, niced CPUs). Second baseline:
*libyaml events alone*, a small program built by the script that only runs libyaml's
event parser over the same file (time, peak RSS). Targets: >= 500 prefixes per UPDATE,
100,000 routes into BIRD in under 2 s, RSS under 64 MB.

$table
EOF
)
  python3 - bench/RESULTS.md "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip("\n") + "\n"
text = open(path).read()
m = re.search(r"^## Speaker convergence\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
if m:
    text = text[:m.start()] + section + ("\n" if m.end() < len(text) else "") + text[m.end():]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
PY
  echo "bench: bench/RESULTS.md updated" >&2
fi
