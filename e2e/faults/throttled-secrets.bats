#!/usr/bin/env bats
# A throttled Secret read keeps the session (issue 19 item 2): the speaker (Kubernetes
# mode, the chart's RBAC) reaches the API server through e2e/lib/api_fault_proxy.py, which
# for 60 s answers every request for the namespace's Secrets 429 Too Many Requests, as API
# Priority and Fairness does, and cuts the Secret watch that was open. Router b (BIRD)
# requires TCP MD5 with the password only the BGPPeer's passwordSecret holds. Meanwhile
# the objects change every few seconds, so the speaker applies again and again. Not one
# session goes down on either router and no route is withdrawn; afterwards the Secrets
# are read again. Local provider only (the speaker is a local process).

load ../suites/helpers
load ../suites/lib/webhook-process
load ../lib/api-fault-proxy

NODE=e2e-node-a
MD5_B=e2e-md5-b-7c1d
IP4=203.0.113.10
THROTTLE_S=60
SECRETS_PATH="/api/v1/namespaces/$NS/secrets"

source "$E2E_REPO/e2e/interop/bird.bash"
has_route() {  # has_route ROUTER PREFIX
  local ROUTER=$1 BIRD_TABLE4=master4 BIRD_TABLE6=master6 BIRD_PROTOCOL=speaker
  birdc_() { provider_birdc "$ROUTER" "$@"; }
  bird_attr ipv4 "$2" present
}
established() { provider_birdc "$1" show protocols speaker | grep -q Established; }
# The time BIRD's session with the speaker last changed state ("since" column).
session_since() { provider_birdc "$1" show protocols speaker | grep '^speaker'; }
# The speaker's log from where this file started it (the log is shared with other suites).
speaker_log() { tail -c +$((SPEAKER_LOG_OFFSET + 1)) "$BGPCOMM_STATE_DIR/logs/speaker.log"; }
throttled_count() { grep -c "^429 .*$SECRETS_PATH" "$FAULT_PROXY_LOG" || true; }
# Both routers hold the route over an Established session.
both_hold() {
  established a && established b && has_route a "$IP4/32" && has_route b "$IP4/32"
}

setup_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || fail "runs on the local provider only (a local speaker behind a proxy)"
  require_cluster
  provider_webhook_start  # the allocator gives the Service its address
  clean_ns "$NS"
  k delete secret bgp-auth-b -n "$NS" --ignore-not-found >/dev/null
  export PKI=$BATS_FILE_TMPDIR/pki
  own_pki "$PKI"
  fault_proxy_start "$BATS_FILE_TMPDIR" "$KUBECONFIG" "$PKI"
  export BGPCOMM_SPEAKER_API_SERVER=https://127.0.0.1:$FAULT_PROXY_PORT
  export BGPCOMM_SPEAKER_API_CA=$PKI/ca.crt
  SPEAKER_LOG_OFFSET=$(log_offset "$BGPCOMM_STATE_DIR/logs/speaker.log")
  export SPEAKER_LOG_OFFSET
  provider_speaker_setup "$MD5_B"
}

teardown_file() {
  fault_proxy_mode pass 2>/dev/null || true
  provider_speaker_teardown || true
  fault_proxy_stop
  k delete service web -n default --ignore-not-found >/dev/null 2>&1 || true
  k delete secret bgp-auth-b -n "$NS" --ignore-not-found >/dev/null 2>&1 || true
  clean_ns "$NS" || true
}

teardown() {
  fault_proxy_mode pass
  if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
    echo "--- speaker log (tail)"; speaker_log | tail -n 40 || true
    echo "--- proxy log (tail)"; tail -n 10 "$FAULT_PROXY_LOG" || true
  fi
}

@test "429 on every Secret read for 60 s: no session drops, no route withdrawn" {
  local f
  for f in "$E2E_WALKTHROUGH"/0*.yaml; do
    sed "s/peerAddress: 198.51.100.2\$/peerAddress: $PROVIDER_ROUTER_A/" "$f" | k apply -f - >/dev/null
  done
  k create secret generic bgp-auth-b -n "$NS" --type=kubernetes.io/basic-auth \
    --from-literal=password="$MD5_B" >/dev/null
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router-b, namespace: $NS}
spec:
  myASN: 64512
  peerASN: $PROVIDER_ROUTER_B_AS
  peerAddress: $PROVIDER_ROUTER_B
  passwordSecret: {name: bgp-auth-b, namespace: $NS}
YAML
  eventually_ms 30000 both_hold || fail "no route on both routers before the fault"
  local since_a since_b removed
  since_a=$(session_since a)
  since_b=$(session_since b)
  removed=$(speaker_log | grep -c 'event=peer_removed' || true)

  fault_proxy_mode throttle "^$SECRETS_PATH"
  local start=$SECONDS i=0 down=0
  while ((SECONDS - start < THROTTLE_S)); do
    # Something to apply: the speaker looks at the passwordSecret each time.
    if ((i % 5 == 0)); then
      k annotate service web -n default --overwrite "bgpcomm-e2e/tick=$i" >/dev/null
      k patch ipaddresspool production-pool -n "$NS" --type=merge \
        -p "{\"metadata\":{\"labels\":{\"tick\":\"t$i\"}}}" >/dev/null
    fi
    both_hold || { down=$((down + 1)); echo "# not held at +$((SECONDS - start)) s" >&3; }
    i=$((i + 1))
    sleep 1
  done
  local throttled
  throttled=$(throttled_count)
  fault_proxy_mode pass
  echo "# $throttled Secret requests answered 429 in ${THROTTLE_S} s; $i checks, $down not held" >&3
  # The throttle was real: the speaker did ask for Secrets and was refused.
  ((throttled > 0)) || fail "the speaker never asked for a Secret during the throttle"
  ((down == 0)) || fail "a session or route was lost $down times while Secrets were throttled"
  # No session went down and came back in between: BIRD's state-change times are unchanged.
  [[ $(session_since a) == "$since_a" ]] || fail "router a: the session restarted"
  [[ $(session_since b) == "$since_b" ]] || fail "router b: the session restarted"
  (($(speaker_log | grep -c 'event=peer_removed' || true) == removed)) ||
    fail "the speaker removed a peer during the throttle"
  if speaker_log | grep -q 'event=peer_invalid peer=router-b'; then
    fail "router-b was refused for its passwordSecret"
  fi
  # Reads work again: a rotated password lands (the Secret watch is back).
  k patch secret bgp-auth-b -n "$NS" --type=merge \
    -p '{"stringData":{"password":"rotated-wrong-pass"}}' >/dev/null
  eventually_ms 60000 peer_removed_more_than "$removed" ||
    fail "the Secret was not read again after the throttle ended"
}

peer_removed_more_than() { (($(speaker_log | grep -c 'event=peer_removed' || true) > $1)); }
