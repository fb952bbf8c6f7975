#!/usr/bin/env bats
# The chart's RBAC grants each component what it needs and nothing else. The RBAC
# objects of `helm template` (ServiceAccounts, Roles, ClusterRoles and their bindings;
# release bgpcomm-rbac-e2e in a fresh namespace that is also the metallb namespace)
# are applied to the local control plane and asked what
# `kubectl auth can-i --as=system:serviceaccount:NS:NAME` asks (SubjectAccessReviews,
# one kubectl for a whole list).
#
# The lists below are the contract; update them when a component's needs change (the
# speaker's Kubernetes mode adds its reads here).

load ../suites/helpers

RELEASE=bgpcomm-rbac-e2e
# The one Secret a BGPPeer names (speaker.passwordSecrets); the speaker may read it and
# nothing else in the namespace, which also holds the webhook's serving key and Helm's
# release Secrets.
PEER_SECRET=bgp-password-router-a

# "VERB RESOURCE[:SUBRESOURCE] [scope]" lines (RESOURCE may be TYPE/NAME); scope: "ns" (the release namespace, default),
# "all" (--all-namespaces), "cluster" (cluster-scoped), or another namespace name.
WEBHOOK_ALLOWED=(
  "get communities.metallb.io" "list communities.metallb.io" "watch communities.metallb.io"
  "get bgpadvertisements.metallb.io" "list bgpadvertisements.metallb.io all"
  "watch bgpadvertisements.metallb.io" "list ipaddresspools.metallb.io all"
  "watch bgppeers.metallb.io" "list communities.metallb.io all"
  "patch bgpadvertisements.metallb.io"
  # Services' held addresses, for the IPAddressPool warning (read-only).
  "list services all" "watch services all"
  "get leases.coordination.k8s.io" "create leases.coordination.k8s.io"
  "update leases.coordination.k8s.io"
  "create events" "patch events" "create events.events.k8s.io"
  # --cert-mode=self: its own Secret and its own two webhook configurations.
  "get secrets/$RELEASE-webhook-cert" "update secrets/$RELEASE-webhook-cert" "create secrets"
  "patch validatingwebhookconfigurations.admissionregistration.k8s.io/$RELEASE-webhook cluster"
  "update mutatingwebhookconfigurations.admissionregistration.k8s.io/$RELEASE-webhook cluster"
  # The allocator (allocator.enabled, the default): every LoadBalancer Service's status,
  # the namespaces' labels, Events beside the Services, the pools' status counts.
  "list services all" "watch services all" "get services default"
  "update services:status default" "update services:status all"
  "list namespaces cluster" "watch namespaces cluster"
  "create events default" "patch events default"
  "update ipaddresspools.metallb.io:status"
  # The allocator's ConfigurationState (issue 18): created once, its status patched.
  "create configurationstates.metallb.io"
  "patch configurationstates.metallb.io/allocator:status"
)
WEBHOOK_DENIED=(
  "get secrets" "list secrets" "watch secrets" "get secrets/other-secret"
  "update secrets/other-secret" "delete secrets/$RELEASE-webhook-cert"
  "get secrets kube-system" "create secrets default" "list secrets all"
  "create communities.metallb.io" "update communities.metallb.io"
  "delete communities.metallb.io" "delete bgpadvertisements.metallb.io"
  "update bgpadvertisements.metallb.io" "patch bgpadvertisements.metallb.io default"
  "create bgppeers.metallb.io" "delete leases.coordination.k8s.io"
  "patch validatingwebhookconfigurations.admissionregistration.k8s.io/other cluster"
  "delete validatingwebhookconfigurations.admissionregistration.k8s.io/$RELEASE-webhook cluster"
  "create validatingwebhookconfigurations.admissionregistration.k8s.io cluster"
  "delete customresourcedefinitions.apiextensions.k8s.io cluster"
  "update customresourcedefinitions.apiextensions.k8s.io cluster"
  "create pods" "create pods:exec" "create deployments.apps" "get configmaps"
  "patch nodes cluster" "get nodes cluster" "create serviceaccounts:token"
  "escalate clusterroles.rbac.authorization.k8s.io cluster"
  "bind clusterroles.rbac.authorization.k8s.io cluster"
  "create clusterrolebindings.rbac.authorization.k8s.io cluster"
  "create rolebindings.rbac.authorization.k8s.io" "impersonate users cluster"
  "impersonate serviceaccounts"
  # The allocator writes a Service's status, never its spec, and no pool's spec.
  "create services default" "update services default" "patch services default"
  "delete services default" "patch services:status default"
  "update ipaddresspools.metallb.io" "patch ipaddresspools.metallb.io"
  "update ipaddresspools.metallb.io:status default"
  "create namespaces cluster" "update namespaces cluster" "delete namespaces cluster"
  "delete events default"
  # Only the allocator's own ConfigurationState, only its status, never deleted.
  "patch configurationstates.metallb.io/speaker-node-a:status"
  "update configurationstates.metallb.io" "delete configurationstates.metallb.io"
  "create configurationstates.metallb.io default"
  "create bgpsessionstates.bgpcomm.io" "create servicebgpstatuses.metallb.io"
)
SPEAKER_ALLOWED=(
  "get bgppeers.metallb.io" "list bgppeers.metallb.io" "watch bgppeers.metallb.io"
  "list bgpadvertisements.metallb.io" "watch bgpadvertisements.metallb.io"
  "list ipaddresspools.metallb.io" "watch ipaddresspools.metallb.io"
  # BGPPeer bfdProfile: the BFD timers of the peer's session.
  "list bfdprofiles.metallb.io" "watch bfdprofiles.metallb.io"
  "list services all" "watch services all" "get services default"
  "list endpointslices.discovery.k8s.io all" "watch endpointslices.discovery.k8s.io all"
  # Its own Node, watched by name (a field-selected list/watch needs list and watch).
  "get nodes cluster" "list nodes cluster" "watch nodes cluster"
  # BGPPeer passwordSecret: read-only, by name, the names in speaker.passwordSecrets
  # only (each watched by a metadata.name field selector, so that a rotated password
  # lands within seconds).
  "get secrets/$PEER_SECRET" "list secrets/$PEER_SECRET" "watch secrets/$PEER_SECRET"
  "create events" "patch events"
  # Status objects (issue 18, speaker.status.enabled, the default): BGPSessionStates
  # listed once at start, created, their status patched, deleted; its ConfigurationState
  # created and its status patched, and deleted when an earlier speaker Pod owns it (it
  # is made anew with this Pod as owner: a status PATCH cannot change ownerReferences,
  # and the garbage collector would delete it with the old Pod). Nothing more.
  "list bgpsessionstates.bgpcomm.io" "create bgpsessionstates.bgpcomm.io"
  "delete bgpsessionstates.bgpcomm.io" "patch bgpsessionstates.bgpcomm.io:status"
  "create configurationstates.metallb.io" "patch configurationstates.metallb.io:status"
  "delete configurationstates.metallb.io"
)
SPEAKER_DENIED=(
  # No other Secret of its namespace: not the webhook's serving key, not Helm's release
  # Secrets, not another peer's, and no list or watch of them all.
  "get secrets" "list secrets" "watch secrets"
  "get secrets/$RELEASE-webhook-cert" "list secrets/$RELEASE-webhook-cert"
  "watch secrets/$RELEASE-webhook-cert"
  "get secrets/sh.helm.release.v1.$RELEASE.v1" "get secrets/sh.helm.release.v1.$RELEASE.v2"
  "get secrets/bgp-password-router-b" "update secrets/$PEER_SECRET"
  "delete secrets/$PEER_SECRET" "get secrets/$PEER_SECRET default"
  "get secrets kube-system" "get secrets default" "watch secrets default"
  "list secrets all" "create secrets" "update secrets" "delete secrets"
  "create bgppeers.metallb.io" "update bgppeers.metallb.io" "delete bgppeers.metallb.io"
  "patch bgpadvertisements.metallb.io" "update communities.metallb.io"
  "update bfdprofiles.metallb.io" "delete bfdprofiles.metallb.io"
  "create services default" "update services default" "delete services default"
  "patch services:status default"
  "create endpointslices.discovery.k8s.io default"
  "patch nodes cluster" "update nodes cluster" "delete nodes cluster"
  # The speaker reads the stored resolution, never the Communities themselves.
  "list communities.metallb.io" "watch communities.metallb.io"
  "create pods" "create pods:exec" "get configmaps" "get leases.coordination.k8s.io"
  "delete customresourcedefinitions.apiextensions.k8s.io cluster"
  "patch validatingwebhookconfigurations.admissionregistration.k8s.io cluster"
  "escalate clusterroles.rbac.authorization.k8s.io cluster"
  "bind clusterroles.rbac.authorization.k8s.io cluster"
  "create clusterrolebindings.rbac.authorization.k8s.io cluster"
  "create serviceaccounts:token" "impersonate users cluster"
  # Status objects: no other verb, no other namespace; ServiceBGPStatus only with
  # speaker.status.serviceBGPStatus (off by default).
  "update bgpsessionstates.bgpcomm.io" "patch bgpsessionstates.bgpcomm.io"
  "watch bgpsessionstates.bgpcomm.io" "update bgpsessionstates.bgpcomm.io:status"
  "create bgpsessionstates.bgpcomm.io default" "list bgpsessionstates.bgpcomm.io all"
  "update configurationstates.metallb.io" "delete configurationstates.metallb.io default"
  "patch configurationstates.metallb.io" "update configurationstates.metallb.io:status"
  "create servicebgpstatuses.metallb.io" "patch servicebgpstatuses.metallb.io:status"
  "delete servicebgpstatuses.metallb.io"
)

setup_file() {
  require_cluster
  . "$E2E_REPO/e2e/tools/paths.sh"
  TEST_NS=$(fresh_ns)
  export TEST_NS
  # Only the RBAC kinds: the chart's webhook configurations would intercept every suite.
  "$HELM" template "$RELEASE" "$E2E_REPO/charts/bgpcomm" --namespace "$TEST_NS" \
    --set "speaker.passwordSecrets={$PEER_SECRET}" |
    awk 'BEGIN { RS = "\n---\n" } /\nkind: (ServiceAccount|Role|ClusterRole|RoleBinding|ClusterRoleBinding)\n/ { printf "---\n%s\n", $0 }' \
    >"$BATS_FILE_TMPDIR/rbac.yaml"
  k apply -f "$BATS_FILE_TMPDIR/rbac.yaml" >"$BATS_FILE_TMPDIR/applied"
}

teardown_file() {
  # Cluster-scoped objects outlive the namespace (nothing deletes namespaces here).
  [[ -f $BATS_FILE_TMPDIR/rbac.yaml ]] &&
    k delete -f "$BATS_FILE_TMPDIR/rbac.yaml" --ignore-not-found >/dev/null 2>&1 || true
}

# check SA WANT LINE...: every line's answer is WANT (yes/no); prints the lines that
# differ and fails when any does. One SubjectAccessReview per line (the question
# `kubectl auth can-i --as=system:serviceaccount:NS:SA` asks, with the groups a token of
# the ServiceAccount carries), all created by one kubectl.
check() {
  local sa=$1 want=$2 line verb resource scope name sub group ns i=0 answers wrong=()
  shift 2
  local user=system:serviceaccount:$TEST_NS:$sa
  for line in "$@"; do
    read -r verb resource scope <<<"$line"
    sub=; name=; group=
    if [[ $resource == *:* ]]; then sub=${resource#*:}; resource=${resource%%:*}; fi
    if [[ $resource == */* ]]; then name=${resource#*/}; resource=${resource%%/*}; fi
    if [[ $resource == *.* ]]; then group=${resource#*.}; resource=${resource%%.*}; fi
    case ${scope:-ns} in
      ns) ns=$TEST_NS ;;
      all | cluster) ns= ;;
      *) ns=$scope ;;
    esac
    cat <<YAML
---
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: "$user"
  groups: [system:serviceaccounts, "system:serviceaccounts:$TEST_NS", system:authenticated]
  resourceAttributes: {namespace: "$ns", verb: "$verb", group: "$group", resource: "$resource",
                       subresource: "$sub", name: "$name"}
YAML
  done >"$BATS_TEST_TMPDIR/reviews.yaml"
  answers=$(k create -f "$BATS_TEST_TMPDIR/reviews.yaml" -o jsonpath='{.status.allowed}{"\n"}')
  [[ $(wc -l <<<"$answers") == $# ]] || { echo "expected $# answers, got: $answers"; return 1; }
  for line in "$@"; do
    i=$((i + 1))
    local got; got=$(sed -n "${i}p" <<<"$answers")
    [[ $got == true ]] && got=yes || got=no
    [[ $got == "$want" ]] || wrong+=("$line: $got")
  done
  if ((${#wrong[@]})); then
    printf '%s: expected %s, got otherwise for:\n' "$sa" "$want"
    printf '  %s\n' "${wrong[@]}"
    return 1
  fi
}

@test "the chart's RBAC objects are the ones this suite checks" {
  run cat "$BATS_FILE_TMPDIR/applied"
  assert_output --partial "serviceaccount/$RELEASE-webhook"
  assert_output --partial "serviceaccount/$RELEASE-speaker"
  assert_output --partial "clusterrole.rbac.authorization.k8s.io/$RELEASE-webhook"
  assert_output --partial "clusterrole.rbac.authorization.k8s.io/$RELEASE-speaker"
  assert_output --partial "role.rbac.authorization.k8s.io/$RELEASE-webhook-cert"
}

@test "the webhook's ServiceAccount can do what it needs" {
  check "$RELEASE-webhook" yes "${WEBHOOK_ALLOWED[@]}"
}

@test "the webhook's ServiceAccount cannot do anything else" {
  check "$RELEASE-webhook" no "${WEBHOOK_DENIED[@]}"
}

@test "the speaker's ServiceAccount can do what it needs" {
  check "$RELEASE-speaker" yes "${SPEAKER_ALLOWED[@]}"
}

@test "the speaker's ServiceAccount cannot do anything else" {
  check "$RELEASE-speaker" no "${SPEAKER_DENIED[@]}"
}

@test "with the default values the speaker may read no Secret at all" {
  # An empty speaker.passwordSecrets must not render an empty resourceNames (which
  # would grant every Secret): the Role has no rule for Secrets.
  "$HELM" template "$RELEASE" "$E2E_REPO/charts/bgpcomm" --namespace "$TEST_NS" |
    awk 'BEGIN { RS = "\n---\n" } /\nkind: Role\n/ && /name: '"$RELEASE"'-speaker\n/ { print }' \
    >"$BATS_TEST_TMPDIR/speaker-role.yaml"
  run cat "$BATS_TEST_TMPDIR/speaker-role.yaml"
  assert_output --partial "kind: Role"
  assert_output --partial "bgppeers"
  refute_output --partial '"secrets"'
  refute_output --partial "resourceNames"
}

@test "neither ServiceAccount holds a wildcard rule" {
  local sa
  for sa in "$RELEASE-webhook" "$RELEASE-speaker"; do
    run k auth can-i --list -n "$TEST_NS" --as="system:serviceaccount:$TEST_NS:$sa"
    assert_success
    # Columns: Resources, Non-Resource URLs, Resource Names, Verbs.
    refute_output --regexp '^\*\.\*|\[\*\]'
  done
}
