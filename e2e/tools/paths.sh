# Source me: exports the paths of the pinned end-to-end tools built by install.sh.
#   . e2e/tools/paths.sh   ->  KUBE_APISERVER, ETCD, HELM, KUBECTL, KIND, COREDNS, KUBE_SCORE,
#                              KUBE_BIN_DIR (every Kubernetes binary; + BGPCOMM_TOOLS_CACHE),
#                              CERT_MANAGER_CONTROLLER, CERT_MANAGER_CAINJECTOR and
#                              CERT_MANAGER_CRDS (a directory of cert-manager's CRDs)
# Returns non-zero (and says why on stderr) when a tool is missing; run
# e2e/tools/install.sh first. Changes nothing else in the caller's shell.
__bgpcomm_tools_paths() {
  local here cache missing=0 k KUBE_VERSION ETCD_VERSION HELM_VERSION KIND_VERSION \
    COREDNS_VERSION KUBE_SCORE_VERSION KUBE_COMMANDS CERT_MANAGER_VERSION
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  . "$here/versions.sh"
  cache=${BGPCOMM_CACHE:-/var/cache/bgpcomm}/tools
  export BGPCOMM_TOOLS_CACHE=$cache
  export KUBE_BIN_DIR="$cache/kubernetes-$KUBE_VERSION"
  export KUBE_APISERVER="$KUBE_BIN_DIR/kube-apiserver"
  export ETCD="$cache/etcd-$ETCD_VERSION/etcd"
  export HELM="$cache/helm-$HELM_VERSION/helm"
  export KIND="$cache/kind-$KIND_VERSION/kind"
  export COREDNS="$cache/coredns-$COREDNS_VERSION/coredns"
  export KUBE_SCORE="$cache/kube-score-$KUBE_SCORE_VERSION/kube-score"
  export CERT_MANAGER_CONTROLLER="$cache/cert-manager-$CERT_MANAGER_VERSION/cert-manager-controller"
  export CERT_MANAGER_CAINJECTOR="$cache/cert-manager-$CERT_MANAGER_VERSION/cert-manager-cainjector"
  export CERT_MANAGER_CRDS="$cache/cert-manager-$CERT_MANAGER_VERSION/crds"
  # kubectl: the machine's (/usr/bin/kubectl) unless KUBECTL is already set;
  # else the one built with kube-apiserver.
  if [[ -z ${KUBECTL:-} ]]; then
    if [[ -x /usr/bin/kubectl ]]; then KUBECTL=/usr/bin/kubectl
    elif k=$(command -v kubectl 2>/dev/null); then KUBECTL=$k
    else KUBECTL="$KUBE_BIN_DIR/kubectl"; fi
  fi
  export KUBECTL
  for k in "$KUBE_APISERVER" "$ETCD" "$HELM" "$KUBECTL" "$KIND" "$COREDNS" "$KUBE_SCORE" \
    "$CERT_MANAGER_CONTROLLER" "$CERT_MANAGER_CAINJECTOR"; do
    if [[ ! -x $k ]]; then
      echo "e2e/tools/paths.sh: missing $k (run e2e/tools/install.sh)" >&2
      missing=1
    fi
  done
  if [[ $missing == 0 ]] && ! "$KUBECTL" version --client >/dev/null 2>&1; then
    echo "e2e/tools/paths.sh: $KUBECTL does not run" >&2
    missing=1
  fi
  return $missing
}
__bgpcomm_tools_paths
__bgpcomm_tools_rc=$?
unset -f __bgpcomm_tools_paths
return $__bgpcomm_tools_rc 2>/dev/null || exit $__bgpcomm_tools_rc
