# Shared by e2e/kind/*.sh (sourced, not run): names, addresses, the private Docker engine
# and the step runner that times each slow step and names its log on failure.
#
# State: $BGPCOMM_KIND_STATE (default <repo>/.bgpcomm/kind, git-ignored):
#   kubeconfig        the cluster's admin kubeconfig (127.0.0.1, a published port)
#   logs/<step>.log   the output of every step of up.sh / run.sh
#   router/           the router's BIRD configuration
#   addresses         the nodes' names and addresses, NAME ADDRESS per line

BGPCOMM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIND_DIR=$BGPCOMM_REPO/e2e/kind
BGPCOMM_CACHE=${BGPCOMM_CACHE:-/var/cache/bgpcomm}
KIND_STATE=${BGPCOMM_KIND_STATE:-$BGPCOMM_REPO/.bgpcomm/kind}
KIND_CLUSTER=${BGPCOMM_KIND_CLUSTER:-bgpcomm-e2e}
KIND_LOGS=$KIND_STATE/logs
# The suites' helpers (router.sh, kind.sh) run as children: they find the same cluster.
export BGPCOMM_KIND_STATE=$KIND_STATE BGPCOMM_KIND_CLUSTER=$KIND_CLUSTER

# Every address of the cluster (see README.md, "Addresses"). Nothing here is a private
# range or the machine's own 192.0.2.0/24.
KIND_NETWORK=kind                        # kind reuses a network of this name
KIND_BRIDGE=bgpc-kind0
KIND_SUBNET=198.18.100.0/24
KIND_GATEWAY=198.18.100.1                # the host's address on the bridge
KIND_SUBNET6=2001:db8:100::/64           # the same network's IPv6 (dual-stack sessions)
KIND_GATEWAY6=2001:db8:100::1
KIND_POD_SUBNET=198.19.0.0/16
KIND_SERVICE_SUBNET=198.18.128.0/20
ROUTER_NAME=$KIND_CLUSTER-router
ROUTER_IP=198.18.100.200                 # router "a": AS 64513, every node's speaker
ROUTER_IP6=2001:db8:100::200
ROUTER_B_IP=198.18.100.201               # router "b": AS 64514, TCP MD5 (speaker suite)
ROUTER_AS=64513
ROUTER_B_AS=64514
SPEAKER_AS=64512
NFT_TABLE=bgpcomm_kind                   # drops what is forwarded out of the bridge

# The private Docker engine (e2e/image/dockerd.sh, instance "kind") and Debian's client,
# which speaks its API (another docker on PATH may be newer).
export BGPCOMM_DOCKERD=kind
eval "$("$BGPCOMM_REPO/e2e/image/dockerd.sh" env)"
export DOCKER_HOST DOCKER
docker() { "$DOCKER" "$@"; }

klog() { printf 'kind: %s\n' "$*" >&2; }
kdie() { klog "error: $*"; exit 1; }

# step NAME CMD...: runs CMD with its output in logs/NAME.log; prints one line with the
# time it took, or on failure the step, the log's path and its last lines.
step() {
  local name=$1 t0=$SECONDS rc=0; shift
  mkdir -p "$KIND_LOGS"
  "$@" >"$KIND_LOGS/$name.log" 2>&1 </dev/null || rc=$?
  if (( rc )); then
    klog "step '$name' FAILED (exit $rc) after $(( SECONDS - t0 )) s; log: $KIND_LOGS/$name.log"
    tail -n 25 "$KIND_LOGS/$name.log" | sed 's/^/  | /' >&2
    return "$rc"
  fi
  klog "$name: ok ($(( SECONDS - t0 )) s)"
}

# The pinned tools (e2e/tools/): KIND, HELM, KUBE_BIN_DIR (kubectl of the cluster's version).
. "$BGPCOMM_REPO/e2e/tools/paths.sh" || kdie "tools missing: run e2e/tools/install.sh (make deps)"
kind_() { "$KIND" "$@"; }
kk() { "$KUBE_BIN_DIR/kubectl" --kubeconfig "$KIND_STATE/kubeconfig" "$@"; }

# The nodes of the cluster: NAME ADDRESS per line (from Docker, in name order).
node_addresses() {
  local n
  for n in $(kind_ get nodes --name "$KIND_CLUSTER" 2>/dev/null | sort); do
    printf '%s %s\n' "$n" \
      "$(docker inspect -f "{{(index .NetworkSettings.Networks \"$KIND_NETWORK\").IPAddress}}" "$n")"
  done
}
