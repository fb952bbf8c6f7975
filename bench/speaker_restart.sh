#!/usr/bin/env bash
# bench/speaker_restart.sh: routes withdrawn at the router while bgpcomm-speaker is killed
# (kill -9) and started again, holding N routes, with graceful restart (BGPPeer
# enableGracefulRestart: the measurement, target 0) and without (the baseline), against
# GoBGP, BIRD 2 and FRR, each in its own network namespace (the e2e/interop helpers:
# 198.51.100.0/30 on a veth pair, routes from 198.18.0.0/15). A benchmark, not a test: it
# prints a markdown block and, with --write, replaces the "speaker-restart" block of
# bench/RESULTS.md.
#
# withdrawn = N - the smallest IPv4 route count sampled at the router from just before the
# kill until the restarted speaker's table is complete again and 1 s more (each sample is
# one CLI call: birdc `show route count`, `gobgp global rib summary`, vtysh `show bgp ipv4
# unicast statistics json`). restart = kill -> the router holds N routes again with no
# stale mark left (End-of-RIB processed; without graceful restart: N routes back).
#
# Usage (root; needs ip, bird/birdc, gobgpd/gobgp, FRR bgpd/vtysh, perl):
#   bench/speaker_restart.sh [--write] [--routes 10000] [--routers "gobgp bird frr"]
#   BGPCOMM_SPEAKER=path/to/bgpcomm-speaker (default: build/bin/bgpcomm-speaker)
set -euo pipefail
cd "$(dirname "$0")/.."
write=0 routes=10000 routers="gobgp bird frr"
while (($#)); do
  case $1 in
    --write) write=1 ;;
    --routes) routes=$2; shift ;;
    --routers) routers=$2; shift ;;
    *) echo "usage: $0 [--write] [--routes N] [--routers LIST]" >&2; exit 2 ;;
  esac
  shift
done
export SPEAKER_LOG_LEVEL=info
export BGPCOMM_SPEAKER=${BGPCOMM_SPEAKER:-$PWD/${BUILD_DIR:-build}/bin/bgpcomm-speaker}

# One run in a subshell: the helpers' globals stay per run. Prints "WITHDRAWN RESTART_MS".
run() {
  local router=$1 gr=$2
  (
    source e2e/interop/lib.bash
    source "e2e/interop/$router.bash"
    RTR_GR=1
    net_up "b$gr-$router"
    trap net_down EXIT
    count_is() { [ "$(rtr_count4)" = "$1" ]; }
    not_stale() { ! rtr_stale "$1"; }
    rtr_start 64513 64512 >/dev/null
    write_many_objects "$WORK/objects" "$routes" graceful_restart="$gr"
    start_speaker "$WORK/objects" --state-dir "$WORK/state"
    wait_for 60 rtr_established >/dev/null
    wait_for 120 count_is "$routes" >/dev/null
    : >"$WORK/counts"
    (while :; do echo "$(rtr_count4 2>/dev/null)" >>"$WORK/counts"; done) &
    local monitor=$! start end
    sleep 0.5
    start=$(date +%s%N)
    kill -9 "$SPEAKER_PID"
    wait "$SPEAKER_PID" 2>/dev/null || true
    start_speaker "$WORK/objects" --state-dir "$WORK/state"
    wait_for 120 count_is "$routes" >/dev/null
    [ "$gr" = true ] && wait_for 120 not_stale 198.18.0.1/32 >/dev/null
    end=$(date +%s%N)
    sleep 1
    kill "$monitor"
    wait "$monitor" 2>/dev/null || true
    local min
    min=$(awk '{ n = ($1 == "" ? 0 : $1); if (min == "" || n < min) min = n } END { print min }' "$WORK/counts")
    echo "$((routes - min)) $(((end - start) / 1000000)) $(wc -l <"$WORK/counts")"
  )
}

{
  printf 'Run %s on %s: %s CPUs, load average %s. %s routes; command: `bench/speaker_restart.sh --routes %s`.\n\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(hostname)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$routes" "$routes"
  echo '| router | withdrawn with graceful restart | target | baseline: withdrawn without | restart (kill -> table complete, no stale) with / without | samples with / without |'
  echo '|---|---|---|---|---|---|'
  for router in $routers; do
    read -r w_gr t_gr s_gr < <(run "$router" true)
    read -r w_off t_off s_off < <(run "$router" false)
    verdict=$([ "$w_gr" = 0 ] && echo "meets" || echo "misses")
    echo "| $router | $w_gr ($verdict) | 0 | $w_off | ${t_gr} ms / ${t_off} ms | $s_gr / $s_off |"
  done
} >"${BENCH_OUT:-/tmp}/restart.md"
cat "${BENCH_OUT:-/tmp}/restart.md"
if ((write)); then
  python3 bench/section.py bench/RESULTS.md speaker-restart <"${BENCH_OUT:-/tmp}/restart.md"
fi
