#!/usr/bin/env bats
# The speaker (objects mode) against a real router (GoBGP) when the router restarts and
# when the link is cut: the session comes back and the router holds the full table
# again, counted route by route. Uses the interop helpers on a link of its own.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# 13 service addresses in the pool 203.0.113.0/28 (one of them write_objects' own
# 203.0.113.10), each with an IPv6 twin: the full table is 13 IPv4 + 13 IPv6 routes.
V4_ROUTES=13
V6_ROUTES=13

setup() {
  source "$BATS_TEST_DIRNAME/../interop/lib.bash"
  source "$BATS_TEST_DIRNAME/../interop/gobgp.bash"
  # Not the interop suite's 198.51.100.0/30 and 2001:db8:ff::/64.
  SPK_V4=198.51.100.17 RTR_V4=198.51.100.18 SPK_V6=2001:db8:fd::1 RTR_V6=2001:db8:fd::2
  SPK_ADDR=$SPK_V4 RTR_ADDR=$RTR_V4
  require_cmd nft
  net_up fault
  write_objects "$WORK/objects" hold_time=3s
  local i
  for i in 1 2 3 4 5 6 7 8 9 11 12 13; do
    cat >>"$WORK/objects/objects.yaml" <<YAML
---
apiVersion: v1
kind: Service
metadata:
  name: web-$i
  namespace: default
spec:
  type: LoadBalancer
status:
  loadBalancer:
    ingress:
      - ip: 203.0.113.$i
      - ip: 2001:db8:1::$i
YAML
  done
  rtr_start 64513 64512
  start_speaker "$WORK/objects"
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    echo "--- speaker log"; tail -40 "$WORK/speaker.log" 2>/dev/null || true
    echo "--- gobgpd log"; tail -20 "$WORK/gobgpd.log" 2>/dev/null || true
  fi
  net_down
}

full_table() {
  [ "$(gobgp_count ipv4)" = "$V4_ROUTES" ] && [ "$(gobgp_count ipv6)" = "$V6_ROUTES" ]
}
not_established() { ! rtr_established; }
# sessions_in STATE: the speaker's bgpcomm_speaker_sessions gauge for STATE.
sessions_in() {
  in_spk curl -sf http://127.0.0.1:7472/metrics |
    awk -v s="bgpcomm_speaker_sessions{state=\"$1\"}" '$1 == s { print $2 }'
}
established_gauge_is() { [ "$(sessions_in Established)" = "$1" ]; }

@test "router restart: the session and the full table come back" {
  wait_for 20 rtr_established
  wait_for 10 full_table
  rtr_stop
  rtr_start 64513 64512
  # The speaker's connect backoff is the only wait; the table is complete again.
  wait_for 60 rtr_established
  wait_for 10 full_table
  run gobgp_count ipv4
  assert_output "$V4_ROUTES"
  run gobgp_count ipv6
  assert_output "$V6_ROUTES"
  wait_for 5 established_gauge_is 1
}

@test "cut link: the hold timer (3 s) expires; restored: reconnect and the full table" {
  wait_for 20 rtr_established
  wait_for 10 full_table
  # Nothing crosses the router's side of the link in either direction.
  in_rtr nft add table inet cut
  in_rtr nft 'add chain inet cut in { type filter hook input priority 0; }'
  in_rtr nft 'add chain inet cut out { type filter hook output priority 0; }'
  in_rtr nft add rule inet cut in iifname veth1 drop
  in_rtr nft add rule inet cut out oifname veth1 drop
  local cut_at=$SECONDS
  wait_for 15 grep -q 'reason="hold timer expired"' "$WORK/speaker.log"
  echo "# hold timer expiry seen after $((SECONDS - cut_at)) s" >&3
  (( SECONDS - cut_at <= 8 ))
  wait_for 10 not_established
  wait_for 5 established_gauge_is 0
  in_rtr nft delete table inet cut
  wait_for 60 rtr_established
  wait_for 10 full_table
  run gobgp_count ipv4
  assert_output "$V4_ROUTES"
  run gobgp_count ipv6
  assert_output "$V6_ROUTES"
  wait_for 5 established_gauge_is 1
}
