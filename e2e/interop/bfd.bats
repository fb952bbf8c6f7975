#!/usr/bin/env bats
# BFD (RFC 5880 asynchronous mode, single hop RFC 5881) between bgpcomm-speaker and a real
# router (ROUTER: bird or frr) in network namespaces: the BGPPeer names a BFDProfile, the
# router runs BFD on the same session. The session comes Up at the router with the profile's
# timers; a cut link (every packet dropped in the router's namespace) takes the BGP session
# down at both ends within transmitInterval x detectMultiplier plus 200 ms, where the hold
# timer (9 s here) alone would take 9 s.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROUTE=203.0.113.10/32
FAMILY=ipv4

setup() {
  : "${ROUTER:?set ROUTER to bird or frr}"
  source "$BATS_TEST_DIRNAME/lib.bash"
  source "$BATS_TEST_DIRNAME/$ROUTER.bash"
  RTR_BFD_INTERVAL=300
  RTR_BFD_MULTIPLIER=3
  net_up "bfd-$ROUTER"
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    echo "--- speaker log"
    grep -v 'event=updates_sent' "$WORK/speaker.log" 2>/dev/null | tail -40 || true
    echo "--- $ROUTER log"
    tail -20 "$WORK/$RTR_LOG" 2>/dev/null || true
    echo "--- router BFD"
    rtr_bfd_show 2>/dev/null || true
  fi
  net_down
}

route_present() { rtr_attr "$FAMILY" "$ROUTE" present; }
speaker_bfd_up() {
  speaker_metric 'bgpcomm_speaker_bfd_session_state{peer="upstream-router",state="Up"} 1'
}

# start_with_bfd INTERVAL MULTIPLIER [profile key=value...]: the router, then the speaker
# with a BFDProfile "fast" of those timers; returns once BGP and BFD are up.
start_with_bfd() {
  local interval="$1" multiplier="$2"
  shift 2
  rtr_start 64513 64512
  write_bfd_profile "$WORK/objects" fast "$interval" "$multiplier" "$@"
  write_objects "$WORK/objects" bfd_profile=fast connect_time=2s dual_stack=false
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 10 route_present
  wait_for 10 rtr_bfd_up
  wait_for 5 speaker_bfd_up
  if [ "${RTR_BFD_REPLACES_SESSION:-0}" = 1 ]; then
    # The router replaces its BFD session when BGP comes up (frr.bash), and its BGP may
    # reset on its own while the link-local address is new (IPv6): wait until the router's
    # session is the final one and nothing has moved for 3 s.
    wait_for 15 rtr_bfd_settled
    wait_for 30 bfd_quiet
  fi
  # Coming up is no failure of ours: any BGP reset for BFD on the way followed the router's
  # own Down (its session replacement), never our detection timer.
  local downs ours
  downs=$(grep -c 'event=bfd_down' "$WORK/speaker.log" || true)
  ours=$(grep 'event=bfd_down' "$WORK/speaker.log" | grep -vc 'diagnostic="neighbor signaled session down"' || true)
  echo "BGP sessions reset by BFD while coming up: $downs (after a detection timeout: $ours)"
  [ "$ours" = 0 ]
  [ "${RTR_BFD_REPLACES_SESSION:-0}" = 1 ] || [ "$downs" = 0 ]
}

# bfd_quiet: no BFD reset for 3 s, and BGP, the route and BFD at both ends up.
bfd_quiet() {
  local before
  before=$(grep -c 'event=bfd_down' "$WORK/speaker.log" || true)
  sleep 3
  [ "$(grep -c 'event=bfd_down' "$WORK/speaker.log" || true)" = "$before" ] &&
    rtr_established && route_present && rtr_bfd_up && speaker_bfd_up
}

bfd_timeout_is() { [ "$(rtr_bfd_timeout)" = "$1" ]; }

@test "BFD comes Up at the router with the profile's timers, from a source port in 49152-65535" {
  require_cmd curl ss
  # The router's detection time is our detectMultiplier x max(its receive, our transmit).
  start_with_bfd 200 5
  # Once both ends run at the profile's rate (a Poll Sequence after Up).
  wait_for 5 bfd_timeout_is 1.500
  grep -q 'event=bfd_session_state peer=upstream-router from=.* to=Up' "$WORK/speaker.log"
  # RFC 5881 §4: we listen on 3784 and send from one port of the dynamic range.
  run in_spk ss -Huan
  assert_output --regexp ':3784 '
  local ports
  ports=$(in_spk ss -Huan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
  echo "speaker UDP ports: $ports"
  local p in_range=0
  for p in $ports; do
    if ((p >= 49152 && p <= 65535)); then in_range=$((in_range + 1)); fi
  done
  [ "$in_range" -eq 1 ]
}

@test "link cut: BGP goes down at both ends within 3 x 300 ms + 200 ms, 10 runs" {
  start_with_bfd 300 3
  # The session's end at each end, from its log; the route's absence at the router, polled
  # (an upper bound: each poll is a CLI call), well before the 9 s hold timer.
  local bound=$((300 * 3 + 200)) route_bound=3000 runs="${BFD_RUNS:-10}" run_no results=""
  for ((run_no = 1; run_no <= runs; run_no++)); do
    local rtr_ms spk_ms route_ms
    read -r rtr_ms spk_ms route_ms < <(time_cut "$ROUTE" 10000 'event=bfd_down peer=upstream-router')
    echo "run $run_no: the router ended the session after $rtr_ms ms (route gone within" \
      "$route_ms ms), the speaker after $spk_ms ms"
    results+="$run_no $rtr_ms $spk_ms $route_ms"$'\n'
    restore_link
    # Back to where we started: BFD Up at both ends, the route at the router.
    wait_for 20 rtr_bfd_up
    wait_for 20 route_present
    wait_for 10 speaker_bfd_up
  done
  # The speaker logged why it dropped the session.
  grep -q 'event=bfd_down peer=upstream-router diagnostic="control detection time expired" action=bgp_session_reset' \
    "$WORK/speaker.log"
  # Every run within the bounds ("never" is not a number: it fails too).
  echo "$results" | awk -v b="$bound" -v r="$route_bound" '
    NF == 4 && ($2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ || $2 > b || $3 > b || $4 > r) { bad = 1 }
    END { exit bad }'
  speaker_metric "bgpcomm_speaker_bfd_down_total{peer=\"upstream-router\"} $runs"
}

# bfd_packets_at_router: BFD control packets that reached the router's namespace (an nft
# counter that count_bfd_packets adds).
count_bfd_packets() {
  in_rtr nft -f - <<EOF
table inet bgpcomm_count {
  chain input { type filter hook input priority -400; udp dport 3784 counter; }
}
EOF
}
bfd_packets_at_router() {
  in_rtr nft list chain inet bgpcomm_count input | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

@test "passiveMode: the speaker sends nothing until the router's first packet, then comes Up" {
  require_cmd curl nft
  count_bfd_packets
  write_bfd_profile "$WORK/objects" fast 300 3 passive=true
  write_objects "$WORK/objects" bfd_profile=fast connect_time=2s dual_stack=false
  start_speaker "$WORK/objects"
  wait_for 10 grep -q 'event=bfd_session_added peer=upstream-router .*passive=true' "$WORK/speaker.log"
  # An active session sends one Down packet a second from the start (RFC 5880 §6.8.3).
  sleep 3
  run bfd_packets_at_router
  assert_output "0"
  rtr_start 64513 64512
  wait_for 15 rtr_established
  wait_for 15 rtr_bfd_up
  wait_for 5 speaker_bfd_up
  (($(bfd_packets_at_router) > 0))
}

@test "IPv6 session: BFD over IPv6 comes Up at the router and a cut link ends BGP at both ends" {
  require_cmd curl
  SPK_ADDR=$SPK_V6
  RTR_ADDR=$RTR_V6
  ROUTE=2001:db8:1::10/128
  FAMILY=ipv6
  start_with_bfd 300 3
  local rtr spk _
  read -r rtr spk _ < <(time_cut "$ROUTE" 5000 'event=bfd_down peer=upstream-router')
  echo "the router ended the session after $rtr ms, the speaker after $spk ms"
  [[ $rtr =~ ^[0-9]+$ && $spk =~ ^[0-9]+$ ]]
  ((rtr <= 1100 && spk <= 1100))
}

@test "graceful restart with BFD: a killed speaker's routes stay at the router past BFD's detection" {
  # kill -9 stops BFD too, so the router's BFD goes down 0.9 s later. BIRD then ends the
  # session hard unless `bfd graceful` is set (RTR_BFD_GRACEFUL); FRR keeps the routes as it
  # is (our packets say the C bit is clear: BFD shares fate with the control plane).
  RTR_GR=1
  RTR_BFD_GRACEFUL=1
  rtr_start 64513 64512
  write_bfd_profile "$WORK/objects" fast 300 3
  write_many_objects "$WORK/objects" 100 graceful_restart=true bfd_profile=fast
  start_speaker "$WORK/objects" --state-dir "$WORK/state"
  wait_for 30 rtr_established
  wait_for 30 count_is 100
  wait_for 30 rtr_bfd_up
  kill -9 "$SPEAKER_PID"
  wait "$SPEAKER_PID" 2>/dev/null || true
  SPEAKER_PID=""
  wait_for 5 rtr_bfd_not_up
  sleep 1
  run rtr_count4
  assert_output "100"
}

count_is() { [ "$(rtr_count4)" = "$1" ]; }
rtr_bfd_not_up() { ! rtr_bfd_up; }

@test "echoMode is refused by name and BGP runs without BFD" {
  require_cmd curl
  rtr_start 64513 64512
  write_bfd_profile "$WORK/objects" fast 300 3 echo=true
  write_objects "$WORK/objects" bfd_profile=fast dual_stack=false
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 10 route_present
  grep -q 'event=bfd_refused peer=upstream-router error=.*spec.echoMode: the echo function is not implemented' \
    "$WORK/speaker.log"
  run grep -c 'event=bfd_session_added' "$WORK/speaker.log"
  assert_output "0"
  run in_spk curl -sf http://127.0.0.1:7472/metrics
  assert_success
  refute_output --partial 'bgpcomm_speaker_bfd_session_state{'
}
