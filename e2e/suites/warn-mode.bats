#!/usr/bin/env bats
# --unresolved-aliases=warn (GitOps tools apply files in any order): advertisements
# applied before their Community are admitted with warnings and stored as unresolved;
# the resolver fills them in once the Community arrives. The webhook is restarted with
# the flag for this file and restarted with its defaults afterwards.

load helpers

setup_file() {
  require_cluster
  clean_ns "$NS"
  provider_webhook_start --unresolved-aliases=warn
}

teardown_file() {
  clean_ns "$NS"
  provider_webhook_start
}

resolved() {
  [[ $(resolution_of primary-advert) == '{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}' ]] &&
    [[ $(resolution_of backup-advert) == '{"from":["backup-route"],"communities":["64512:200"]}' ]]
}

@test "a reverse-order apply is admitted with warnings and stored as unresolved" {
  run k apply -f "$E2E_WALKTHROUGH/04-bgp-advertisement-backup.yaml"
  assert_success
  assert_output --partial 'Warning: spec.communities[0]: "backup-route" is not a community value, well-known name or alias defined in namespace metallb-system; it stays unresolved until a Community defines it'
  run k apply -f "$E2E_WALKTHROUGH/03-bgp-advertisement.yaml"
  assert_success
  assert_output --partial 'Warning: spec.communities[0]: "primary-route" is not a community value'
  assert_output --partial 'Warning: spec.communities[1]: "region-us-east" is not a community value'
  run resolution_of primary-advert
  assert_output '{"from":["primary-route","region-us-east"],"communities":[],"unresolved":["primary-route","region-us-east"]}'
  run k apply -f "$E2E_WALKTHROUGH/02-ip-pool.yaml"
  assert_success
}

@test "a bad value is still denied in warn mode" {
  run bash -c "sed 's/- backup-route/- 64512:70000/' '$E2E_WALKTHROUGH/04-bgp-advertisement-backup.yaml' |
    '$KUBECTL' apply -f -"
  assert_denied
  assert_output --partial 'spec.communities[0]: "64512:70000": second field 70000 exceeds 65535'
}

@test "the resolver fills in the resolution once the Community arrives" {
  # On kind a webhook pod of the previous rollout may still be draining: an apply that
  # reached no webhook ("failed calling webhook") is tried again, a denial is not.
  apply_community() {
    run k apply -f "$E2E_WALKTHROUGH/01-community.yaml"
    [[ $status == 0 || $output != *"failed calling webhook"* ]]
  }
  eventually_ms 30000 apply_community
  assert_success
  run eventually_ms 5000 resolved
  assert_success
}
