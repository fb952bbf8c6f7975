#!/usr/bin/env bats
# bgpcomm-speaker in Kubernetes mode with real BIRD 2 routers, on either provider:
#   local  the speaker is a process in the host namespace running as the Node
#          e2e-node-a (a ServiceAccount token with the chart's RBAC); routers a and b run
#          in network namespaces of their own behind veth pairs (provider/local.bash)
#   kind   the chart's speaker pod on the first worker node; routers a and b are the BIRD
#          container of e2e/kind/router.sh, which peers with every node (the checks read
#          the sessions of the watched node only)
# Router a is AS 64513, router b AS 64514 with TCP MD5 (the password the BGPPeer's
# passwordSecret holds); the speaker is AS 64512.
# "Within 1 s" is measured from the moment kubectl returns to the moment BIRD shows the change.

load helpers

NODE=$(provider_speaker_node)
RTR_A=$PROVIDER_ROUTER_A
RTR_B=$PROVIDER_ROUTER_B
MD5_B=e2e-md5-b-9f3c
IP4=203.0.113.10
IP6=2001:db8:1::10

# BIRD's view, parsed by the interop suite's bird_attr (communities one per line, large
# communities as A:B:C); its birdc_ is pointed at our routers, limited to the session of
# the watched node.
source "$E2E_REPO/e2e/interop/bird.bash"
ROUTER=a
birdc_() { provider_birdc "$ROUTER" "$@"; }
# attr ROUTER FAMILY PREFIX WHAT
attr() {
  local ROUTER=$1 BIRD_TABLE4 BIRD_TABLE6 BIRD_PROTOCOL; shift
  read -r BIRD_TABLE4 BIRD_TABLE6 <<<"$(provider_bird_tables "$ROUTER")"
  BIRD_PROTOCOL=$(provider_bird_protocol "$ROUTER")
  bird_attr "$@"
}
has_route() { attr "$1" "$2" "$3" present; }
lacks_route() { ! attr "$1" "$2" "$3" present; }
# communities_are ROUTER FAMILY PREFIX "A:B A:B..." (standard ones, in order)
communities_are() {
  local got
  got=$(attr "$1" "$2" "$3" communities) || return 1
  [[ $(echo $got) == "$4" ]]
}
established() {
  provider_birdc "$1" show protocols "$(provider_bird_protocol "$1")" | grep -q Established
}
session_down() { ! established "$1"; }

metric() {  # metric 'name{labels}' -> value (empty when absent)
  provider_speaker_metrics | awk -v m="$1" '$1 == m { print $2 }'
}
speaker_log_has() { provider_speaker_log | grep -- "$1" >/dev/null; }
speaker_log_count() { provider_speaker_log | grep -c -- "$1"; }

# Applies the walkthrough (BGPPeer pointed at router a); the allocator gives the Service
# the address it asks for ($IP4).
apply_walkthrough() {
  local f
  for f in "$E2E_WALKTHROUGH"/0*.yaml; do
    sed "s/peerAddress: 198.51.100.2\$/peerAddress: $RTR_A/" "$f" | k apply -f - >/dev/null
  done
  wait_ingress web "$IP4"
}

# Nothing here writes a Service's status: the allocator (the webhook's leader) does.
# ingress_of SERVICE: the addresses in its status, comma separated.
ingress_of() {
  k get service "$1" -n default \
    -o jsonpath='{range .status.loadBalancer.ingress[*]}{.ip}{","}{end}' | sed 's/,$//'
}
# wait_ingress SERVICE "IP[,IP]" [MS]: the status holds exactly these ("" none) within MS
# (default 15 s).
ingress_is() { [[ $(ingress_of "$1") == "$2" ]]; }
wait_ingress() {
  eventually_ms "${3:-15000}" ingress_is "$1" "$2" ||
    fail "$1: want ingress '$2', status holds '$(ingress_of "$1")'"
}
# request_address SERVICE "IP[,IP]" [MS]: asks the allocator for these addresses
# (metallb.io/loadBalancerIPs) and waits until the status holds them.
request_address() {
  k annotate service "$1" -n default --overwrite "metallb.io/loadBalancerIPs=$2" >/dev/null
  wait_ingress "$@"
}

within_1s() { eventually_ms 1000 "$@" || fail "not within 1 s: $*"; }

# A Warning Event of REASON about object NAME (a BGPAdvertisement, a BGPPeer): its message.
event_message() {
  k get events -n "$NS" --field-selector "involvedObject.name=$1,reason=$2" \
    -o jsonpath='{.items[*].message}'
}
has_event() { [[ -n $(event_message "$1" "$2") ]]; }
# True once an Event (name, reason) of the speaker on node $3 has been recorded: on a
# cluster of several nodes each speaker records its own, not all at once.
has_event_from_node() { [[ $(event_message "$1" "$2") == *"from node $3:"* ]]; }

# save_webhook, unregister_webhook, restore_webhook.
source "$E2E_REPO/e2e/suites/lib/webhook-registration.bash"

reset_objects() {
  clean_ns "$NS"
  k delete service -n default -l bgpcomm-e2e=speaker --ignore-not-found >/dev/null
  k delete service web -n default --ignore-not-found >/dev/null
  k delete endpointslice -n default -l bgpcomm-e2e=speaker --ignore-not-found >/dev/null
  k label node "$NODE" bgpcomm-e2e/zone- >/dev/null 2>&1 || true
  k delete secret bgp-auth-b -n "$NS" --ignore-not-found >/dev/null
}

setup_file() {
  require_cluster
  save_webhook
  reset_objects
  provider_speaker_setup "$MD5_B"
}

teardown_file() {
  restore_webhook || true
  reset_objects || true
  provider_speaker_teardown || true
}

setup() {
  reset_objects
  # Nothing announced from an earlier test.
  eventually_ms 3000 lacks_route a ipv4 "$IP4/32"
}

teardown() {
  # A failed apiserver-restart test must not leave the apiserver stopped.
  k get --raw /readyz >/dev/null 2>&1 || provider_apiserver_start
  if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
    echo "--- speaker log (tail)"
    provider_speaker_log | tail -n 40 || true
    echo "--- router a"
    provider_birdc a show route all || true
    echo "--- webhook log: leadership and resolver (tail)"
    provider_webhook_log | grep -E 'leading|resolve|watch|reflector' | tail -n 30 || true
  fi
  restore_webhook
}

# resolution_is NAME JSON: the stored annotation of advertisement NAME is exactly JSON.
resolution_is() { [[ $(resolution_of "$1") == "$2" ]]; }

@test "walkthrough: the router holds 203.0.113.10/32 with both advertisements' communities" {
  apply_walkthrough
  eventually_ms 15000 has_route a ipv4 "$IP4/32" || fail "no route (session: $(established a && echo up || echo down))"
  run attr a ipv4 "$IP4/32" communities
  assert_output $'64512:100\n64512:200'
  run attr a ipv4 "$IP4/32" large
  assert_output "64512:1:100"
  run attr a ipv4 "$IP4/32" as_path
  assert_output "64512"
  # Router b has no BGPPeer: nothing reaches it.
  run lacks_route b ipv4 "$IP4/32"
  assert_success
  run metric 'bgpcomm_speaker_sessions{state="Established"}'
  assert_output 1
  run metric 'bgpcomm_speaker_prefixes_announced{peer="upstream-router"}'
  assert_output 1
  [[ $(metric 'bgpcomm_speaker_updates_sent_total{peer="upstream-router"}') -ge 1 ]]
}

@test "an alias value changed through the resolver reaches the router within 1 s" {
  apply_walkthrough
  eventually_ms 15000 communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  k patch community my-communities -n "$NS" --type=json \
    -p '[{"op":"replace","path":"/spec/communities/0/value","value":"64512:101"}]' >/dev/null
  within_1s communities_are a ipv4 "$IP4/32" "64512:101 64512:200"
  run resolution_of primary-advert
  assert_output '{"from":["primary-route","region-us-east"],"communities":["64512:101","large:64512:1:100"]}'
}

@test "deleting backup-advert removes 64512:200 within 1 s" {
  apply_walkthrough
  eventually_ms 15000 communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  k delete bgpadvertisement backup-advert -n "$NS" >/dev/null
  within_1s communities_are a ipv4 "$IP4/32" "64512:100"
  run attr a ipv4 "$IP4/32" large
  assert_output "64512:1:100"
}

@test "a Service losing and gaining an address withdraws and announces within 1 s" {
  apply_walkthrough
  eventually_ms 15000 has_route a ipv4 "$IP4/32"
  # No longer a LoadBalancer: the allocator clears its status.
  k patch service web -n default --type=merge -p '{"spec":{"type":"ClusterIP"}}' >/dev/null
  wait_ingress web ""
  within_1s lacks_route a ipv4 "$IP4/32"
  k patch service web -n default --type=merge -p \
    '{"metadata":{"annotations":{"metallb.io/loadBalancerIPs":"203.0.113.11"}},"spec":{"type":"LoadBalancer"}}' \
    >/dev/null
  wait_ingress web 203.0.113.11
  within_1s has_route a ipv4 203.0.113.11/32
  run lacks_route a ipv4 "$IP4/32"
  assert_success
}

@test "an advertisement's nodeSelectors and the node's labels decide within 1 s" {
  apply_walkthrough
  eventually_ms 15000 has_route a ipv4 "$IP4/32"
  local a
  for a in primary-advert backup-advert; do
    k patch bgpadvertisement "$a" -n "$NS" --type=merge \
      -p '{"spec":{"nodeSelectors":[{"matchLabels":{"bgpcomm-e2e/zone":"east"}}]}}' >/dev/null
  done
  within_1s lacks_route a ipv4 "$IP4/32"
  k label node "$NODE" bgpcomm-e2e/zone=east >/dev/null
  within_1s communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  k label node "$NODE" bgpcomm-e2e/zone=west --overwrite >/dev/null
  within_1s lacks_route a ipv4 "$IP4/32"
}

@test "a BGPPeer whose nodeSelectors exclude the node withdraws its routes" {
  apply_walkthrough
  eventually_ms 15000 has_route a ipv4 "$IP4/32"
  k patch bgppeer upstream-router -n "$NS" --type=merge \
    -p '{"spec":{"nodeSelectors":[{"matchLabels":{"bgpcomm-e2e/zone":"east"}}]}}' >/dev/null
  within_1s lacks_route a ipv4 "$IP4/32"
  eventually_ms 2000 session_down a || fail "the session to router a is still up"
}

@test "externalTrafficPolicy Local follows a ready endpoint on this node within 1 s" {
  local f
  for f in "$E2E_WALKTHROUGH"/0[1-5]*.yaml; do
    sed "s/peerAddress: 198.51.100.2\$/peerAddress: $RTR_A/" "$f" | k apply -f - >/dev/null
  done
  local_service() {  # local_service NAME ADDRESS
    k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $1
  namespace: default
  labels: {bgpcomm-e2e: speaker}
  annotations: {metallb.io/loadBalancerIPs: "$2"}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ports: [{name: http, port: 80, protocol: TCP}]
YAML
    wait_ingress "$1" "$2"
  }
  endpoints() {  # endpoints SERVICE READY NODE (an address of the pod subnets; no traffic)
    k apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $1-1
  namespace: default
  labels: {bgpcomm-e2e: speaker, kubernetes.io/service-name: $1}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
  - addresses: ["198.19.255.5"]
    conditions: {ready: $2}
    nodeName: $3
YAML
  }
  local_service local-web 203.0.113.12
  endpoints local-web false "$NODE"
  # The control: a Service whose endpoint is ready here, written after local-web's slice.
  # Once its route is there, the speaker has seen local-web's slice (one watch, in order),
  # so the absence below is a decision, not a delay.
  local_service local-ctl 203.0.113.13
  endpoints local-ctl true "$NODE"
  eventually_ms 15000 has_route a ipv4 203.0.113.13/32 || fail "the control route never arrived"
  run lacks_route a ipv4 203.0.113.12/32
  assert_success
  endpoints local-web true "$NODE"
  within_1s has_route a ipv4 203.0.113.12/32
  endpoints local-web true "$(k get nodes -o name | cut -d/ -f2 | grep -vx "$NODE" | head -n1 || echo other-node)"
  within_1s lacks_route a ipv4 203.0.113.12/32
  endpoints local-web true "$NODE"
  within_1s has_route a ipv4 203.0.113.12/32
  endpoints local-web false "$NODE"
  within_1s lacks_route a ipv4 203.0.113.12/32
}

# The kind cluster is single-stack (e2e/kind/up.sh, ipFamily ipv4): no Service there can
# hold an IPv6 address from bgpcomm's allocator, and an address written by hand races the
# allocator's own status writes. e2e/kind/run.sh leaves this tag out; the local provider
# runs it.
# bats test_tags=dual-stack
@test "an IPv6 pool and a dual-stack Service announce both families" {
  apply_walkthrough
  eventually_ms 15000 has_route a ipv4 "$IP4/32"
  k patch ipaddresspool production-pool -n "$NS" --type=json \
    -p '[{"op":"add","path":"/spec/addresses/-","value":"2001:db8:1::/120"}]' >/dev/null
  k patch bgppeer upstream-router -n "$NS" --type=merge \
    -p '{"spec":{"dualStackAddressFamily":true}}' >/dev/null
  # The local control plane serves both families: the allocator gives the dual-stack
  # Service one address of each.
  k patch service web -n default --type=merge -p \
    "{\"metadata\":{\"annotations\":{\"metallb.io/loadBalancerIPs\":\"$IP4,$IP6\"}},\"spec\":{\"ipFamilyPolicy\":\"RequireDualStack\",\"ipFamilies\":[\"IPv4\",\"IPv6\"]}}" \
    >/dev/null
  wait_ingress web "$IP4,$IP6"
  eventually_ms 15000 has_route a ipv6 "$IP6/128" || fail "no IPv6 route"
  eventually_ms 5000 has_route a ipv4 "$IP4/32"
  local fp
  for fp in "ipv4 $IP4/32" "ipv6 $IP6/128"; do
    run attr a $fp communities
    assert_output $'64512:100\n64512:200'
    run attr a $fp large
    assert_output "64512:1:100"
  done
}

@test "two peers and peers: each route goes only where it belongs (b with passwordSecret)" {
  apply_walkthrough
  # Router b requires TCP MD5; the password is only in the Secret the BGPPeer names.
  k create secret generic bgp-auth-b -n "$NS" --type=kubernetes.io/basic-auth \
    --from-literal=password="$MD5_B" >/dev/null
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: router-b
  namespace: $NS
spec:
  myASN: 64512
  peerASN: 64514
  peerAddress: $RTR_B
  passwordSecret:
    name: bgp-auth-b
    namespace: $NS
YAML
  eventually_ms 15000 communities_are b ipv4 "$IP4/32" "64512:100 64512:200" ||
    fail "router b: no route with both advertisements' communities"
  k patch bgpadvertisement primary-advert -n "$NS" --type=merge \
    -p '{"spec":{"peers":["upstream-router"]}}' >/dev/null
  k patch bgpadvertisement backup-advert -n "$NS" --type=merge \
    -p '{"spec":{"peers":["router-b"]}}' >/dev/null
  within_1s communities_are a ipv4 "$IP4/32" "64512:100"
  within_1s communities_are b ipv4 "$IP4/32" "64512:200"
  run attr a ipv4 "$IP4/32" large
  assert_output "64512:1:100"
  run attr b ipv4 "$IP4/32" large
  assert_output ""
  run metric 'bgpcomm_speaker_sessions{state="Established"}'
  assert_output 2
  run speaker_log_has 'event=peer_added peer=router-b .* md5=on'
  assert_success
  run speaker_log_count "$MD5_B"
  assert_output 0
  # A rotated password is applied within 2 s (the Secrets are watched, no 30 s re-read): a
  # wrong one restarts the session, which router b then refuses; the right one brings it back.
  local removed
  removed=$(speaker_log_count 'event=peer_removed peer=router-b' || true)
  k patch secret bgp-auth-b -n "$NS" --type=merge \
    -p '{"stringData":{"password":"rotated-wrong-pass"}}' >/dev/null
  eventually_ms 2000 peer_restarted_since "$removed" ||
    fail "the rotated password was not applied within 2 s"
  eventually_ms 30000 session_down b || fail "router b kept a session with a wrong password"
  removed=$(speaker_log_count 'event=peer_removed peer=router-b' || true)
  k patch secret bgp-auth-b -n "$NS" --type=merge \
    -p "{\"stringData\":{\"password\":\"$MD5_B\"}}" >/dev/null
  eventually_ms 2000 peer_restarted_since "$removed" ||
    fail "the rotated password was not applied within 2 s"
  eventually_ms 30000 established b || fail "router b: no session after the password came back"
  run speaker_log_count 'rotated-wrong-pass'
  assert_output 0
}

# peer_restarted_since N: router-b's session was restarted (a changed plan) since the log
# held N such lines.
peer_restarted_since() {
  (( $(speaker_log_count 'event=peer_removed peer=router-b') > $1 ))
}

@test "BGPPeers the speaker cannot serve (vrf, interface) get a Warning Event, a metric and a log line" {
  apply_walkthrough
  eventually_ms 15000 has_route a ipv4 "$IP4/32"
  # The webhook admits both, with a warning (MetalLB admits them; its FRR mode serves them).
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: vrf-peer, namespace: $NS}
spec: {myASN: 64512, peerASN: 64515, peerAddress: 198.51.100.99, vrf: red}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: unnumbered-peer, namespace: $NS}
spec: {myASN: 64512, peerASN: 64515, interface: net0}
YAML
  # Every node's speaker records its own Event; the watched node's names it.
  eventually_ms 10000 has_event_from_node vrf-peer PeerRefused "$NODE" ||
    fail "no PeerRefused Event on vrf-peer from node $NODE"
  run event_message vrf-peer PeerRefused
  assert_output --partial "no BGP session from node $NODE: spec.vrf \"red\" is not supported: this speaker peers from the default VRF only"
  eventually_ms 10000 has_event_from_node unnumbered-peer PeerRefused "$NODE" ||
    fail "no PeerRefused Event on unnumbered-peer from node $NODE"
  run event_message unnumbered-peer PeerRefused
  assert_output --partial "no BGP session from node $NODE: spec.interface \"net0\" is not supported"
  run metric 'bgpcomm_speaker_peers_refused{field="spec.vrf"}'
  assert_output 1
  run metric 'bgpcomm_speaker_peers_refused{field="spec.interface"}'
  assert_output 1
  run speaker_log_has 'event=peer_invalid peer=vrf-peer field=spec.vrf'
  assert_success
  # The peer it can serve keeps its session and route.
  run established a
  assert_success
  run has_route a ipv4 "$IP4/32"
  assert_success
}

@test "advertisements stored while the webhook was down are refused, with an Event and a metric" {
  apply_walkthrough
  eventually_ms 15000 communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  # The webhook is unregistered and stopped: what is stored now was never judged.
  unregister_webhook
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: late-advert
  namespace: $NS
spec:
  ipAddressPools: [production-pool]
  communities: ["64512:300"]
YAML
  run resolution_of late-advert
  assert_output ""
  within_1s has_event late-advert ResolutionMissing
  run event_message late-advert ResolutionMissing
  assert_output --partial "not announced: "
  assert_output --partial "bgpcomm.io/resolved-communities"
  run metric 'bgpcomm_speaker_advertisements_refused{reason="missing"}'
  assert_output 1
  # Everything else keeps being announced, without 64512:300.
  run communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  assert_success

  # An edit of spec.communities without the webhook leaves the annotation stale.
  k patch bgpadvertisement backup-advert -n "$NS" --type=merge \
    -p '{"spec":{"communities":["backup-route","64512:201"]}}' >/dev/null
  within_1s communities_are a ipv4 "$IP4/32" "64512:100"
  within_1s has_event backup-advert ResolutionStale
  run metric 'bgpcomm_speaker_advertisements_refused{reason="stale"}'
  assert_output 1
  run speaker_log_has 'event=advertisement_refused namespace=metallb-system name=backup-advert'
  assert_success

  # The webhook returns: the resolver re-resolves the stale one; the unjudged one is
  # admitted by its next update.
  restore_webhook
  eventually_ms 5000 communities_are a ipv4 "$IP4/32" "64512:100 64512:200 64512:201" ||
    fail "backup-advert not re-resolved"
  k annotate bgpadvertisement late-advert -n "$NS" example.com/touched=1 >/dev/null
  within_1s communities_are a ipv4 "$IP4/32" "64512:100 64512:200 64512:201 64512:300"
  run metric 'bgpcomm_speaker_advertisements_refused{reason="missing"}'
  assert_output 0
}

# bats test_tags=faults
@test "an apiserver restart keeps the routes announced (no flap) and the watches resume" {
  apply_walkthrough
  eventually_ms 15000 communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  sleep 1
  local updates
  updates=$(metric 'bgpcomm_speaker_updates_sent_total{peer="upstream-router"}')
  provider_apiserver_stop
  sleep 3
  run communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  assert_success
  provider_apiserver_start
  sleep 2
  run communities_are a ipv4 "$IP4/32" "64512:100 64512:200"
  assert_success
  run metric 'bgpcomm_speaker_updates_sent_total{peer="upstream-router"}'
  assert_output "$updates"
  run established a
  assert_success
  # The watches are back: a change arrives (the reflector backs off up to a few seconds).
  provider_webhook_start >/dev/null 2>&1
  local t0=$SECONDS
  request_address web 203.0.113.11 45000
  eventually_ms 30000 has_route a ipv4 203.0.113.11/32 || fail "watches did not resume in 30 s"
  echo "# change after the restart reached the router in $(( SECONDS - t0 )) s" >&3
  # The resolver's watches are back too: an alias changed now is re-resolved into the
  # stored annotation, and the speaker's advertisement watch brings it to the router;
  # nothing else was lost on the way. Each watch resumes on its own backoff (capped at
  # 30 s plus jitter, as client-go's reflectors), so allow a full backoff period.
  k patch community my-communities -n "$NS" --type=json \
    -p '[{"op":"replace","path":"/spec/communities/0/value","value":"64512:102"}]' >/dev/null
  eventually_ms 45000 resolution_is primary-advert \
    '{"from":["primary-route","region-us-east"],"communities":["64512:102","large:64512:1:100"]}' ||
    fail "the resolver did not catch up after the restart: $(resolution_of primary-advert)"
  t0=$SECONDS
  # The Service's address is 203.0.113.11 since the change above.
  eventually_ms 45000 communities_are a ipv4 203.0.113.11/32 "64512:102 64512:200" ||
    fail "the re-resolved communities did not reach the router"
  echo "# the re-resolved alias reached the router $(( SECONDS - t0 )) s after it was stored" >&3
}
