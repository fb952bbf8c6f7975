#!/usr/bin/env bats
# Graceful Restart (RFC 4724) with bgpcomm-speaker as the restarting speaker and a real
# router (ROUTER: gobgp, bird or frr) as the helper, in network namespaces. The router holds
# 10,000 routes from the speaker; a monitor samples its table every 100 ms through the whole
# restart and records the smallest count it saw.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROUTES=10000

setup() {
  : "${ROUTER:?set ROUTER to gobgp, bird or frr}"
  source "$BATS_TEST_DIRNAME/lib.bash"
  source "$BATS_TEST_DIRNAME/$ROUTER.bash"
  RTR_GR=1
  net_up "gr-$ROUTER"
  STATE_DIR="$WORK/state"
}

teardown() {
  [ -n "${MONITOR_PID:-}" ] && kill "$MONITOR_PID" 2>/dev/null || true
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    echo "--- speaker log"
    grep -v 'event=updates_sent' "$WORK/speaker.log" 2>/dev/null | tail -40 || true
    echo "--- $ROUTER log"
    tail -20 "$WORK/$RTR_LOG" 2>/dev/null || true
    echo "--- counts"
    tail -20 "$WORK/counts" 2>/dev/null || true
  fi
  net_down
}

count_is() { [ "$(rtr_count4)" = "$1" ]; }

# monitor: samples rtr_count4 into $WORK/counts until killed.
start_monitor() {
  : >"$WORK/counts"
  (
    while :; do
      echo "$(date +%s%N) $(rtr_count4 2>/dev/null)" >>"$WORK/counts"
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

# The smallest count sampled (a failed query, an empty answer, counts as 0).
min_count() { awk '{ n = ($2 == "" ? 0 : $2); if (min == "" || n < min) min = n } END { print min }' "$WORK/counts"; }

established_count() { grep -c 'event=established peer=upstream-router .*graceful_restart=true' "$WORK/speaker.log"; }
established_twice() { (( $(established_count) >= 2 )); }
not_stale() { ! rtr_stale "$1"; }

@test "kill -9 and restart: the router withdraws none of 10,000 routes; End-of-RIB clears stale" {
  rtr_start 64513 64512
  write_many_objects "$WORK/objects" "$ROUTES" graceful_restart=true
  start_speaker "$WORK/objects" --state-dir "$STATE_DIR" --graceful-restart-time 120
  wait_for 30 rtr_established
  wait_for 60 count_is "$ROUTES"
  [ "$(established_count)" -eq 1 ]
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
  run min_count
  assert_output "$ROUTES"
  [ "$(wc -l <"$WORK/counts")" -ge 3 ]  # the monitor did sample through the restart
}

@test "a speaker that stays down loses its routes when the restart time ends" {
  rtr_start 64513 64512
  write_many_objects "$WORK/objects" 100 graceful_restart=true
  start_speaker "$WORK/objects" --state-dir "$STATE_DIR" --graceful-restart-time 5
  wait_for 30 rtr_established
  wait_for 30 count_is 100
  kill -9 "$SPEAKER_PID"
  wait "$SPEAKER_PID" 2>/dev/null || true
  SPEAKER_PID=""
  local start end
  start=$(date +%s)
  wait_for 20 rtr_stale 198.18.0.1/32
  count_is 100
  wait_for 60 count_is 0
  end=$(date +%s)
  # Not before the restart time (5 s) less the sampling slack.
  (( end - start >= 4 ))
}

@test "without graceful restart the same kill -9 withdraws the routes (baseline)" {
  rtr_start 64513 64512
  write_many_objects "$WORK/objects" 100 graceful_restart=false
  start_speaker "$WORK/objects" --state-dir "$STATE_DIR"
  wait_for 30 rtr_established
  wait_for 30 count_is 100
  kill -9 "$SPEAKER_PID"
  wait "$SPEAKER_PID" 2>/dev/null || true
  SPEAKER_PID=""
  wait_for 30 count_is 0
}
