#!/usr/bin/env bats
# helm upgrade with a changed value and helm uninstall, on the real pods. Runs last
# (e2e/kind/run.sh): it removes the release, and installs it again afterwards with the
# values it had, so that the cluster is left as up.sh made it.

load ../suites/helpers
load suite

helm_() { "$HELM" --kubeconfig "$KUBECONFIG" "$@"; }
webhook_replicas() { k -n "$NS" get deployment bgpcomm-webhook -o jsonpath='{.spec.replicas}'; }

setup_file() {
  require_cluster
  reset_kind_objects
  helm_ get values bgpcomm -n "$NS" -o yaml >"$BATS_FILE_TMPDIR/values.yaml"
}

teardown_file() {
  reset_kind_objects
  helm_ status bgpcomm -n "$NS" >/dev/null 2>&1 ||
    helm_ install bgpcomm "$E2E_REPO/charts/bgpcomm" -n "$NS" -f "$BATS_FILE_TMPDIR/values.yaml" \
      --wait --timeout 5m >/dev/null
}

@test "helm upgrade with a changed value rolls the webhook and keeps admission working" {
  local before
  before=$(k -n "$NS" get deployment bgpcomm-webhook -o jsonpath='{.metadata.generation}')
  run helm_ upgrade bgpcomm "$E2E_REPO/charts/bgpcomm" -n "$NS" --reuse-values \
    --set webhook.unresolvedAliases=warn --wait --timeout 5m
  assert_success
  # --wait returns with the new pods ready while the old ones still serve their
  # --shutdown-delay with the previous flags.
  provider_wait_old_webhook_pods_gone "$(webhook_replicas)"
  run k -n "$NS" get deployment bgpcomm-webhook -o jsonpath='{.spec.template.spec.containers[0].args}'
  assert_output --partial '--unresolved-aliases=warn'
  [[ $(k -n "$NS" get deployment bgpcomm-webhook -o jsonpath='{.metadata.generation}') -gt $before ]]
  # The injected caBundle survived the upgrade (Helm's three-way merge) and the new
  # pods judge: a dangling alias is now admitted with a warning, a bad value still denied.
  provider_wait_enforced
  run k apply -f "$E2E_WALKTHROUGH/04-bgp-advertisement-backup.yaml"
  assert_success
  assert_output --partial 'Warning: spec.communities[0]: "backup-route" is not a community value'
  run bash -c "sed 's/- backup-route/- 64512:70000/' '$E2E_WALKTHROUGH/04-bgp-advertisement-backup.yaml' | '$KUBECTL' apply -f -"
  assert_denied
  k delete -f "$E2E_WALKTHROUGH/04-bgp-advertisement-backup.yaml" >/dev/null

  run helm_ upgrade bgpcomm "$E2E_REPO/charts/bgpcomm" -n "$NS" --reuse-values \
    --set webhook.unresolvedAliases=reject --wait --timeout 5m
  assert_success
  provider_wait_old_webhook_pods_gone "$(webhook_replicas)"
  provider_wait_enforced
  run k apply -f "$E2E_WALKTHROUGH/04-bgp-advertisement-backup.yaml"
  assert_denied
}

# Everything of the release in the cluster, CRDs aside: namespaced kinds in every namespace
# and the cluster-scoped ones named bgpcomm* (the nodes' own Leases are the cluster's).
bgpcomm_objects() {
  k get deployments,daemonsets,replicasets,pods,services,endpointslices,serviceaccounts,roles,rolebindings,secrets,configmaps,leases,poddisruptionbudgets \
    -A -o jsonpath='{range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{"\n"}{end}' |
    grep -E '/bgpcomm' | grep -v '^Lease/kube-node-lease/' || true
  k get clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations \
    -o jsonpath='{range .items[*]}{.kind}/{.metadata.name}{"\n"}{end}' | grep -E '/bgpcomm' || true
}

@test "helm uninstall leaves no bgpcomm object but the CRDs" {
  # Before: the release's objects are there (what the check below looks for exists).
  run bgpcomm_objects
  assert_output --partial 'Deployment/metallb-system/bgpcomm-webhook'
  assert_output --partial 'Secret/metallb-system/bgpcomm-webhook-cert'
  assert_output --partial 'Lease/metallb-system/bgpcomm-webhook-resolver'
  assert_output --partial 'ValidatingWebhookConfiguration/bgpcomm-webhook'
  run helm_ uninstall bgpcomm -n "$NS" --wait --timeout 5m
  assert_success
  k -n "$NS" wait --for=delete pod -l app.kubernetes.io/part-of=bgpcomm --timeout=120s >/dev/null 2>&1 || true
  no_pods() { [[ -z $(k get pods -n "$NS" -l app.kubernetes.io/part-of=bgpcomm -o name) ]]; }
  eventually_ms 60000 no_pods || fail "bgpcomm pods remain"
  run bgpcomm_objects
  assert_output ''
  # The CRDs stay, as Helm leaves crds/ alone.
  run k get crd communities.metallb.io bgpadvertisements.metallb.io ipaddresspools.metallb.io bgppeers.metallb.io -o name
  assert_success
  [[ $(grep -c . <<<"$output") == 4 ]]
}
