#!/usr/bin/env bats
# A BGPPeer's spec.passwordSecret.name becomes a path segment of the speaker's request
# (GET .../secrets/NAME): the cluster's webhook admits only a valid Secret name (a
# DNS-1123 subdomain) and names the field when it denies one, so no name can reach
# another path, add a query or split a header (issue 19 item 6).

load ../suites/helpers

setup_file() {
  require_cluster
}

teardown_file() {
  k delete bgppeer secret-name-ok -n "$NS" --ignore-not-found >/dev/null 2>&1 || true
}

# peer_with_secret NAME_YAML: applies a BGPPeer whose passwordSecret.name is NAME_YAML (a
# YAML scalar, quoted as needed).
peer_with_secret() {
  k apply -f - <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: secret-name-probe, namespace: $NS}
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 198.51.100.9
  passwordSecret: {name: $1}
YAML
}

@test "passwordSecret names with '?', '/', '..', CR/LF or capitals are denied with the field path" {
  local name
  for name in '"bgp?watch=true"' '"bgp/../../configmaps/x"' '".."' '"bgp..auth"' \
    '"bgp\r\nX-Injected: 1"' '"BGP-Auth"' '"bgp%2Fauth"'; do
    run peer_with_secret "$name"
    assert_denied
    assert_output --partial 'spec.passwordSecret.name: '
    assert_output --partial 'is not a valid Secret name (a DNS-1123 subdomain'
  done
  run k get bgppeer secret-name-probe -n "$NS"
  assert_failure
}

@test "a valid Secret name is admitted" {
  run k apply -f - <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: secret-name-ok, namespace: $NS}
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 198.51.100.9
  passwordSecret: {name: bgp-auth.router-a}
YAML
  assert_success
}
