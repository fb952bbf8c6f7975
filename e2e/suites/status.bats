#!/usr/bin/env bats
# The status objects in the API (issue 18) and `bgpcomm status`, against the speaker in
# Kubernetes mode and real BIRD 2 routers (the speaker suite's provider set-up: routers a
# and b, b requiring TCP MD5):
#   BGPSessionState (bgpcomm.io)        one per node and BGPPeer
#   ConfigurationState (metallb.io)     the speaker's, and the allocator's "allocator"
#   ServiceBGPStatus (metallb.io)       per node and Service (the local speaker runs with
#                                       --service-bgp-status=true)
# Writes are bounded per object: at most one per --status-interval (5 s), which the
# flapping case checks against the apiserver's own apiserver_request_total.

load helpers

NODE=$(provider_speaker_node)
RTR_A=$PROVIDER_ROUTER_A
RTR_B=$PROVIDER_ROUTER_B
MD5_B=e2e-md5-b-9f3c
IP4=203.0.113.10
source "$E2E_REPO/e2e/suites/lib/webhook-registration.bash"
source "$E2E_REPO/e2e/lib/request-counts.bash"  # writes_of

# The walkthrough with its BGPPeer pointed at router a; the allocator gives web $IP4.
apply_walkthrough() {
  local f
  for f in "$E2E_WALKTHROUGH"/0*.yaml; do
    sed "s/peerAddress: 198.51.100.2\$/peerAddress: $RTR_A/" "$f" | k apply -f - >/dev/null
  done
}

# A BGPPeer no session can come up with: router b requires a TCP MD5 password, this one
# has none, so b drops every SYN.
apply_dead_peer() {
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: dead-router
  namespace: $NS
spec:
  myASN: 64512
  peerASN: $PROVIDER_ROUTER_B_AS
  peerAddress: $RTR_B
  connectTime: 1s
YAML
}

session_name() { echo "$NODE-$1"; }
# session_field PEER JSONPATH: a field of the BGPSessionState of PEER on this node.
session_field() {
  k get bgpsessionstate "$(session_name "$1")" -n "$NS" -o jsonpath="{$2}" 2>/dev/null
}
session_is() { [[ $(session_field "$1" .status.bgpStatus) == "$2" ]]; }
bfd_status_is() { [[ $(session_field "$1" .status.bfdStatus) == "$2" ]]; }
session_reported() { [[ -n $(session_field "$1" .status.bgpStatus) ]]; }
prefixes_sent_is() { [[ $(session_field "$1" .status.prefixesSent) == "$2" ]]; }
session_absent() { ! k get bgpsessionstate "$(session_name "$1")" -n "$NS" >/dev/null 2>&1; }
configuration_field() {
  k get configurationstate "$1" -n "$NS" -o jsonpath="{$2}" 2>/dev/null
}
configuration_is() { [[ $(configuration_field "$1" .status.result) == "$2" ]]; }
service_status_name() { echo "$NODE-default-$1"; }
service_status_field() {
  k get servicebgpstatus "$(service_status_name "$1")" -n "$NS" -o jsonpath="{$2}" 2>/dev/null
}
service_status_peers_are() { [[ $(service_status_field "$1" .status.peers[*]) == "$2" ]]; }
service_status_absent() {
  ! k get servicebgpstatus "$(service_status_name "$1")" -n "$NS" >/dev/null 2>&1
}

speaker_log_count() { provider_speaker_log | grep -c -- "$1" || true; }

reset_objects() {
  clean_ns "$NS"
  k delete service web -n default --ignore-not-found >/dev/null
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

setup() { reset_objects; }

teardown() {
  if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
    echo "--- speaker log (tail)"
    provider_speaker_log | tail -n 40 || true
    k get bgpsessionstates,configurationstates,servicebgpstatuses -n "$NS" -o yaml || true
  fi
  restore_webhook
}

@test "the walkthrough's session is Established in its BGPSessionState, with what it sends" {
  apply_walkthrough
  eventually_ms 20000 session_is upstream-router Established ||
    fail "BGPSessionState: $(session_field upstream-router .status)"
  run session_field upstream-router .status.node
  assert_output "$NODE"
  run session_field upstream-router .status.peer
  assert_output "$RTR_A"
  run session_field upstream-router .status.bfdStatus
  assert_output "N/A"
  eventually_ms 35000 prefixes_sent_is upstream-router 1 ||
    fail "prefixesSent: $(session_field upstream-router .status.prefixesSent)"
  run session_field upstream-router '.status.prefixes[*]'
  assert_output "$IP4/32"
  run session_field upstream-router '.metadata.labels.bgpcomm\.io/node'
  assert_output "$NODE"
  # kubectl's printer columns.
  run k get bgpsessionstates -n "$NS"
  assert_output --partial "Established"
  assert_output --partial "$RTR_A"
  # The speaker's and the allocator's configuration results.
  eventually_ms 10000 configuration_is "speaker-$NODE" Valid
  eventually_ms 10000 configuration_is allocator Valid ||
    fail "allocator: $(configuration_field allocator .status)"
}

# Router a runs no BFD: a bfdProfile on the walkthrough's BGPPeer gives the speaker a BFD
# session that stays Down (it resets the BGP session only when it leaves Up), and that state
# is the BGPSessionState's bfdStatus; without a bfdProfile it is N/A (as frr-k8s shows).
@test "bfdStatus: N/A without a bfdProfile, the BFD session's state with one, N/A once it goes" {
  apply_walkthrough
  eventually_ms 20000 session_is upstream-router Established
  run session_field upstream-router .status.bfdStatus
  assert_output "N/A"
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata:
  name: status-bfd
  namespace: $NS
spec:
  receiveInterval: 300
  transmitInterval: 300
YAML
  k patch bgppeer upstream-router -n "$NS" --type merge -p '{"spec":{"bfdProfile":"status-bfd"}}' >/dev/null
  eventually_ms 20000 bfd_status_is upstream-router Down ||
    fail "bfdStatus: $(session_field upstream-router .status.bfdStatus)"
  eventually_ms 20000 session_is upstream-router Established
  k patch bgppeer upstream-router -n "$NS" --type json -p '[{"op":"remove","path":"/spec/bfdProfile"}]' >/dev/null
  eventually_ms 20000 bfd_status_is upstream-router N/A ||
    fail "bfdStatus: $(session_field upstream-router .status.bfdStatus)"
}

@test "a BGPSessionState goes with its BGPPeer, and a ServiceBGPStatus with its Service" {
  apply_walkthrough
  eventually_ms 20000 session_is upstream-router Established
  eventually_ms 35000 service_status_peers_are web upstream-router ||
    fail "ServiceBGPStatus: $(service_status_field web .status)"
  run service_status_field web '.metadata.labels.metallb\.io/service-name'
  assert_output web
  run service_status_field web .status.serviceNamespace
  assert_output default
  k delete service web -n default >/dev/null
  eventually_ms 35000 service_status_absent web
  k delete bgppeer upstream-router -n "$NS" >/dev/null
  eventually_ms 10000 session_absent upstream-router
}

@test "a refused advertisement makes the speaker's ConfigurationState Invalid with the reason" {
  apply_walkthrough
  eventually_ms 20000 configuration_is "speaker-$NODE" Valid
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
  eventually_ms 10000 configuration_is "speaker-$NODE" Invalid
  run configuration_field "speaker-$NODE" .status.errorSummary
  assert_output --partial "BGPAdvertisement $NS/late-advert not announced (missing)"
  run configuration_field "speaker-$NODE" \
    '.status.conditions[?(@.type=="AdvertisementsAnnounced")].status'
  assert_output False
  k delete bgpadvertisement late-advert -n "$NS" >/dev/null
  eventually_ms 10000 configuration_is "speaker-$NODE" Valid
}

@test "a session flapping 100 times in 10 s is written at most once per 5 s" {
  apply_walkthrough
  # Reconnect at most 1 s after each drop, so that the flapping really flaps.
  k patch bgppeer upstream-router -n "$NS" --type=merge -p '{"spec":{"connectTime":"1s"}}' >/dev/null
  eventually_ms 20000 session_is upstream-router Established
  sleep 6  # past the interval of the last write
  local before changes_before start elapsed after bound
  before=$(writes_of bgpsessionstates)
  changes_before=$(speaker_log_count 'event=session_state peer=upstream-router')
  start=$SECONDS
  for _ in $(seq 100); do
    provider_birdc a disable "$(provider_bird_protocol a)" >/dev/null
    sleep 0.05
    provider_birdc a enable "$(provider_bird_protocol a)" >/dev/null
  done
  eventually_ms 30000 session_is upstream-router Established
  sleep 6  # the last state is written within one interval
  elapsed=$(( SECONDS - start ))
  after=$(writes_of bgpsessionstates)
  # The flapping really changed the state many times...
  local changes=$(( $(speaker_log_count 'event=session_state peer=upstream-router') - changes_before ))
  (( changes >= 20 )) || fail "only $changes state changes: the flap did not happen"
  # ...and the writes stayed within one per 5 s (+1 for the first), a create and patch
  # excepted: nothing here creates, the object exists.
  bound=$(( elapsed / 5 + 1 ))
  echo "state changes $changes, writes $(( after - before )) in ${elapsed}s, bound $bound"
  (( after - before <= bound )) || fail "$(( after - before )) writes in ${elapsed}s (bound $bound)"
  (( after - before >= 1 )) || fail "no write at all: the final state was not published"
}

@test "bgpcomm status names the dead peer and exits non-zero; healthy exits 0" {
  apply_walkthrough
  eventually_ms 20000 session_is upstream-router Established
  eventually_ms 35000 prefixes_sent_is upstream-router 1
  run "$BGPCOMM_BIN_DIR/bgpcomm" status --namespace "$NS"
  echo "$output"
  assert_success
  assert_output --partial "upstream-router $RTR_A Established"
  assert_output --partial "healthy: 0 session(s) down, 0 route(s) missing"

  apply_dead_peer
  eventually_ms 20000 session_reported dead-router
  run "$BGPCOMM_BIN_DIR/bgpcomm" status --namespace "$NS"
  echo "$output"
  assert_failure 1
  assert_output --partial "dead-router $RTR_B"
  assert_output --partial "SESSION DOWN"
  # One dead session per node whose speaker peers with dead-router (one locally, each
  # node on kind).
  assert_output --regexp "UNHEALTHY: [1-9][0-9]* session\(s\) down"
  # As a kubectl plugin, and as JSON.
  run env PATH="$BGPCOMM_BIN_DIR:$PATH" "$KUBECTL" bgpcomm status --namespace "$NS" --output json
  assert_failure 1
  # Every node names it (one node locally, three on kind).
  run jq -r '[.nodes[].sessions[] | select(.down) | .bgpPeer] | unique | .[]' <<<"$output"
  assert_output dead-router
}

# The status objects of this node's speaker, one line each:
# "KIND/NAME OWNER_KIND/OWNER_NAME/OWNER_UID ..." (every ownerReference).
node_status_owners() {
  local kind
  for kind in bgpsessionstates:bgpcomm.io/node configurationstates:bgpcomm.io/node \
    servicebgpstatuses:metallb.io/node; do
    k get "${kind%%:*}" -n "$NS" -l "${kind#*:}=$NODE" -o json | jq -r '.items[] |
      "\(.kind)/\(.metadata.name)" + ([.metadata.ownerReferences[]? |
        " \(.kind)/\(.name)/\(.uid)"] | join(""))'
  done
}
# status_owned_by NAME UID: the node's BGPSessionState of upstream-router and its
# ConfigurationState exist, and every status object of the node has exactly one owner,
# the Pod NAME with UID.
status_owned_by() {
  local owners
  owners=$(node_status_owners)
  grep -qx "BGPSessionState/$(session_name upstream-router) .*" <<<"$owners" || return 1
  grep -qx "ConfigurationState/speaker-$NODE .*" <<<"$owners" || return 1
  ! grep -vx "[A-Za-z]*/[^ ]* Pod/$1/$2" <<<"$owners"
}
# The objects in the namespace with an ownerReference to UID, one KIND/NAME a line.
owned_by_uid() {
  local kind
  for kind in bgpsessionstates configurationstates servicebgpstatuses; do
    k get "$kind" -n "$NS" -o json |
      jq -r --arg uid "$1" '.items[] | select(any(.metadata.ownerReferences[]?; .uid == $uid))
        | "\(.kind)/\(.metadata.name)"'
  done
}
no_object_owned_by() { [[ -z $(owned_by_uid "$1") ]]; }

# Owned so that they go with their node's speaker (issue 18): the owner is the speaker's
# Pod. Locally there is no garbage collector: the new speaker must take its objects over
# (a status PATCH keeps the old owner). On kind the Pod really goes: the garbage
# collector deletes what it owned, and the DaemonSet's next Pod writes them anew; either
# way the node's objects end owned by the new Pod only, and none by the old one.
@test "the speaker's status objects are owned by its Pod, and by the Pod that replaces it" {
  apply_walkthrough
  eventually_ms 20000 session_is upstream-router Established
  eventually_ms 10000 configuration_is "speaker-$NODE" Valid
  local pod uid pod2 uid2
  read -r pod uid < <(provider_speaker_owner)
  [[ -n $pod && -n $uid ]] || fail "no speaker Pod: '$pod' '$uid'"
  eventually_ms 10000 status_owned_by "$pod" "$uid" ||
    fail "not all owned by Pod/$pod/$uid:"$'\n'"$(node_status_owners)"
  run owned_by_uid "$uid"
  echo "$output"
  assert_output --partial "BGPSessionState/$(session_name upstream-router)"

  provider_speaker_replace_pod
  read -r pod2 uid2 < <(provider_speaker_owner)
  [[ -n $uid2 && $uid2 != "$uid" ]] || fail "the speaker's Pod was not replaced: $pod2 $uid2"
  eventually_ms 60000 status_owned_by "$pod2" "$uid2" ||
    fail "not all owned by the new Pod/$pod2/$uid2:"$'\n'"$(node_status_owners)"
  eventually_ms 30000 no_object_owned_by "$uid" ||
    fail "still owned by the old Pod $pod: $(owned_by_uid "$uid")"
  # What the objects say is this speaker's, written anew.
  eventually_ms 30000 session_is upstream-router Established
  eventually_ms 10000 configuration_is "speaker-$NODE" Valid
}
