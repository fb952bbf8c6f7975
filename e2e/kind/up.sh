#!/usr/bin/env bash
# Starts (or checks) the kind cluster of the end-to-end tests: one control-plane node and
# two workers made from the node image of node-image.sh, bgpcomm's image and the echo
# image loaded, charts/bgpcomm installed with `helm install --wait`, and a BIRD 2 router
# container on the cluster's network that peers with the speaker on every node.
#
#   e2e/kind/up.sh          prints `export KUBECONFIG=...` last
#
# Steps, each timed, its output in .bgpcomm/kind/logs/<step>.log (named on failure):
#   tools     e2e/tools/install.sh (kind, CoreDNS, the Kubernetes binaries; cached)
#   engine    the private dockerd (e2e/image/dockerd.sh, instance kind)
#   network   the docker network `kind` on 198.18.100.0/24, and an nftables rule that
#             drops whatever is forwarded out of its bridge (nothing leaves the machine)
#   node-image, images (bgpcomm's image and bgpcomm-e2e/echo:1), router-image
#   cluster   kind create cluster; cni (a bridge on each node's podCIDR and routes to the
#             others', what kindnetd does on one L2 network); coredns (no forwarding)
#   load      kind load of both images; chart (helm install --wait); router
#
# Idempotent: a running cluster is checked and only what is missing is done; a cluster whose
# nodes stopped (a killed run, an engine restart) is deleted and made anew. A failure
# leaves everything for inspection (`kind export logs` goes to logs/kind-export/);
# e2e/kind/down.sh removes all of it. Environment: BGPCOMM_BIN_DIR (the host build whose
# binaries go into bgpcomm's image; default build/bin, else the image is built from the
# Dockerfile alone), BGPCOMM_KIND_STATE, BGPCOMM_CACHE.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
t_start=$SECONDS
mkdir -p "$KIND_STATE/bin" "$KIND_LOGS"
# kind runs `docker`: the client that matches the engine, whatever else is on PATH.
ln -sf "$DOCKER" "$KIND_STATE/bin/docker"
export PATH=$KIND_STATE/bin:$PATH

on_exit() {
  local rc=$?
  (( rc == 0 )) && return
  if kind_ get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    kind_ export logs "$KIND_LOGS/kind-export" --name "$KIND_CLUSTER" >/dev/null 2>&1 || true
    klog "node logs (journal, pods): $KIND_LOGS/kind-export/"
  fi
  klog "up.sh failed after $(( SECONDS - t_start )) s; e2e/kind/down.sh removes what it made"
}
trap on_exit EXIT

step tools "$BGPCOMM_REPO/e2e/tools/install.sh"
step engine "$BGPCOMM_REPO/e2e/image/dockerd.sh" start

# --- network ------------------------------------------------------------------------
network() {
  local subnets
  if subnets=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$KIND_NETWORK" 2>/dev/null); then
    [[ $subnets == "$KIND_SUBNET $KIND_SUBNET6 " ]] ||
      kdie "docker network $KIND_NETWORK exists with subnets '$subnets', not $KIND_SUBNET $KIND_SUBNET6"
  else
    # Nothing of the host may sit in either subnet (the machine's own network, other tests).
    local used
    used=$( { ip -4 route show to match "${KIND_SUBNET%/*}"; ip -4 route show root "$KIND_SUBNET"
              ip -6 route show to match "${KIND_SUBNET6%/*}"; ip -6 route show root "$KIND_SUBNET6"; } |
            grep -v '^default' || true)
    [[ -z $used ]] || kdie "$KIND_SUBNET or $KIND_SUBNET6 overlaps routes of this host: $used"
    docker network create -d bridge --subnet "$KIND_SUBNET" --gateway "$KIND_GATEWAY" \
      --ipv6 --subnet "$KIND_SUBNET6" --gateway "$KIND_GATEWAY6" \
      -o com.docker.network.bridge.name="$KIND_BRIDGE" \
      -o com.docker.network.bridge.enable_ip_masquerade=false "$KIND_NETWORK"
  fi
  # Bridged traffic (nodes, router) stays on the bridge; anything routed out of it is
  # dropped, whatever the host's forwarding setting.
  nft list table inet "$NFT_TABLE" >/dev/null 2>&1 || nft -f - <<NFT
table inet $NFT_TABLE {
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "$KIND_BRIDGE" oifname != "$KIND_BRIDGE" counter drop
  }
}
NFT
}
step network network

# --- images -----------------------------------------------------------------------
node_image=$(step node-image "$here/node-image.sh" && tail -n1 "$KIND_LOGS/node-image.log")
official=0
[[ $node_image == *" official" ]] && { official=1; node_image=${node_image% official}; }

BGPCOMM_IMAGE=bgpcomm:kind-e2e
ECHO_IMAGE=bgpcomm-e2e/echo:1
ROUTER_IMAGE=bgpcomm-e2e/router:1
bin_dir=${BGPCOMM_BIN_DIR:-$BGPCOMM_REPO/build/bin}
images() {
  "$BGPCOMM_REPO/e2e/image/base.sh"
  local version ctx
  version=$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' "$BGPCOMM_REPO/charts/bgpcomm/Chart.yaml")
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" RETURN
  if [[ -x $bin_dir/bgpcomm-webhook && -x $bin_dir/bgpcomm-speaker && -x $bin_dir/bgpcomm ]]; then
    # The Dockerfile's runtime stage with this build's binaries on top (see the Dockerfile
    # and README.md, "bgpcomm's image"): no second compile of the same sources.
    docker build --network host --target runtime --build-arg BGPCOMM_VERSION="$version" \
      -t bgpcomm-runtime:kind-e2e "$BGPCOMM_REPO"
    mkdir -p "$ctx/bin"
    local b
    for b in bgpcomm-webhook bgpcomm-speaker bgpcomm; do
      strip --strip-debug -o "$ctx/bin/$b" "$bin_dir/$b"
    done
    printf 'FROM bgpcomm-runtime:kind-e2e\nCOPY bin/ /usr/local/bin/\n' >"$ctx/Dockerfile"
    docker build -t "$BGPCOMM_IMAGE" "$ctx"
  else
    echo "no host build in $bin_dir: building the image from the Dockerfile alone"
    docker build --network host --build-arg BGPCOMM_VERSION="$version" \
      --build-arg BUILD_JOBS="$(nproc)" -t "$BGPCOMM_IMAGE" "$BGPCOMM_REPO"
  fi
  docker run --rm --network none --entrypoint /usr/local/bin/bgpcomm-speaker "$BGPCOMM_IMAGE" --help >/dev/null

  # The echo server: one static binary.
  local root=$ctx/echo-root
  mkdir -p "$root/tmp"
  chmod 1777 "$root/tmp"
  gcc -static -O2 -o "$root/echo" "$here/images/echo.c"
  tar -C "$root" -c . | docker import --change 'ENTRYPOINT ["/echo"]' --change 'USER 65532:65532' \
    --change 'EXPOSE 8080' - "$ECHO_IMAGE"

  # The router: BIRD 2 and curl on Debian.
  if ! docker image inspect "$ROUTER_IMAGE" >/dev/null 2>&1; then
    printf '%s\n' 'FROM debian:bookworm-slim' \
      'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bird2 curl iproute2 procps && rm -rf /var/lib/apt/lists/*' \
      >"$ctx/Dockerfile.router"
    docker build --network host -t "$ROUTER_IMAGE" -f "$ctx/Dockerfile.router" "$ctx"
  fi
  docker image prune -f >/dev/null
}
step images images

# --- the cluster ---------------------------------------------------------------------
cluster_config() {
  cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  ipFamily: ipv4
  podSubnet: $KIND_POD_SUBNET
  serviceSubnet: $KIND_SERVICE_SUBNET
  apiServerAddress: 127.0.0.1
  disableDefaultCNI: $( (( official )) && echo false || echo true )
nodes:
  - role: control-plane
  - role: worker
  - role: worker
kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    failCgroupV1: false
YAML
  (( official )) || cat <<YAML
  - |
    kind: ClusterConfiguration
    etcd:
      local:
        imageTag: "$(. "$BGPCOMM_REPO/e2e/tools/versions.sh"; echo "${ETCD_VERSION#v}")-0"
YAML
}
# A cluster left by a run that was killed (or by an engine that stopped) has stopped
# nodes, and kind clusters do not come back from that: such a cluster is made anew.
cluster_healthy() {
  local node state
  for node in $(kind_ get nodes --name "$KIND_CLUSTER" 2>/dev/null); do
    state=$(docker inspect -f '{{.State.Status}}' "$node" 2>/dev/null || echo missing)
    [[ $state == running ]] || { echo "node $node is $state"; return 1; }
  done
  kind_ export kubeconfig --name "$KIND_CLUSTER" --kubeconfig "$KIND_STATE/kubeconfig" || return 1
  local i
  for i in 1 2 3 4 5 6; do
    kk --request-timeout=5s get --raw /readyz >/dev/null 2>&1 && return 0
    sleep 5
  done
  echo "the API server of $KIND_CLUSTER does not answer /readyz"
  return 1
}
cluster() {
  if kind_ get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER" && ! cluster_healthy; then
    echo "cluster $KIND_CLUSTER exists but is not healthy: deleting it and making it anew"
    kind_ delete cluster --name "$KIND_CLUSTER"
  fi
  if ! kind_ get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    cluster_config >"$KIND_STATE/cluster.yaml"
    kind_ create cluster --name "$KIND_CLUSTER" --image "$node_image" --config "$KIND_STATE/cluster.yaml" \
      --kubeconfig "$KIND_STATE/kubeconfig" --retain
  fi
  kk get --raw /readyz
}
step cluster cluster

# Each node: a bridge on its podCIDR, and a route to every other node's podCIDR.
cni() {
  local nodes name ip cidr other
  nodes=$(kk get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address} {.spec.podCIDR}{"\n"}{end}')
  echo "$nodes"
  while read -r name ip cidr; do
    [[ -n $cidr ]] || kdie "node $name has no podCIDR"
    docker exec -i "$name" sh -c 'mkdir -p /etc/cni/net.d && cat >/etc/cni/net.d/10-bgpcomm-bridge.conflist' <<JSON
{
  "cniVersion": "0.4.0",
  "name": "bgpcomm-kind",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
    while read -r other _ocidr; do
      [[ $other == "$name" ]] && continue
      local oip ocidr
      oip=$(awk -v n="$other" '$1 == n { print $2 }' <<<"$nodes")
      ocidr=$(awk -v n="$other" '$1 == n { print $3 }' <<<"$nodes")
      docker exec "$name" ip route replace "$ocidr" via "$oip"
    done <<<"$(awk '{ print $1 }' <<<"$nodes")"
  done <<<"$nodes"
  kk wait --for=condition=Ready nodes --all --timeout=180s
}
(( official )) || step cni cni

# CoreDNS answers for the cluster only: no `forward`, so no query ever leaves it.
coredns() {
  local corefile
  corefile=$(kk -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}')
  if grep -q 'forward ' <<<"$corefile"; then
    corefile=$(sed '/^ *forward /,/}/d' <<<"$corefile")
    kk -n kube-system create configmap coredns --from-literal=Corefile="$corefile" \
      --dry-run=client -o yaml | kk -n kube-system apply -f - >/dev/null
    kk -n kube-system rollout restart deployment/coredns
  fi
  kk -n kube-system rollout status deployment/coredns --timeout=180s
}
step coredns coredns

# kind loads an image only into the nodes that lack its id.
load() { kind_ load docker-image "$BGPCOMM_IMAGE" "$ECHO_IMAGE" --name "$KIND_CLUSTER"; }
step load load

chart() {
  local tag=${BGPCOMM_IMAGE#*:}
  KUBECONFIG=$KIND_STATE/kubeconfig "$HELM" upgrade --install bgpcomm "$BGPCOMM_REPO/charts/bgpcomm" \
    --namespace metallb-system --create-namespace \
    --set image.repository="${BGPCOMM_IMAGE%%:*}" --set image.tag="$tag" \
    --set image.pullPolicy=Never --set 'speaker.passwordSecrets={bgp-auth-b}' \
    --set speaker.status.serviceBGPStatus=true \
    --wait --timeout 5m
  kk -n metallb-system get pods -o wide
}
step chart chart

step router "$here/router.sh" start

klog "cluster $KIND_CLUSTER ready in $(( SECONDS - t_start )) s"
echo "export KUBECONFIG=$KIND_STATE/kubeconfig"
