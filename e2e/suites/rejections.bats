#!/usr/bin/env bats
# Every class of bad community value, and a dangling alias, is denied at apply time
# by the webhook (not by the CRD schema) with the field path and, where one exists, a
# did-you-mean; nothing is stored. The same objects applied in the right order are
# accepted. Runs in a fresh namespace.

load helpers

setup_file() {
  require_cluster
  # The configured namespace: bgpcomm, like MetalLB, denies objects anywhere else.
  TEST_NS=$NS
  export TEST_NS
  clean_ns "$NS"
}

# community_with VALUE: a Community whose only alias has VALUE.
community_with() {
  cat >"$BATS_TEST_TMPDIR/community.yaml" <<YAML
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: bad-values
  namespace: $TEST_NS
spec:
  communities:
    - name: some-alias
      value: "$1"
YAML
  echo "$BATS_TEST_TMPDIR/community.yaml"
}

# advertisement_with ENTRY: a BGPAdvertisement whose only community entry is ENTRY.
advertisement_with() {
  cat >"$BATS_TEST_TMPDIR/advertisement.yaml" <<YAML
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: bad-entry
  namespace: $TEST_NS
spec:
  communities:
    - "$1"
YAML
  echo "$BATS_TEST_TMPDIR/advertisement.yaml"
}

# check VALUE MESSAGE: denied in a Community value and as an advertisement literal.
check() {
  run k apply -f "$(community_with "$1")"
  assert_denied
  assert_output --partial "Community \"bad-values\" is invalid: spec.communities[0].value: $2"
  run k apply -f "$(advertisement_with "$1")"
  assert_denied
  assert_output --partial "BGPAdvertisement \"bad-entry\" is invalid: spec.communities[0]: "
  run k get communities,bgpadvertisements -n "$TEST_NS" -o name
  assert_output ''
}

teardown_file() {
  clean_ns "$NS"
}

@test "out of range: 64512:70000" {
  check 64512:70000 '"64512:70000": second field 70000 exceeds 65535'
}

@test "out of range large: large:64512:1:4294967296" {
  check large:64512:1:4294967296 '"large:64512:1:4294967296": third field 4294967296 exceeds 4294967295'
}

@test "bad large: large:1:2" {
  check large:1:2 '"large:1:2": expected large:A:B:C, found 2 fields after "large:"'
}

@test "LARGE uppercase: LARGE:64512:1:100" {
  check LARGE:64512:1:100 '"LARGE:64512:1:100": the prefix LARGE must be lowercase "large"'
}

@test "whitespace: '64512: 100'" {
  check '64512: 100' '"64512: 100": second field contains whitespace'
}

@test "hex: 0xFC00:1" {
  check 0xFC00:1 '"0xFC00:1": first field 0xFC00 is hexadecimal; only decimal digits are allowed'
}

@test "signs: -1:100 and +1:100" {
  check -1:100 '"-1:100": first field -1 has a sign; only decimal digits are allowed'
  check +1:100 '"+1:100": first field +1 has a sign; only decimal digits are allowed'
}

@test "wrong field count: 64512:1:100, with a did-you-mean" {
  check 64512:1:100 '"64512:1:100": expected A:B or large:A:B:C, found 3 fields; did you mean "large:64512:1:100"?'
}

@test "empty field: 64512:" {
  check 64512: '"64512:": second field is empty'
}

@test "every problem of an object is reported at once" {
  cat >"$BATS_TEST_TMPDIR/two.yaml" <<YAML
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: two-problems
  namespace: $TEST_NS
spec:
  communities:
    - name: one
      value: "64512:70000"
    - name: two
      value: "0x1:1"
YAML
  run k apply -f "$BATS_TEST_TMPDIR/two.yaml"
  assert_denied
  assert_output --partial 'spec.communities[0].value: "64512:70000": second field 70000 exceeds 65535'
  assert_output --partial 'spec.communities[1].value: "0x1:1": first field 0x1 is hexadecimal'
}

@test "a dangling alias is denied with a did-you-mean" {
  in_ns "$E2E_WALKTHROUGH/01-community.yaml" "$TEST_NS" >"$BATS_TEST_TMPDIR/01.yaml"
  in_ns "$E2E_WALKTHROUGH/03-bgp-advertisement.yaml" "$TEST_NS" |
    sed 's/- primary-route/- primary-rout/' >"$BATS_TEST_TMPDIR/typo.yaml"
  run k apply -f "$BATS_TEST_TMPDIR/01.yaml"
  assert_success
  run k apply -f "$BATS_TEST_TMPDIR/typo.yaml"
  assert_denied
  assert_output --partial "BGPAdvertisement \"primary-advert\" is invalid: spec.communities[0]: \"primary-rout\" is not a community value, well-known name or alias defined in namespace $TEST_NS; did you mean \"primary-route\"?"
  run k get bgpadvertisements -n "$TEST_NS" -o name
  assert_output ''
  k delete -f "$BATS_TEST_TMPDIR/01.yaml" >/dev/null
}

@test "an alias applied before its Community is denied; in the right order all is accepted" {
  local ns=$NS
  clean_ns "$NS"
  for f in 01-community 02-ip-pool 03-bgp-advertisement; do
    in_ns "$E2E_WALKTHROUGH/$f.yaml" "$ns" >"$BATS_TEST_TMPDIR/$f.yaml"
  done
  run k apply -f "$BATS_TEST_TMPDIR/03-bgp-advertisement.yaml"
  assert_denied
  assert_output --partial "spec.communities[0]: \"primary-route\" is not a community value, well-known name or alias defined in namespace $ns"
  assert_output --partial "spec.communities[1]: \"region-us-east\" is not a community value"

  for f in 01-community 02-ip-pool 03-bgp-advertisement; do
    run k apply -f "$BATS_TEST_TMPDIR/$f.yaml"
    assert_success
  done
  run resolution_of primary-advert "$ns"
  assert_output '{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}'
}

@test "aggregationLength 0 is denied by the webhook, not the CRD schema" {
  cat >"$BATS_TEST_TMPDIR/agg.yaml" <<YAML
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: default-route
  namespace: $TEST_NS
spec:
  aggregationLength: 0
YAML
  run k apply -f "$BATS_TEST_TMPDIR/agg.yaml"
  assert_denied
  assert_output --partial 'spec.aggregationLength: aggregationLength 0 would announce a default route (0.0.0.0/0); it must be 1..32'
}
