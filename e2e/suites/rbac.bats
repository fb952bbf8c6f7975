#!/usr/bin/env bats
# The webhook runs with its ServiceAccount's least-privilege RBAC
# (e2e/cluster/manifests/webhook-rbac.yaml, mirroring the chart): it reads the four
# metallb.io kinds, patches advertisements and manages its Lease and Events in
# metallb-system, and cannot read Secrets.

load helpers

SA=system:serviceaccount:metallb-system:bgpcomm-webhook

setup_file() {
  require_cluster
}

can_i() { k auth can-i "$@" --as="$SA"; }

@test "the ServiceAccount cannot read Secrets (auth can-i)" {
  run can_i get secrets -n metallb-system
  assert_failure
  assert_output no
  run can_i list secrets --all-namespaces
  assert_output no
}

@test "a real GET of a Secret with the ServiceAccount's token is 403" {
  local token server ca
  token=$(k create token bgpcomm-webhook -n metallb-system --duration=10m)
  server=$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
  k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
    base64 -d >"$BATS_TEST_TMPDIR/ca.crt"
  k create secret generic e2e-rbac-probe -n metallb-system --from-literal=password=s3cret \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  run curl -sS --cacert "$BATS_TEST_TMPDIR/ca.crt" -H "Authorization: Bearer $token" \
    -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' \
    "$server/api/v1/namespaces/metallb-system/secrets/e2e-rbac-probe"
  assert_output 403
  run cat "$BATS_TEST_TMPDIR/body"
  assert_output --partial 'User \"system:serviceaccount:metallb-system:bgpcomm-webhook\" cannot get resource \"secrets\"'
  refute_output --partial 's3cret'
  run curl -sS --cacert "$BATS_TEST_TMPDIR/ca.crt" -H "Authorization: Bearer $token" \
    -o /dev/null -w '%{http_code}' "$server/api/v1/namespaces/metallb-system/secrets"
  assert_output 403
  # The same token does read what the webhook needs.
  run curl -sS --cacert "$BATS_TEST_TMPDIR/ca.crt" -H "Authorization: Bearer $token" \
    -o /dev/null -w '%{http_code}' "$server/apis/metallb.io/v1beta1/namespaces/metallb-system/communities"
  assert_output 200
}

@test "it has what the webhook needs" {
  local r
  for r in communities bgpadvertisements ipaddresspools bgppeers bfdprofiles; do
    for verb in get list watch; do
      run can_i "$verb" "$r.metallb.io" -n metallb-system
      assert_output yes
    done
  done
  run can_i patch bgpadvertisements.metallb.io -n metallb-system
  assert_output yes
  for verb in get create update; do
    run can_i "$verb" leases.coordination.k8s.io -n metallb-system
    assert_output yes
  done
  run can_i create events -n metallb-system
  assert_output yes
}

@test "and nothing more" {
  run can_i patch bgpadvertisements.metallb.io -n default
  assert_output no
  run can_i create communities.metallb.io -n metallb-system
  assert_output no
  run can_i delete bgpadvertisements.metallb.io -n metallb-system
  assert_output no
  run can_i update bgpadvertisements.metallb.io -n metallb-system
  assert_output no
  run can_i delete leases.coordination.k8s.io -n metallb-system
  assert_output no
  run can_i get configmaps -n metallb-system
  assert_output no
  run can_i list pods --all-namespaces
  assert_output no
}

@test "the running webhook uses the ServiceAccount token, not admin credentials" {
  run provider_webhook_credentials
  assert_success
  case $BGPCOMM_E2E_PROVIDER in
    local)  # its kubeconfig: one token, no client certificate
      assert_line "client-certificates=0"
      assert_line "tokens=1"
      ;;
    kind)  # every pod runs as the ServiceAccount, with in-cluster credentials only
      [[ -n $output ]] || fail "no webhook pod"
      local line
      while read -r line; do
        [[ $line == "sa=bgpcomm-webhook args="* ]] || fail "pod not run as bgpcomm-webhook: $line"
        [[ $line != *--kubeconfig* ]] || fail "pod given a kubeconfig: $line"
      done <<<"$output"
      ;;
    *) fail "no check for provider $BGPCOMM_E2E_PROVIDER" ;;
  esac
}
