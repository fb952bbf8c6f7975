#!/usr/bin/env bash
# Removes everything e2e/kind/up.sh made: the router container, the kind cluster, the
# docker network `kind`, the nftables table that drops what leaves its bridge, the state in
# .bgpcomm/kind/, and stops the private engine (instance kind). Idempotent.
# Cached images (the node image, bgpcomm's, the router's) stay in the engine's data root.
#
# BGPCOMM_KIND_KEEP_ENGINE=1 leaves the engine running (faster repeated up/down by hand).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh" 2>/dev/null || true
[[ -n ${KIND_STATE:-} ]] || kdie "e2e/kind/lib.sh could not be loaded"

removed=()
t0=$SECONDS
took() { removed+=("$1 ($(( SECONDS - t0 )) s)"); t0=$SECONDS; }
# cert-manager's host processes (cert-manager.bats) go first: their pids are in the state.
if compgen -G "$KIND_STATE/cert-manager/*.pid" >/dev/null; then
  "$here/cert-manager.sh" stop || true
  took cert-manager
fi
# A stopped engine may still hold the cluster's containers: start it to remove them.
if ! "$DOCKER" info >/dev/null 2>&1 && [[ -d $BGPCOMM_CACHE/kind/docker ]]; then
  "$BGPCOMM_REPO/e2e/image/dockerd.sh" start || true
fi
if "$DOCKER" info >/dev/null 2>&1; then
  if docker inspect "$ROUTER_NAME" >/dev/null 2>&1; then
    docker rm -f "$ROUTER_NAME" >/dev/null && took router
  fi
  if [[ -x ${KIND:-} ]] && PATH=$KIND_STATE/bin:$PATH kind_ get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    mkdir -p "$KIND_STATE/bin"
    ln -sf "$DOCKER" "$KIND_STATE/bin/docker"
    PATH=$KIND_STATE/bin:$PATH kind_ delete cluster --name "$KIND_CLUSTER" >/dev/null 2>&1 &&
      took "cluster $KIND_CLUSTER"
  fi
  # Only when nothing else is attached (a cluster of another name may use it).
  if docker network inspect "$KIND_NETWORK" >/dev/null 2>&1 &&
     [[ -z $(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$KIND_NETWORK") ]]; then
    docker network rm "$KIND_NETWORK" >/dev/null && took "network $KIND_NETWORK"
  fi
  # The engine stops once nothing of anyone's runs in it.
  if [[ ${BGPCOMM_KIND_KEEP_ENGINE:-0} != 1 && -z $(docker ps -aq) ]]; then
    "$BGPCOMM_REPO/e2e/image/dockerd.sh" stop && took engine
  fi
fi
if nft list table inet "$NFT_TABLE" >/dev/null 2>&1; then
  if ! ip link show "$KIND_BRIDGE" >/dev/null 2>&1; then
    nft delete table inet "$NFT_TABLE" && took "nftables $NFT_TABLE"
  fi
fi
if [[ -d $KIND_STATE ]]; then
  # The logs stay (a failed run is read after down.sh); everything else goes.
  find "$KIND_STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  removed+=("state")
fi
klog "down: removed $(IFS=,; echo "${removed[*]:-nothing}" | sed 's/,/, /g')"
