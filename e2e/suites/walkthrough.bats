#!/usr/bin/env bats
# The walkthrough (examples/walkthrough/01..06) applies in order against the real
# apiserver, and every BGPAdvertisement stores the right resolution. The files name
# metallb-system (the namespace the webhook serves and the resolver maintains), so
# this suite cleans that namespace before and after.

load helpers

setup_file() {
  require_cluster
  clean_ns "$NS"
}

teardown_file() {
  clean_ns "$NS"
  k delete service web -n default --ignore-not-found >/dev/null 2>&1 || true
}

@test "the walkthrough applies in order, each file accepted" {
  for f in "$E2E_WALKTHROUGH"/0*.yaml; do
    run k apply -f "$f"
    assert_success
    refute_output --partial 'denied'
  done
  # The allocator (the webhook's leader) gives web the address it asks for.
  web_address() { k get service web -n default -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }
  eventually_ms 30000 eval '[[ $(web_address) == 203.0.113.10 ]]' ||
    fail "web was not given 203.0.113.10 (status: '$(web_address)')"
}

@test "primary-advert stores its resolution in the annotation" {
  run resolution_of primary-advert
  assert_success
  assert_output '{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}'
}

@test "backup-advert stores its resolution in the annotation" {
  run resolution_of backup-advert
  assert_success
  assert_output '{"from":["backup-route"],"communities":["64512:200"]}'
}

@test "kubectl get -o yaml shows the annotation and the aliases as written" {
  run k get bgpadvertisement primary-advert -n "$NS" -o yaml
  assert_success
  assert_output --partial "bgpcomm.io/resolved-communities: '{\"from\":[\"primary-route\",\"region-us-east\"],\"communities\":[\"64512:100\",\"large:64512:1:100\"]}'"
  # spec.communities keeps what the user wrote (annotation mode, no drift for GitOps).
  run k get bgpadvertisement primary-advert -n "$NS" -o jsonpath='{.spec.communities}'
  assert_output '["primary-route","region-us-east"]'
}

@test "the CRD defaults are stored (aggregationLengthV6 128, peerPort 179)" {
  run k get bgpadvertisement backup-advert -n "$NS" -o jsonpath='{.spec.aggregationLengthV6}'
  assert_output 128
  run k get bgppeer upstream-router -n "$NS" -o jsonpath='{.spec.peerPort}'
  assert_output 179
}
