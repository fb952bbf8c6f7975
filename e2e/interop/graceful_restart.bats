#!/usr/bin/env bats
# Graceful Restart (RFC 4724) with bgpcomm-speaker as the restarting speaker and a real
# router (ROUTER: gobgp, bird or frr) as the helper, in network namespaces, and a second
# router downstream of the helper (BIRD 2, eBGP, in a third namespace: downstream_up) that
# learns the speaker's routes through it. The router holds 10,000 routes from the speaker; a
# monitor samples its table and the downstream's every 100 ms through the whole restart and
# records the smallest counts seen; the downstream also counts every withdrawal it receives.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROUTES=10000

setup() {
  : "${ROUTER:?set ROUTER to gobgp, bird or frr}"
  source "$BATS_TEST_DIRNAME/lib.bash"
  source "$BATS_TEST_DIRNAME/$ROUTER.bash"
  RTR_GR=1
  net_up "gr-$ROUTER"
  downstream_up
  STATE_DIR="$WORK/state"
}

teardown() {
  [ -n "${MONITOR_PID:-}" ] && kill "$MONITOR_PID" 2>/dev/null || true
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    echo "--- speaker log"
    grep -v 'event=updates_sent' "$WORK/speaker.log" 2>/dev/null | tail -40 || true
    echo "--- $ROUTER log"
    tail -20 "$WORK/$RTR_LOG" 2>/dev/null || true
    echo "--- downstream"
    dn_birdc show protocols all up 2>/dev/null | tail -12 || true
    echo "--- counts (time router downstream)"
    tail -20 "$WORK/counts" 2>/dev/null || true
  fi
  net_down
}

count_is() { [ "$(rtr_count4)" = "$1" ]; }

dn_count_is() { [ "$(dn_count)" = "$1" ]; }

# routers_hold COUNT: the router holds COUNT routes from the speaker, and the downstream,
# Established with it, all of them too.
routers_hold() {
  wait_for 60 count_is "$1"
  wait_for 30 dn_established
  wait_for 60 dn_count_is "$1"
}

# monitor: samples rtr_count4 and dn_count into $WORK/counts until killed.
start_monitor() {
  : >"$WORK/counts"
  (
    while :; do
      echo "$(date +%s%N) $(rtr_count4 2>/dev/null) $(dn_count 2>/dev/null)" >>"$WORK/counts"
      sleep 0.1
    done
  ) &
  MONITOR_PID=$!
}

stop_monitor() {
  kill "$MONITOR_PID" 2>/dev/null || true
  wait "$MONITOR_PID" 2>/dev/null || true
  MONITOR_PID=""
}

# min_count [COLUMN]: the smallest count sampled, of the router (2, the default) or the
# downstream (3); a failed query, an empty answer, counts as 0.
min_count() {
  awk -v c="${1:-2}" '{ n = ($c == "" ? 0 : $c); if (min == "" || n < min) min = n } END { print min }' "$WORK/counts"
}

established_count() { grep -c 'event=established peer=upstream-router .*graceful_restart=true' "$WORK/speaker.log"; }
established_twice() { (( $(established_count) >= 2 )); }
not_stale() { ! rtr_stale "$1"; }

@test "kill -9 and restart: neither the router nor its downstream withdraws one of 10,000 routes; End-of-RIB clears stale" {
  rtr_start 64513 64512
  start_downstream 64513
  write_many_objects "$WORK/objects" "$ROUTES" graceful_restart=true
  start_speaker "$WORK/objects" --state-dir "$STATE_DIR" --graceful-restart-time 120
  wait_for 30 rtr_established
  # The positive path is live: the downstream has learnt every route through the router.
  routers_hold "$ROUTES"
  [ "$(established_count)" -eq 1 ]
  run dn_withdraws
  assert_success
  assert_output 0
  start_monitor
  kill -9 "$SPEAKER_PID"
  wait "$SPEAKER_PID" 2>/dev/null || true
  SPEAKER_PID=""
  # The helper keeps them, stale, while nobody speaks for them.
  wait_for 20 rtr_stale 198.18.0.1/32
  start_speaker "$WORK/objects" --state-dir "$STATE_DIR" --graceful-restart-time 120
  wait_for 60 grep -q 'event=state_marker .*restarted=true' "$WORK/speaker.log"
  wait_for 60 established_twice
  # End-of-RIB (sent after the table) clears the stale marks.
  wait_for 60 not_stale 198.18.0.1/32
  sleep 1  # a few more samples after the restart
  stop_monitor
  run min_count 2
  assert_output "$ROUTES"
  run min_count 3
  assert_output "$ROUTES"
  [ "$(wc -l <"$WORK/counts")" -ge 3 ]  # the monitor did sample through the restart
  # Not one withdrawal reached the downstream (its counter, not only its samples), and it
  # still holds every route.
  run dn_withdraws
  assert_success
  assert_output 0
  run dn_count
  assert_output "$ROUTES"
}

@test "a speaker that stays down loses its routes when the restart time ends, downstream too" {
  rtr_start 64513 64512
  start_downstream 64513
  write_many_objects "$WORK/objects" 100 graceful_restart=true
  start_speaker "$WORK/objects" --state-dir "$STATE_DIR" --graceful-restart-time 5
  wait_for 30 rtr_established
  routers_hold 100
  kill -9 "$SPEAKER_PID"
  wait "$SPEAKER_PID" 2>/dev/null || true
  SPEAKER_PID=""
  local start end
  start=$(date +%s)
  wait_for 20 rtr_stale 198.18.0.1/32
  count_is 100
  dn_count_is 100
  [ "$(dn_withdraws)" = 0 ]
  wait_for 60 count_is 0
  wait_for 30 dn_count_is 0
  end=$(date +%s)
  # Not before the restart time (5 s) less the sampling slack.
  (( end - start >= 4 ))
  # The downstream heard each withdrawal.
  (( $(dn_withdraws) >= 100 ))
}

@test "without graceful restart the same kill -9 withdraws the routes, downstream too (baseline)" {
  rtr_start 64513 64512
  start_downstream 64513
  write_many_objects "$WORK/objects" 100 graceful_restart=false
  start_speaker "$WORK/objects" --state-dir "$STATE_DIR"
  wait_for 30 rtr_established
  routers_hold 100
  kill -9 "$SPEAKER_PID"
  wait "$SPEAKER_PID" 2>/dev/null || true
  SPEAKER_PID=""
  wait_for 30 count_is 0
  wait_for 30 dn_count_is 0
  # The counter the restart test reads does count withdrawals.
  (( $(dn_withdraws) >= 100 ))
}
