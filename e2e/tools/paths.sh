# Source me: exports the paths of the pinned end-to-end tools built by install.sh.
#   . e2e/tools/paths.sh   ->  KUBE_APISERVER, ETCD, HELM, KUBECTL (+ BGPCOMM_TOOLS_CACHE)
# Returns non-zero (and says why on stderr) when a tool is missing; run
# e2e/tools/install.sh first. Changes nothing else in the caller's shell.
__bgpcomm_tools_paths() {
  local here cache missing=0 k KUBE_VERSION ETCD_VERSION HELM_VERSION
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  . "$here/versions.sh"
  cache=${BGPCOMM_CACHE:-/var/cache/bgpcomm}/tools
  export BGPCOMM_TOOLS_CACHE=$cache
  export KUBE_APISERVER="$cache/kube-apiserver-$KUBE_VERSION/kube-apiserver"
  export ETCD="$cache/etcd-$ETCD_VERSION/etcd"
  export HELM="$cache/helm-$HELM_VERSION/helm"
  # kubectl: the machine's (/usr/bin/kubectl) unless KUBECTL is already set;
  # else one built by `install.sh kubectl` at the apiserver's version.
  if [[ -z ${KUBECTL:-} ]]; then
    if [[ -x /usr/bin/kubectl ]]; then KUBECTL=/usr/bin/kubectl
    elif k=$(command -v kubectl 2>/dev/null); then KUBECTL=$k
    else KUBECTL="$cache/kubectl-$KUBE_VERSION/kubectl"; fi
  fi
  export KUBECTL
  for k in "$KUBE_APISERVER" "$ETCD" "$HELM" "$KUBECTL"; do
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
