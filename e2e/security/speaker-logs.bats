#!/usr/bin/env bats
# No BGP password ever reaches the speaker's log or its metrics, at its most verbose
# level (trace): the speaker (objects mode) peers with GoBGP over TCP MD5, is given a
# wrong password and then the right one again, its routes change, and it is stopped.
# Uses the interop helpers (e2e/interop/lib.bash, gobgp.bash) on a link of its own.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

PASSWORD=md5-S3cret-kq27
WRONG=md5-Wr0ng-pw93

setup() {
  source "$BATS_TEST_DIRNAME/../interop/lib.bash"
  source "$BATS_TEST_DIRNAME/../interop/gobgp.bash"
  # Not the interop suite's 198.51.100.0/30 and 2001:db8:ff::/64.
  SPK_V4=198.51.100.17 RTR_V4=198.51.100.18 SPK_V6=2001:db8:fd::1 RTR_V6=2001:db8:fd::2
  SPK_ADDR=$SPK_V4 RTR_ADDR=$RTR_V4
  SPEAKER_LOG_LEVEL=trace
  net_up seclog
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    echo "--- speaker log"; tail -30 "$WORK/speaker.log" 2>/dev/null || true
  fi
  net_down
}

not_established() { ! rtr_established; }

@test "the speaker logs no BGP password, at trace level, through session changes" {
  rtr_start 64513 64512 "$PASSWORD"
  write_objects "$WORK/objects" password="$PASSWORD"
  start_speaker "$WORK/objects"
  wait_for 20 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  # The wrong password: the session drops and cannot come back.
  write_objects "$WORK/objects" password="$WRONG"
  wait_for 20 not_established
  # The right one again, with another service address.
  write_objects "$WORK/objects" password="$PASSWORD" service_ip4=203.0.113.11
  wait_for 30 rtr_established
  wait_for 10 rtr_attr ipv4 203.0.113.11/32 present
  in_spk curl -sf http://127.0.0.1:7472/metrics >"$WORK/metrics"
  # Its most verbose level (the speaker has no debug or trace events today; any added
  # later are covered).
  tr '\0' ' ' <"/proc/$SPEAKER_PID/cmdline" | grep -q -- '--log-level trace'
  stop_speaker
  # The log saw the whole story: up, down on the wrong password, up again, shutdown.
  grep -q 'event=connection_lost\|event=close' "$WORK/speaker.log"
  grep -q 'event=shutdown' "$WORK/speaker.log"
  run grep -c 'event=established' "$WORK/speaker.log"
  (( output >= 2 ))
  run grep -c -F -e "$PASSWORD" -e "$WRONG" "$WORK/speaker.log"
  assert_output 0
  run grep -c -F -e "$PASSWORD" -e "$WRONG" "$WORK/metrics"
  assert_output 0
}
