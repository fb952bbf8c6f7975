#!/usr/bin/env bats
# failurePolicy: Fail. With the webhook stopped nothing of ours is admitted: the
# apiserver refuses with `failed calling webhook` (the expected outcome here, and only
# here). After a restart (without re-running up.sh) admission works again.

load helpers

setup_file() {
  require_cluster
  # The configured namespace: bgpcomm, like MetalLB, denies objects anywhere else.
  TEST_NS=$NS
  export TEST_NS
  clean_ns "$NS"
}

teardown_file() {
  provider_webhook_start
  clean_ns "$NS"
}

@test "with the webhook stopped, a bad object is refused: failed calling webhook" {
  provider_webhook_stop
  run bash -c "sed -e 's/namespace: metallb-system/namespace: $TEST_NS/' -e 's/64512:100/64512:70000/' \
    '$E2E_WALKTHROUGH/01-community.yaml' | '$KUBECTL' apply -f -"
  assert_failure
  assert_output --partial 'failed calling webhook'
  refute_output --partial 'denied the request'
  run k get communities -n "$TEST_NS" -o name
  assert_output ''
}

@test "with the webhook stopped, a good object is refused too (fail closed)" {
  run bash -c "sed -e 's/namespace: metallb-system/namespace: $TEST_NS/' \
    '$E2E_WALKTHROUGH/01-community.yaml' | '$KUBECTL' apply -f -"
  assert_failure
  assert_output --partial 'failed calling webhook'
}

@test "after a restart, admission works again" {
  provider_webhook_start
  run bash -c "sed -e 's/namespace: metallb-system/namespace: $TEST_NS/' -e 's/64512:100/64512:70000/' \
    '$E2E_WALKTHROUGH/01-community.yaml' | '$KUBECTL' apply -f -"
  assert_denied
  assert_output --partial '"64512:70000": second field 70000 exceeds 65535'
  run bash -c "sed -e 's/namespace: metallb-system/namespace: $TEST_NS/' \
    '$E2E_WALKTHROUGH/01-community.yaml' | '$KUBECTL' apply -f -"
  assert_success
}
