#!/usr/bin/env bats
# bgpcomm-speaker against GoBGP (gobgpd, passive) in network namespaces.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
  source "$BATS_TEST_DIRNAME/lib.bash"
  source "$BATS_TEST_DIRNAME/gobgp.bash"
  net_up gobgp
}

teardown() {
  if [ -n "${BATS_TEST_COMPLETED:-}" ]; then :; else
    echo "--- speaker log"; tail -40 "$WORK/speaker.log" 2>/dev/null
    echo "--- gobgpd log"; tail -20 "$WORK/gobgpd.log" 2>/dev/null
  fi
  net_down
}

@test "gobgp: eBGP IPv4 and IPv6 routes carry exactly the resolved communities, no LOCAL_PREF" {
  start_gobgp 64513 64512
  write_objects "$WORK/objects" extra=no-export local_pref=300
  start_speaker "$WORK/objects"
  wait_for 15 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  wait_for 5 gobgp_has_route ipv6 2001:db8:1::10/128
  for family_prefix in "ipv4 203.0.113.10/32" "ipv6 2001:db8:1::10/128"; do
    run gobgp_attr $family_prefix communities
    assert_success
    assert_output $'64512:100\n64512:200\n65535:65281'
    run gobgp_attr $family_prefix large
    assert_output "64512:1:100"
    run gobgp_attr $family_prefix local_pref
    assert_output ""
  done
}

@test "gobgp: iBGP carries LOCAL_PREF" {
  start_gobgp 64512 64512
  write_objects "$WORK/objects" peer_asn=64512 local_pref=250
  start_speaker "$WORK/objects"
  wait_for 15 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  run gobgp_attr ipv4 203.0.113.10/32 local_pref
  assert_output "250"
  run gobgp_attr ipv4 203.0.113.10/32 communities
  assert_output $'64512:100\n64512:200'
}

@test "gobgp: 4-octet ASNs on both sides" {
  start_gobgp 4200000001 4200000000
  write_objects "$WORK/objects" my_asn=4200000000 peer_asn=4200000001
  start_speaker "$WORK/objects"
  wait_for 15 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  run gobgp_cli global rib -a ipv4 203.0.113.10/32
  assert_output --partial "4200000000"
}

@test "gobgp: editing the objects withdraws and re-announces within 1 s" {
  start_gobgp 64513 64512
  write_objects "$WORK/objects"
  start_speaker "$WORK/objects"
  wait_for 15 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  write_objects "$WORK/objects" service_ip4=203.0.113.11 service_ip6=
  wait_ms 1000 gobgp_lacks_route ipv4 203.0.113.10/32
  wait_ms 1000 gobgp_has_route ipv4 203.0.113.11/32
  wait_ms 1000 gobgp_lacks_route ipv6 2001:db8:1::10/128
  write_objects "$WORK/objects" extra=64512:777
  wait_ms 1000 gobgp_has_route ipv4 203.0.113.10/32
  run gobgp_attr ipv4 203.0.113.10/32 communities
  assert_output $'64512:100\n64512:200\n64512:777'
}

@test "gobgp: router restart brings the session and routes back" {
  start_gobgp 64513 64512
  write_objects "$WORK/objects"
  start_speaker "$WORK/objects"
  wait_for 15 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  stop_gobgp
  start_gobgp 64513 64512
  wait_for 20 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  wait_for 5 gobgp_has_route ipv6 2001:db8:1::10/128
}

@test "gobgp: TCP MD5 comes up with the right password and not with a wrong one" {
  start_gobgp 64513 64512 's3cret-pass'
  write_objects "$WORK/objects" password=wrong-pass
  start_speaker "$WORK/objects"
  sleep 4
  run gobgp_established
  assert_failure
  write_objects "$WORK/objects" password=s3cret-pass
  wait_for 20 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  run grep -c 's3cret-pass\|wrong-pass' "$WORK/speaker.log"
  assert_output "0"
}

@test "gobgp: a route with 200 communities arrives intact" {
  start_gobgp 64513 64512
  local extra="" i expected=""
  for ((i = 1000; i < 1198; i++)); do extra+="64512:$i,"; done
  write_objects "$WORK/objects" extra="$extra"
  start_speaker "$WORK/objects"
  wait_for 15 gobgp_established
  wait_for 5 gobgp_has_route ipv4 203.0.113.10/32
  run gobgp_attr ipv4 203.0.113.10/32 communities
  expected=$(printf '64512:%d\n' 100 200 $(seq 1000 1197))
  assert_output "$expected"
  [ "$(echo "$output" | wc -l)" -eq 200 ]
}
