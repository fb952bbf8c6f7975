#!/usr/bin/env bats
# An IPAddressPool change or deletion that takes addresses from Services holding them is
# admitted with a warning naming how many Services and at most three of them (issue 14,
# admission). The webhook learns Services' held addresses from its Service informer; the
# addresses are the ones each Service asks for, written by the allocator. Pools in metallb-system (cleaned
# before and after), Services in a fresh namespace.

load helpers

POOL=e2e-pool-release

setup_file() {
  require_cluster
  SVC_NS=$(fresh_ns)
  export SVC_NS
  k delete ipaddresspool "$POOL" -n "$NS" --ignore-not-found >/dev/null 2>&1 || true
}

teardown_file() {
  k delete ipaddresspool "$POOL" -n "$NS" --ignore-not-found >/dev/null 2>&1 || true
}

# pool_yaml ADDRESS...: the pool with these spec.addresses.
pool_yaml() {
  local f=$BATS_TEST_TMPDIR/pool.yaml a
  printf 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  addresses:\n' \
    "$POOL" "$NS" >"$f"
  for a in "$@"; do printf '    - %s\n' "$a" >>"$f"; done
  echo "$f"
}

# holding NAME IP: a LoadBalancer Service that asks for IP (metallb.io/loadBalancerIPs)
# and holds it once bgpcomm's allocator has written its status.
holding() {
  k apply -n "$SVC_NS" -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $1
  annotations:
    metallb.io/loadBalancerIPs: $2
spec:
  type: LoadBalancer
  ports: [{port: 80}]
YAML
  eventually_ms 30000 holds "$1" "$2" || fail "Service $1 was not given $2"
}

holds() {
  [[ $(k get service "$1" -n "$SVC_NS" -o jsonpath='{.status.loadBalancer.ingress[0].ip}') == "$2" ]]
}

# dry_run_warns FILE TEXT: a server-side dry run of FILE prints TEXT.
dry_run_warns() {
  k apply --dry-run=server -f "$1" 2>&1 | grep -qF -- "$2"
}

@test "shrinking a pool warns about the Services whose addresses it takes" {
  run k apply -f "$(pool_yaml 198.18.200.0/27)"
  assert_success
  holding web 198.18.200.5
  holding api 198.18.200.6
  holding kept 198.18.200.20
  local shrunk expected
  shrunk=$(pool_yaml 198.18.200.16/28)
  expected="spec.addresses: this change takes addresses away: 2 Services hold an address it removes from the pool: $SVC_NS/api (198.18.200.6), $SVC_NS/web (198.18.200.5); they get new addresses and their routes move"
  # The webhook's Service informer sees the status within a watch event.
  eventually_ms 30000 dry_run_warns "$shrunk" "$expected"
  run k apply -f "$shrunk"
  assert_success
  refute_output --partial denied
  assert_output --partial "Warning: $expected"
  run k get ipaddresspool "$POOL" -n "$NS" -o jsonpath='{.spec.addresses}'
  assert_output '["198.18.200.16/28"]'
}

@test "growing the pool warns about nothing" {
  run k apply -f "$(pool_yaml 198.18.200.16/28 198.18.200.0/28)"
  assert_success
  refute_output --partial Warning
}

@test "deleting the pool warns, naming the count and at most three Services" {
  holding fourth 198.18.200.7
  # The webhook's informer has the status once a dry-run delete names all four.
  local expected="metadata.name: deleting IPAddressPool \"$POOL\" takes addresses away: 4 Services hold an address from it: $SVC_NS/api (198.18.200.6), $SVC_NS/fourth (198.18.200.7), $SVC_NS/kept (198.18.200.20) and 1 more; they get new addresses and their routes move"
  delete_dry_run_warns() {
    k delete ipaddresspool "$POOL" -n "$NS" --dry-run=server 2>&1 | grep -qF -- "$expected"
  }
  eventually_ms 30000 delete_dry_run_warns
  run k delete ipaddresspool "$POOL" -n "$NS"
  assert_success
  assert_output --partial "Warning: $expected"
  run k get ipaddresspool "$POOL" -n "$NS" -o name
  assert_failure
}
