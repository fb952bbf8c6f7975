#!/usr/bin/env bats
# bgpcomm-speaker against a real BGP router in network namespaces. ROUTER selects the router:
# gobgp (gobgpd), bird (BIRD 2) or frr (FRR bgpd); each is passive and the speaker connects.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
  : "${ROUTER:?set ROUTER to gobgp, bird or frr}"
  source "$BATS_TEST_DIRNAME/lib.bash"
  source "$BATS_TEST_DIRNAME/$ROUTER.bash"
  net_up "$ROUTER"
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    echo "--- speaker log"
    tail -40 "$WORK/speaker.log" 2>/dev/null || true
    echo "--- $ROUTER log"
    tail -20 "$WORK/$RTR_LOG" 2>/dev/null || true
  fi
  net_down
}

@test "eBGP: IPv4 and IPv6 routes carry exactly the resolved communities" {
  rtr_start 64513 64512
  write_objects "$WORK/objects" extra=no-export local_pref=300
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  wait_for 5 rtr_attr ipv6 2001:db8:1::10/128 present
  local fp
  for fp in "ipv4 203.0.113.10/32" "ipv6 2001:db8:1::10/128"; do
    run rtr_attr $fp communities
    assert_success
    assert_output $'64512:100\n64512:200\n65535:65281'
    run rtr_attr $fp large
    assert_output "64512:1:100"
    run rtr_attr $fp as_path
    assert_output "64512"
    if [ "$RTR_SHOWS_LOCAL_PREF_DEFAULT" = 0 ]; then
      # LOCAL_PREF 300 is set on the advertisement but never sent to an eBGP peer.
      run rtr_attr $fp local_pref
      assert_output ""
    fi
  done
}

@test "iBGP: LOCAL_PREF arrives" {
  rtr_start 64512 64512
  write_objects "$WORK/objects" peer_asn=64512 local_pref=250
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  run rtr_attr ipv4 203.0.113.10/32 local_pref
  assert_output "250"
  run rtr_attr ipv4 203.0.113.10/32 communities
  assert_output $'64512:100\n64512:200'
  run rtr_attr ipv6 2001:db8:1::10/128 local_pref
  assert_output "250"
}

@test "4-octet ASNs on both sides" {
  rtr_start 4200000001 4200000000
  write_objects "$WORK/objects" my_asn=4200000000 peer_asn=4200000001
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  run rtr_attr ipv4 203.0.113.10/32 as_path
  assert_output "4200000000"
}

@test "editing the objects withdraws and re-announces within 1 s" {
  rtr_start 64513 64512
  write_objects "$WORK/objects"
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  write_objects "$WORK/objects" service_ip4=203.0.113.11 service_ip6=
  wait_ms 1000 rtr_lacks ipv4 203.0.113.10/32
  wait_ms 1000 rtr_attr ipv4 203.0.113.11/32 present
  wait_ms 1000 rtr_lacks ipv6 2001:db8:1::10/128
  write_objects "$WORK/objects" extra=64512:777
  wait_ms 1000 rtr_attr ipv4 203.0.113.10/32 present
  wait_ms 1000 rtr_lacks ipv4 203.0.113.11/32
  run rtr_attr ipv4 203.0.113.10/32 communities
  assert_output $'64512:100\n64512:200\n64512:777'
}

@test "router restart brings the session and routes back" {
  rtr_start 64513 64512
  write_objects "$WORK/objects"
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  rtr_stop
  rtr_start 64513 64512
  wait_for 30 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  wait_for 5 rtr_attr ipv6 2001:db8:1::10/128 present
}

# Segments the router's kernel dropped because their TCP MD5 signature did not match.
md5_rejected() {
  local n
  n=$(in_rtr nstat -asz TcpExtTCPMD5Failure | awk '$1 == "TcpExtTCPMD5Failure" { print $2 }')
  (( ${n:-0} > 0 ))
}

unanswered_metric() {
  in_spk curl -sf http://127.0.0.1:7472/metrics |
    grep -E '^bgpcomm_speaker_connect_unanswered_total\{peer="upstream-router"\} [1-9]'
}

@test "TCP MD5: up with the right password, not with a wrong one; never logged" {
  require_cmd curl
  rtr_start 64513 64512 's3cret-pass'
  write_objects "$WORK/objects" password=wrong-pass connect_time=2s
  start_speaker "$WORK/objects"
  # The speaker did try: the router's kernel dropped its segments for a wrong MD5 signature,
  # so "not established" below is the verdict, not a slow start.
  wait_for 30 md5_rejected
  run rtr_established
  assert_failure
  # Each attempt is given up after connectTime (2 s), reported with the password hint.
  wait_for 30 grep -q 'event=connect_unanswered peer=upstream-router .*md5=on hint=".*TCP MD5 password' "$WORK/speaker.log"
  wait_for 10 unanswered_metric
  write_objects "$WORK/objects" password=s3cret-pass connect_time=2s
  wait_for 30 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  run grep -c 's3cret-pass\|wrong-pass' "$WORK/speaker.log"
  assert_output "0"
}

@test "a route with 200 communities arrives intact" {
  rtr_start 64513 64512
  local extra="" i expected
  for ((i = 1000; i < 1198; i++)); do extra+="64512:$i,"; done
  write_objects "$WORK/objects" extra="$extra"
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  run rtr_attr ipv4 203.0.113.10/32 communities
  expected=$(printf '64512:%d\n' 100 200 $(seq 1000 1197))
  assert_output "$expected"
  [ "$(echo "$output" | wc -l)" -eq 200 ]
}

@test "metrics, health probes and a refused advertisement" {
  require_cmd curl
  rtr_start 64513 64512
  write_objects "$WORK/objects"
  cat >>"$WORK/objects/objects.yaml" <<'YAML'
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: typo-advert
  namespace: metallb-system
spec:
  communities:
    - primary-rout
YAML
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  run in_spk curl -sf http://127.0.0.1:7473/healthz
  assert_output "ok"
  run in_spk curl -sf http://127.0.0.1:7473/readyz
  assert_output "ok"
  run in_spk curl -sf http://127.0.0.1:7472/metrics
  assert_success
  assert_line 'bgpcomm_speaker_sessions{state="Established"} 1'
  assert_line 'bgpcomm_speaker_prefixes_announced{peer="upstream-router"} 2'
  assert_line 'bgpcomm_speaker_advertisements_refused{reason="unresolved"} 1'
  assert_line --regexp '^bgpcomm_speaker_updates_sent_total\{peer="upstream-router"\} [1-9]'
  # The refused advertisement announces nothing: its alias does not resolve.
  run rtr_attr ipv4 203.0.113.10/32 communities
  assert_output $'64512:100\n64512:200'
  run grep -cF 'event=advertisement_refused namespace=metallb-system name=typo-advert reason="unresolved entries: \"primary-rout\""' "$WORK/speaker.log"
  assert_output "1"
}

@test "IPv6 session on a shared link: the link-local next hop beside the global one" {
  SPK_ADDR=$SPK_V6
  RTR_ADDR=$RTR_V6
  rtr_start 64513 64512
  write_objects "$WORK/objects" dual_stack=false
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv6 2001:db8:1::10/128 present
  if [ "$RTR_SHOWS_LINK_LOCAL" = 1 ]; then
    local ll
    ll=$(in_spk ip -6 -o addr show dev veth0 scope link | awk '{ print $4 }' | cut -d/ -f1)
    [ -n "$ll" ]
    run rtr_attr ipv6 2001:db8:1::10/128 next_hops
    assert_line "$SPK_V6"
    assert_line "$ll"
  fi
}

@test "dynamicASN external: any AS but ours is accepted from the OPEN" {
  rtr_start 64513 64512
  write_objects "$WORK/objects" dynamic_asn=external
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  run rtr_attr ipv4 203.0.113.10/32 as_path
  assert_output "64512"
}

@test "IPv6 session: a peer at an IPv6 address gets the IPv6 routes only" {
  SPK_ADDR=$SPK_V6
  RTR_ADDR=$RTR_V6
  rtr_start 64513 64512
  write_objects "$WORK/objects" dual_stack=false
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv6 2001:db8:1::10/128 present
  run rtr_attr ipv6 2001:db8:1::10/128 communities
  assert_output $'64512:100\n64512:200'
  run rtr_attr ipv6 2001:db8:1::10/128 large
  assert_output "64512:1:100"
  run rtr_lacks ipv4 203.0.113.10/32
  assert_success
}

# MetalLB 0.16's fields as the router sees them (issue 15: the speaker honours them).

# announced N: the speaker reports exactly N prefixes announced to the router.
announced() {
  in_spk curl -sf http://127.0.0.1:7472/metrics |
    grep -qxF "bgpcomm_speaker_prefixes_announced{peer=\"upstream-router\"} $1"
}

# as_path_is FAMILY PREFIX PATH: the router's best path for PREFIX has exactly that AS path.
as_path_is() { [ "$(rtr_attr "$1" "$2" as_path)" = "$3" ]; }

@test "asPathPrepend: the router sees our ASN that many more times, and an edit re-announces" {
  rtr_start 64513 64512
  write_objects "$WORK/objects" prepend=3
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  wait_for 5 rtr_attr ipv6 2001:db8:1::10/128 present
  run rtr_attr ipv4 203.0.113.10/32 as_path
  assert_output "64512 64512 64512 64512"
  run rtr_attr ipv6 2001:db8:1::10/128 as_path
  assert_output "64512 64512 64512 64512"
  write_objects "$WORK/objects" prepend=1
  wait_ms 1000 as_path_is ipv4 203.0.113.10/32 "64512 64512"
  wait_ms 1000 as_path_is ipv6 2001:db8:1::10/128 "64512 64512"
  run rtr_attr ipv4 203.0.113.10/32 communities
  assert_output $'64512:100\n64512:200'
}

@test "localASN: the session speaks as that AS; the path carries it, not myASN" {
  # The router expects AS 64600 from us: with myASN 64512 alone it would refuse the OPEN.
  rtr_start 64513 64600
  write_objects "$WORK/objects" local_asn=64600
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  run rtr_attr ipv4 203.0.113.10/32 as_path
  assert_output "64600"
  run rtr_attr ipv6 2001:db8:1::10/128 as_path
  assert_output "64600"
}

@test "dynamicASN internal: an iBGP session in our own AS, LOCAL_PREF arrives" {
  rtr_start 64512 64512
  write_objects "$WORK/objects" dynamic_asn=internal local_pref=250
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  # LOCAL_PREF travels on iBGP sessions only.
  run rtr_attr ipv4 203.0.113.10/32 local_pref
  assert_output "250"
}

@test "disableMP: a dual-stack peer on an IPv4 session gets IPv4 only" {
  require_cmd curl
  rtr_start 64513 64512
  write_objects "$WORK/objects" disable_mp=true
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  # The speaker announced one prefix (the same objects without disableMP announce two: the
  # metrics case above), and the router holds the IPv4 one only.
  wait_for 5 announced 1
  run rtr_lacks ipv6 2001:db8:1::10/128
  assert_success
  run rtr_attr ipv4 203.0.113.10/32 communities
  assert_output $'64512:100\n64512:200'
}

@test "serviceSelectors: only the Services they match are announced; a relabel announces" {
  require_cmd curl
  rtr_start 64513 64512
  write_objects "$WORK/objects" selector_app=web other_ip4=203.0.113.11 other_app=other
  start_speaker "$WORK/objects"
  wait_for 15 rtr_established
  wait_for 5 rtr_attr ipv4 203.0.113.10/32 present
  # web's two prefixes, not other's.
  wait_for 5 announced 2
  run rtr_lacks ipv4 203.0.113.11/32
  assert_success
  write_objects "$WORK/objects" selector_app=web other_ip4=203.0.113.11 other_app=web
  wait_ms 1000 rtr_attr ipv4 203.0.113.11/32 present
  run rtr_attr ipv4 203.0.113.11/32 communities
  assert_output $'64512:100\n64512:200'
  wait_for 5 announced 3
}
