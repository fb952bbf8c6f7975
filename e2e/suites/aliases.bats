#!/usr/bin/env bats
# Alias lifecycle: removing or renaming an alias that advertisements reference is
# denied naming them, and allowed once they are gone; changing a referenced alias's
# value warns and the resolver rewrites every affected advertisement within 2 s.

load helpers

setup_file() {
  require_cluster
  # The configured namespace: bgpcomm, like MetalLB, denies objects anywhere else.
  TEST_NS=$NS
  export TEST_NS
  clean_ns "$NS"
}

teardown_file() {
  clean_ns "$NS"
}

walkthrough_in() {  # NAMESPACE: applies 01..04 there
  local f
  for f in 01-community 02-ip-pool 03-bgp-advertisement 04-bgp-advertisement-backup; do
    in_ns "$E2E_WALKTHROUGH/$f.yaml" "$1" | k apply -f - >/dev/null || return 1
  done
}

@test "deleting a Community whose aliases are referenced is denied, naming the advertisements" {
  walkthrough_in "$TEST_NS"
  run k delete community my-communities -n "$TEST_NS"
  assert_denied
  assert_output --partial 'alias "primary-route" is still referenced by BGPAdvertisement primary-advert; deleting this Community would leave it unresolved; change the advertisements first'
  assert_output --partial 'alias "backup-route" is still referenced by BGPAdvertisement backup-advert'
  run k get community my-communities -n "$TEST_NS" -o name
  assert_output community.metallb.io/my-communities
}

@test "renaming a referenced alias is denied, naming the advertisement" {
  run bash -c "sed -e 's/namespace: metallb-system/namespace: $TEST_NS/' \
      -e 's/name: primary-route/name: primary-route-v2/' '$E2E_WALKTHROUGH/01-community.yaml' |
    '$KUBECTL' apply -f -"
  assert_denied
  assert_output --partial 'alias "primary-route" is still referenced by BGPAdvertisement primary-advert; removing or renaming it would leave it unresolved'
  run k get community my-communities -n "$TEST_NS" -o jsonpath='{.spec.communities[0].name}'
  assert_output primary-route
}

@test "after the advertisements are gone, rename and delete succeed" {
  run k delete bgpadvertisement primary-advert backup-advert -n "$TEST_NS"
  assert_success
  run bash -c "sed -e 's/namespace: metallb-system/namespace: $TEST_NS/' \
      -e 's/name: primary-route/name: primary-route-v2/' '$E2E_WALKTHROUGH/01-community.yaml' |
    '$KUBECTL' apply -f -"
  assert_success
  run k delete community my-communities -n "$TEST_NS"
  assert_success
}

# Both advertisements carry 64512:101 for primary-route.
both_resolved() {
  [[ $(resolution_of primary-advert) == '{"from":["primary-route","region-us-east"],"communities":["64512:101","large:64512:1:100"]}' ]] &&
    [[ $(resolution_of second-advert) == '{"from":["primary-route"],"communities":["64512:101"]}' ]]
}

@test "changing a referenced alias's value warns and the resolver updates every advertisement within 2 s" {
  walkthrough_in "$NS"
  cat <<YAML | k apply -f -
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: second-advert
  namespace: $NS
spec:
  ipAddressPools: [production-pool]
  communities: [primary-route]
YAML
  run resolution_of second-advert
  assert_output '{"from":["primary-route"],"communities":["64512:100"]}'

  sed 's/value: "64512:100"/value: "64512:101"/' "$E2E_WALKTHROUGH/01-community.yaml" \
    >"$BATS_TEST_TMPDIR/changed.yaml"
  run k apply -f "$BATS_TEST_TMPDIR/changed.yaml"
  local applied
  applied=$(date +%s%N)
  assert_success
  assert_output --partial 'Warning: spec.communities[0].value: alias "primary-route" changes from 64512:100 to 64512:101; the resolver will re-resolve 2 advertisement(s): primary-advert, second-advert'
  run eventually_ms 2000 both_resolved
  local took=$(( ($(date +%s%N) - applied) / 1000000 ))
  echo "# resolver updated both advertisements in ${took} ms" >&3
  assert_success
  # The user's spec is untouched.
  run k get bgpadvertisement second-advert -n "$NS" -o jsonpath='{.spec.communities}'
  assert_output '["primary-route"]'
}
