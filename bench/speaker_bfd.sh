#!/usr/bin/env bash
# bench/speaker_bfd.sh: time from a cut link to the router dropping the speaker's routes,
# with BFD (BGPPeer bfdProfile: transmitInterval = receiveInterval = 300 ms, detectMultiplier
# 3, the router at the same timers: target under 1.1 s) and without (the baseline: the hold
# timer, 9 s), against BIRD 2 and FRR, each in its own network namespace (the e2e/interop
# helpers: 198.51.100.0/30 on a veth pair). The cut drops every packet in the router's
# namespace (nft); the time runs from just before the cut to the router's log line ending
# the session (millisecond timestamps: BIRD's `State changed to down` comes after its routes
# are flushed, FRR's `%ADJCHANGE ... Down` just before bgpd removes them; e2e/interop
# time_cut). A benchmark, not a test: it prints a markdown block and, with --write, replaces
# the "speaker-bfd" block of bench/RESULTS.md.
#
# Usage (root; needs ip, nft, bird/birdc, FRR bgpd/bfdd/vtysh, perl):
#   bench/speaker_bfd.sh [--write] [--runs 5] [--routers "bird frr"]
#   BGPCOMM_SPEAKER=path/to/bgpcomm-speaker (default: build/bin/bgpcomm-speaker)
set -euo pipefail
cd "$(dirname "$0")/.."
write=0 runs=5 routers="bird frr"
while (($#)); do
  case $1 in
    --write) write=1 ;;
    --runs) runs=$2; shift ;;
    --routers) routers=$2; shift ;;
    *) echo "usage: $0 [--write] [--runs N] [--routers LIST]" >&2; exit 2 ;;
  esac
  shift
done
export SPEAKER_LOG_LEVEL=info
export BGPCOMM_SPEAKER=${BGPCOMM_SPEAKER:-$PWD/${BUILD_DIR:-build}/bin/bgpcomm-speaker}
route=203.0.113.10/32

# One setup in a subshell (the helpers' globals stay per run): N cuts, each restored and
# waited for. Prints the milliseconds of each cut, one a line.
run() {
  local router=$1 bfd=$2 n=$3
  (
    source e2e/interop/lib.bash
    source "e2e/interop/$router.bash"
    net_up "bb$bfd-$router" >/dev/null
    trap net_down EXIT
    present() { rtr_attr ipv4 "$route" present; }
    local objects=(dual_stack=false connect_time=2s)
    if [ "$bfd" = on ]; then
      RTR_BFD_INTERVAL=300
      RTR_BFD_MULTIPLIER=3
      write_bfd_profile "$WORK/objects" fast 300 3
      objects+=(bfd_profile=fast)
    fi
    rtr_start 64513 64512 >/dev/null
    write_objects "$WORK/objects" "${objects[@]}"
    start_speaker "$WORK/objects"
    wait_for 30 rtr_established >/dev/null
    wait_for 30 present >/dev/null
    local i ms _
    for ((i = 1; i <= n; i++)); do
      [ "$bfd" = on ] && wait_for 30 rtr_bfd_up >/dev/null
      read -r ms _ _ < <(time_cut "$route" 30000 'event=session_state peer=upstream-router from=Established')
      echo "$ms"
      restore_link
      wait_for 60 present >/dev/null
    done
  )
}

{
  printf 'Run %s on %s: %s CPUs, load average %s. Command: `bench/speaker_bfd.sh --runs %s`.\n\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(hostname)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$runs"
  echo '| router | cut -> the router ends the session (its routes gone), BFD 300 ms x 3: median / max (runs) | target | baseline: without BFD (hold 9 s) | baseline / median |'
  echo '|---|---|---|---|---|'
  for router in $routers; do
    mapfile -t with < <(run "$router" on "$runs" | sort -n)
    read -r without < <(run "$router" off 1)
    median=${with[$((${#with[@]} / 2))]}
    max=${with[-1]}
    verdict=meets
    for ms in "${with[@]}"; do
      if ! [[ $ms =~ ^[0-9]+$ ]] || ((ms >= 1100)); then verdict=misses; fi
    done
    ratio=$(awk -v b="$without" -v m="$median" 'BEGIN { printf "%.1f×", b / m }')
    echo "| $router | $median ms / $max ms (${#with[@]}, $verdict) | < 1100 ms every run | $without ms | $ratio |"
  done
} >"${BENCH_OUT:-/tmp}/bfd.md"
cat "${BENCH_OUT:-/tmp}/bfd.md"
if ((write)); then
  python3 bench/section.py bench/RESULTS.md speaker-bfd <"${BENCH_OUT:-/tmp}/bfd.md"
fi
