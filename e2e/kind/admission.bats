#!/usr/bin/env bats
# The chart's pods on a real cluster: every pod Running and Ready, the webhook reached by
# the apiserver through its Service with the caBundle it injected itself, and the webhook
# leader deleted while advertisements are applied.

load ../suites/helpers
load suite

setup_file() {
  require_cluster
  reset_kind_objects
}

teardown_file() {
  reset_kind_objects
}

@test "every bgpcomm pod is Running and Ready" {
  k -n "$NS" rollout status deployment/bgpcomm-webhook --timeout=120s >/dev/null
  k -n "$NS" rollout status daemonset/bgpcomm-speaker --timeout=120s >/dev/null
  # A pod of an earlier rollout may still be terminating: wait until only the five remain.
  bgpcomm_pods() {
    run k -n "$NS" get pods -l app.kubernetes.io/part-of=bgpcomm \
      -o jsonpath='{range .items[*]}{.metadata.labels.app\.kubernetes\.io/component} {.status.phase} {.status.conditions[?(@.type=="Ready")].status} {.spec.nodeName}{"\n"}{end}'
    [[ $status == 0 && $(grep -c . <<<"$output") == 5 ]]
  }
  eventually_ms 120000 bgpcomm_pods || true
  assert_success
  echo "$output"
  # Two webhook replicas and one speaker on each of the three nodes.
  [[ $(grep -c '^webhook Running True ' <<<"$output") == 2 ]] || fail "not 2 ready webhook pods"
  [[ $(grep -c '^speaker Running True ' <<<"$output") == 3 ]] || fail "not 3 ready speaker pods"
  [[ $(grep -c . <<<"$output") == 5 ]] || fail "pods that are not ready or not ours"
  run bash -c "grep '^speaker' <<<'$output' | awk '{ print \$4 }' | sort -u | wc -l"
  assert_output 3
}

@test "the webhook answers through its Service with the caBundle it injected itself" {
  local bundles ca node ip
  # Every webhook of both configurations carries the same CA, which is the one of the
  # Secret the webhook keeps (the chart renders no caBundle).
  bundles=$(k get validatingwebhookconfiguration/bgpcomm-webhook mutatingwebhookconfiguration/bgpcomm-webhook \
    -o jsonpath='{range .items[*].webhooks[*]}{.clientConfig.caBundle}{"\n"}{end}' | sort -u)
  [[ -n $bundles && $(grep -c . <<<"$bundles") == 1 ]] || fail "caBundles: $bundles"
  ca=$(k -n "$NS" get secret bgpcomm-webhook-cert -o jsonpath='{.data.ca\.crt}')
  [[ $bundles == "$ca" ]] || fail "the caBundle is not the CA of the Secret bgpcomm-webhook-cert"
  run bash -c "'$HELM' get manifest bgpcomm -n $NS | grep -c caBundle"
  assert_output 0
  # TLS to the Service from a node, verified against that caBundle only, under the name
  # the apiserver uses.
  node=$(workers | head -n1)
  ip=$(k -n "$NS" get service bgpcomm-webhook -o jsonpath='{.spec.clusterIP}')
  base64 -d <<<"$bundles" | "$KIND_E2E/kind.sh" docker exec -i "$node" sh -c 'cat >/etc/bgpcomm-e2e-ca.crt'
  run "$KIND_E2E/kind.sh" docker exec "$node" curl -sS --max-time 5 --cacert /etc/bgpcomm-e2e-ca.crt \
    --resolve "bgpcomm-webhook.$NS.svc:443:$ip" "https://bgpcomm-webhook.$NS.svc/healthz"
  assert_success
  assert_output --partial ok
}

@test "a bad BGPAdvertisement is denied by kubectl apply with the webhook's message" {
  k apply -f "$E2E_WALKTHROUGH/01-community.yaml" -f "$E2E_WALKTHROUGH/02-ip-pool.yaml" >/dev/null
  # The good one first: the webhook admits what it should.
  run k apply -f "$E2E_WALKTHROUGH/03-bgp-advertisement.yaml"
  assert_success
  run resolution_of primary-advert
  assert_output '{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}'
  run bash -c "sed 's/- primary-route/- primary-rout/' '$E2E_WALKTHROUGH/03-bgp-advertisement.yaml' | '$KUBECTL' apply -f -"
  assert_denied
  assert_output --partial 'admission webhook "validate-bgpadvertisement.bgpcomm.io" denied the request'
  assert_output --partial 'spec.communities[0]: "primary-rout" is not a community value, well-known name or alias defined in namespace metallb-system; did you mean "primary-route"?'
}

# The pod holding the resolver's Lease (its identity is HOSTNAME_PID).
leader() {
  k -n "$NS" get lease bgpcomm-webhook-resolver -o jsonpath='{.spec.holderIdentity}' 2>/dev/null |
    sed 's/_[0-9]*$//'
}
has_leader() { [[ -n $(leader) ]]; }
new_leader() { local l; l=$(leader); [[ -n $l && $l != "$1" ]]; }
lines_at_least() { [[ $(grep -c . "$1" 2>/dev/null) -ge $2 ]]; }

@test "deleting the webhook leader pod while 200 advertisements are applied: nothing bad is admitted, every admitted one is resolved" {
  clean_ns "$NS"
  k apply -f "$E2E_WALKTHROUGH/01-community.yaml" -f "$E2E_WALKTHROUGH/02-ip-pool.yaml" >/dev/null
  local dir=$BATS_TEST_TMPDIR i old
  # 200 advertisements: every fourth is bad (a misspelt alias or an out-of-range value).
  for (( i = 0; i < 200; i++ )); do
    local communities='[primary-route, region-us-east]'
    (( i % 4 == 1 )) && communities='[primary-rout]'
    (( i % 4 == 3 )) && communities='["64512:70000"]'
    printf 'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: churn-%03d\n  namespace: %s\nspec:\n  ipAddressPools: [production-pool]\n  communities: %s\n' \
      "$i" "$NS" "$communities" >"$dir/churn-$i.yaml"
  done
  eventually_ms 30000 has_leader || fail "no resolver leader"
  old=$(leader)
  [[ -n $old ]] || fail "no resolver leader"
  # Applied one by one (each its own admission), the leader deleted a quarter of the way in.
  (
    for (( i = 0; i < 200; i++ )); do
      "$KUBECTL" apply -f "$dir/churn-$i.yaml" >>"$dir/apply.log" 2>&1 || true
    done
  ) &
  local applier=$!
  eventually_ms 60000 lines_at_least "$dir/apply.log" 50
  k -n "$NS" delete pod "$old" --wait=false >/dev/null
  wait "$applier"
  echo "# $(grep -c 'created' "$dir/apply.log") created, $(grep -c 'denied the request' "$dir/apply.log") denied, $(grep -c 'failed calling webhook' "$dir/apply.log") refused while no webhook answered" >&3

  # Nothing bad is stored.
  run k get bgpadvertisements -n "$NS" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.communities}{"\n"}{end}'
  refute_output --partial 'primary-rout"'
  refute_output --partial '64512:70000'
  # Every bad one that was judged was denied with the webhook's message.
  [[ $(grep -c 'created' "$dir/apply.log") -ge 1 ]] || fail "nothing was admitted"

  # A new leader took over: an alias change is re-resolved into every admitted one.
  k -n "$NS" rollout status deployment/bgpcomm-webhook --timeout=120s >/dev/null
  eventually_ms 60000 new_leader "$old" || fail "no new leader after $old was deleted"
  k patch community my-communities -n "$NS" --type=json \
    -p '[{"op":"replace","path":"/spec/communities/0/value","value":"64512:105"}]' >/dev/null
  all_resolved() {
    local stored
    stored=$(k get bgpadvertisements -n "$NS" -o jsonpath='{range .items[*]}{.metadata.annotations.bgpcomm\.io/resolved-communities}{"\n"}{end}')
    [[ -n $stored ]] || return 1
    ! grep -v -x -F '{"from":["primary-route","region-us-east"],"communities":["64512:105","large:64512:1:100"]}' <<<"$stored" | grep -q .
  }
  eventually_ms 60000 all_resolved || fail "not every admitted advertisement was re-resolved"
  echo "# $(k get bgpadvertisements -n "$NS" -o name | wc -l) stored advertisements, all resolved (64512:105)" >&3
}
