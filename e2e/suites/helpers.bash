# Loaded by every suite (`load helpers`). The suites are provider-agnostic: they talk
# to the cluster in $KUBECONFIG with kubectl and reach the webhook's process only
# through the provider interface below.
#
# Environment:
#   KUBECONFIG             the cluster (default: the local control plane's,
#                          $BGPCOMM_STATE_DIR/kubeconfig, i.e. .bgpcomm/kubeconfig)
#   BGPCOMM_E2E_PROVIDER   local (default; e2e/cluster/) or kind (e2e/kind/)
#   KUBECTL                kubectl binary (default: e2e/tools/paths.sh's)
#
# Provider interface (e2e/suites/provider/<name>.bash):
#   provider_webhook_stop              the webhook stops answering
#   provider_webhook_start [ARGS...]   it runs again (with extra flags ARGS, or its
#                                      defaults) and is enforced when this returns
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

# Suites live two levels below the repository (e2e/suites/, e2e/security/, e2e/faults/).
E2E_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
E2E_WALKTHROUGH=$E2E_REPO/examples/walkthrough
: "${BGPCOMM_STATE_DIR:=$E2E_REPO/.bgpcomm}"
export BGPCOMM_STATE_DIR
: "${KUBECONFIG:=$BGPCOMM_STATE_DIR/kubeconfig}"
export KUBECONFIG
: "${BGPCOMM_E2E_PROVIDER:=local}"
if [[ -z ${KUBECTL:-} ]]; then
  KUBECTL=$(command -v kubectl || echo /usr/bin/kubectl)
fi
export KUBECTL
# shellcheck source=/dev/null
. "$E2E_REPO/e2e/suites/provider/$BGPCOMM_E2E_PROVIDER.bash"

NS=metallb-system
ANNOTATION=bgpcomm.io/resolved-communities
# The jsonpath of the annotation (dots in the key escaped).
ANNOTATION_PATH='{.metadata.annotations.bgpcomm\.io/resolved-communities}'

k() { "$KUBECTL" "$@"; }

# Fails the whole file early with a clear message when there is no cluster.
require_cluster() {
  [[ -f $KUBECONFIG ]] ||
    fail "no cluster: $KUBECONFIG is missing (run e2e/cluster/up.sh, or set KUBECONFIG)"
  k get --raw /readyz >/dev/null 2>&1 || fail "the cluster in $KUBECONFIG is not ready"
}

# A new namespace named after the suite; the local cluster has no
# controller-manager, so namespaces are never deleted: names are unique per run.
fresh_ns() {
  local name
  name="e2e-$(basename "$BATS_TEST_FILENAME" .bats)-$(date +%s%N | tail -c 7)-$RANDOM"
  name=${name:0:63}
  k create namespace "$name" >/dev/null
  echo "$name"
}

# A fresh namespace for a suite that runs its own webhook there: the cluster's webhook,
# which denies metallb.io objects outside metallb-system as MetalLB does, skips namespaces
# with this label (e2e/cluster/up.sh's namespaceSelector).
fresh_ns_own_webhook() {
  local name
  name=$(fresh_ns)
  k label namespace "$name" bgpcomm.io/e2e-own-webhook=true >/dev/null
  echo "$name"
}

# Deletes our objects from namespace $1 (default metallb-system) in an order the
# webhook allows: advertisements before the Communities they reference.
clean_ns() {
  local ns=${1:-$NS}
  local r
  # One DELETE of the collection each (kubectl delete --all deletes one by one).
  for r in v1beta1/bgpadvertisements v1beta1/communities v1beta1/ipaddresspools v1beta2/bgppeers \
    v1beta1/bfdprofiles; do
    k delete --raw "/apis/metallb.io/${r%/*}/namespaces/$ns/${r#*/}" >/dev/null 2>&1 || true
  done
  local left
  left=$(k get bgpadvertisements,communities,ipaddresspools,bgppeers,bfdprofiles -n "$ns" -o name \
    2>/dev/null)
  [[ -z $left ]] || fail "could not clean namespace $ns: $left"
}

# Prints a file with every `namespace: metallb-system` replaced by namespace $2.
in_ns() { sed "s/namespace: metallb-system/namespace: $2/" "$1"; }

# The stored annotation of BGPAdvertisement $1 in namespace $2.
resolution_of() {
  k get bgpadvertisement "$1" -n "${2:-$NS}" -o jsonpath="$ANNOTATION_PATH"
}

# Waits until CMD... succeeds, at most $1 milliseconds.
eventually_ms() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000 )); shift
  until "$@"; do
    (( $(date +%s%N) < deadline )) || return 1
    sleep 0.1
  done
}

# The denial kubectl prints for a webhook (not an unreachable one).
assert_denied() {
  assert_failure
  assert_output --partial 'admission webhook "'
  assert_output --partial 'denied the request'
  refute_output --partial 'failed calling webhook'
}
