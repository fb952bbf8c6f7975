#!/usr/bin/env bats
# Applying the same files again (client-side and server-side apply) changes nothing:
# the mutating webhook sends no patch when the stored annotation is already right, so
# resourceVersion stays the same and `kubectl diff` is empty. `--dry-run=server`
# reports the webhook's outcome and stores nothing.

load helpers

setup_file() {
  require_cluster
  clean_ns "$NS"
}

teardown_file() {
  clean_ns "$NS"
}

objects() {  # the walkthrough's metallb.io objects
  echo "$E2E_WALKTHROUGH"/0[1-5]-*.yaml
}

versions() {
  k get communities,bgpadvertisements,ipaddresspools,bgppeers -n "$NS" \
    -o jsonpath='{range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\n"}{end}'
}

# The versions once nothing changes them any more. The allocator writes a new pool's
# status counts asynchronously (a status write, so a new resourceVersion): a reading taken
# before that write would blame the second apply for it.
settled_versions() {
  local a b deadline=$(( SECONDS + 30 ))
  eventually_ms 30000 pool_counted || { echo "the allocator wrote no pool status in 30 s" >&2; return 1; }
  a=$(versions)
  while :; do
    sleep 1
    b=$(versions)
    [[ $a == "$b" ]] && { echo "$b"; return 0; }
    (( SECONDS < deadline )) || { echo "versions still change after 30 s: $b" >&2; return 1; }
    a=$b
  done
}
pool_counted() {
  [[ -n $(k get ipaddresspool production-pool -n "$NS" -o jsonpath='{.status.availableIPv4}') ]]
}

@test "client-side apply twice: the second changes nothing" {
  local f before
  for f in $(objects); do k apply -f "$f" >/dev/null; done
  before=$(settled_versions)
  [[ $(wc -l <<<"$before") == 5 ]]
  for f in $(objects); do
    run k apply -f "$f"
    assert_success
    assert_output --regexp ' unchanged$'
  done
  run versions
  assert_output "$before"
}

@test "kubectl diff is empty" {
  local f
  for f in $(objects); do
    run k diff -f "$f"
    assert_success
    assert_output ''
  done
}

@test "server-side apply twice: the second changes nothing" {
  local f before
  for f in $(objects); do
    run k apply --server-side --force-conflicts -f "$f"
    assert_success
  done
  before=$(settled_versions)
  for f in $(objects); do
    run k apply --server-side -f "$f"
    assert_success
  done
  run versions
  assert_output "$before"
  run resolution_of primary-advert
  assert_output '{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}'
}

@test "--dry-run=server of a bad object reports the denial and stores nothing" {
  run bash -c "sed -e 's/name: primary-advert/name: dry-advert/' -e 's/- primary-route/- primary-rout/' \
      '$E2E_WALKTHROUGH/03-bgp-advertisement.yaml' | '$KUBECTL' apply --dry-run=server -f -"
  assert_denied
  assert_output --partial 'did you mean "primary-route"?'
  run k get bgpadvertisement dry-advert -n "$NS"
  assert_failure
  assert_output --partial 'NotFound'
}

@test "--dry-run=server of a good object shows the resolution and stores nothing" {
  run bash -c "sed -e 's/name: primary-advert/name: dry-advert/' \
      '$E2E_WALKTHROUGH/03-bgp-advertisement.yaml' |
    '$KUBECTL' apply --dry-run=server -o jsonpath='$ANNOTATION_PATH' -f -"
  assert_success
  assert_output --partial '{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}'
  run k get bgpadvertisement dry-advert -n "$NS"
  assert_failure
  assert_output --partial 'NotFound'
}

@test "--dry-run=server of a Community change reports the warning and stores nothing" {
  local before
  before=$(versions)
  run bash -c "sed 's/value: \"64512:100\"/value: \"64512:101\"/' '$E2E_WALKTHROUGH/01-community.yaml' |
    '$KUBECTL' apply --dry-run=server -f -"
  assert_success
  assert_output --partial 'Warning: spec.communities[0].value: alias "primary-route" changes from 64512:100 to 64512:101'
  assert_output --partial '(server dry run)'
  run versions
  assert_output "$before"
}
