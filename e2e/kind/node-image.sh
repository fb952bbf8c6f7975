#!/usr/bin/env bash
# Prints the kind node image e2e/kind/up.sh creates its cluster from, making it first
# when needed. Where Docker Hub answers, that is kind's own node image (pulled, nothing is
# built); elsewhere it is made here, offline, once, and kept in the kind engine's data
# root ($BGPCOMM_CACHE/kind/docker) under a tag keyed by the Kubernetes version and the
# hash of the files that define it:
#
#   bgpcomm-e2e/kind-node:<kube version>-<hash>     (printed on the last line)
#
# What it is made of (see e2e/kind/README.md and node/Dockerfile):
#   - Debian bookworm (the same debootstrap tarball as bgpcomm's image, e2e/image/base.sh)
#     with systemd 252, containerd 1.6, runc and the CNI plugins from Debian;
#   - kind's node files (entrypoint, units, containerd config) from the kind module in the
#     Go module cache, copied at build time;
#   - kubelet, kubeadm and kubectl, and the control-plane images under the names
#     `kubeadm config images list` prints, all from the one Kubernetes build of
#     e2e/tools/install.sh; etcd (our pinned version, named by the cluster's kubeadm patch)
#     and CoreDNS from their modules; a static pause; kube-proxy on Debian with iptables.
#     They are imported into the node's containerd (`ctr images import`), as kind does.
#
# Usage: node-image.sh [--official-only]   (the engine must run: up.sh starts it)
# Output: the image name and, with "official" as second word, that it is kind's own.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BGPCOMM_REPO/e2e/tools/versions.sh"

official=$(sed -n 's/^const Image = "\(.*\)"$/\1/p' \
  "$(go env GOMODCACHE 2>/dev/null || echo /root/go/pkg/mod)/sigs.k8s.io/kind@$KIND_VERSION/pkg/apis/config/defaults/image.go" 2>/dev/null || true)
# kind's own image, where its registry resolves (no lookup leaves the machine otherwise).
if [[ -n $official ]]; then
  if docker image inspect "$official" >/dev/null 2>&1 ||
     { timeout 5 getent hosts registry-1.docker.io >/dev/null 2>&1 &&
       timeout 300 "$DOCKER" pull -q "$official" >/dev/null 2>&1; }; then
    echo "$official official"
    exit 0
  fi
fi
[[ ${1:-} != --official-only ]] || exit 1

key=$(cat "$BGPCOMM_REPO/e2e/tools/versions.sh" "$KIND_DIR/node-image.sh" "$KIND_DIR/node/Dockerfile" \
  "$KIND_DIR/images/pause.c" | sha256sum | cut -c1-12)
image=bgpcomm-e2e/kind-node:$KUBE_VERSION-$key
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

t0=$SECONDS
kind_files=$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files
if [[ ! -d $kind_files ]]; then
  (cd "$BGPCOMM_REPO/e2e/tools/kind" && GOFLAGS=-mod=readonly go mod download sigs.k8s.io/kind)
fi
[[ -d $kind_files ]] || kdie "kind's node files are not in the Go module cache ($kind_files)"
command -v gcc >/dev/null || kdie "gcc is needed for the pause binary (make deps)"

work=$(mktemp -d "$BGPCOMM_CACHE/kind/node-build.XXXXXX")
builder=
cleanup() {
  [[ -z $builder ]] || docker rm -f "$builder" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BGPCOMM_REPO/e2e/image/base.sh" >&2  # debian:bookworm-slim in this engine

# --- the control-plane images, named as kubeadm names them ----------------------------
kubeadm=$KUBE_BIN_DIR/kubeadm
mapfile -t wanted < <("$kubeadm" config images list --kubernetes-version "$KUBE_VERSION" 2>/dev/null)
(( ${#wanted[@]} >= 7 )) || kdie "kubeadm config images list printed: ${wanted[*]}"
image_named() {  # the wanted image whose name (without tag) ends in /$1
  local i
  for i in "${wanted[@]}"; do [[ ${i%:*} == */"$1" ]] && { echo "$i"; return; }; done
  kdie "kubeadm names no $1 image"
}
sandbox=$(image_named pause)
# etcd: our pinned build, under the tag the cluster's ClusterConfiguration patch names
# (up.sh: etcd.local.imageTag), since kubeadm's own pin is another release.
etcd_image=registry.k8s.io/etcd:${ETCD_VERSION#v}-0
gcc -static -O2 -o "$work/pause" "$KIND_DIR/images/pause.c"

# static_image TAG ENTRYPOINT_JSON FILE:PATH...: a root holding only those files.
static_image() {
  local tag=$1 entry=$2 root f; shift 2
  root=$(mktemp -d "$work/root.XXXXXX")
  mkdir -p "$root/tmp" "$root/etc" "$root/usr/local/bin"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  for f in "$@"; do install -D -m 0755 "${f%%:*}" "$root/${f#*:}"; done
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    ${entry:+--change "ENTRYPOINT $entry"} - "$tag" >/dev/null
}
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  static_image "$(image_named "$c")" "" "$KUBE_BIN_DIR/$c:usr/local/bin/$c"
done
static_image "$etcd_image" "" "$ETCD:usr/local/bin/etcd"
static_image "$(image_named coredns)" '["/coredns"]' "$COREDNS:coredns"
static_image "$sandbox" '["/pause"]' "$work/pause:pause"
# kube-proxy runs iptables-restore and conntrack.
mkdir -p "$work/kube-proxy"
cp "$KUBE_BIN_DIR/kube-proxy" "$work/kube-proxy/"
cat >"$work/kube-proxy/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables nftables conntrack \
 && rm -rf /var/lib/apt/lists/*
COPY kube-proxy /usr/local/bin/kube-proxy
EOF
docker build -q --network host -t "$(image_named kube-proxy)" "$work/kube-proxy" >/dev/null
preload=("$(image_named kube-apiserver)" "$(image_named kube-controller-manager)"
  "$(image_named kube-scheduler)" "$(image_named kube-proxy)" "$(image_named coredns)"
  "$sandbox" "$etcd_image")
docker save -o "$work/images.tar" "${preload[@]}"

# --- the node: Debian, kind's files, the binaries -----------------------------------
ctx=$work/node
mkdir -p "$ctx/bin"
cp -r "$kind_files" "$ctx/kind-files"
chmod -R u+w,go-w "$ctx/kind-files"
find "$ctx/kind-files" -type f -exec chmod 0644 {} +
chmod 0755 "$ctx"/kind-files/usr/local/bin/* "$ctx"/kind-files/kind/bin/*
for b in kubelet kubeadm kubectl; do cp "$KUBE_BIN_DIR/$b" "$ctx/bin/"; done
echo "$KUBE_VERSION" >"$ctx/version"
cp "$KIND_DIR/node/Dockerfile" "$ctx/"
docker build -q --network host --build-arg SANDBOX_IMAGE="$sandbox" -t "$image-base" "$ctx" >/dev/null

# --- preload the images into the node's containerd, as kind's own build does ---------
builder=bgpcomm-node-build-$$
docker run -d --name "$builder" --privileged --network none --entrypoint sleep "$image-base" infinity >/dev/null
docker exec -d "$builder" sh -c 'containerd >/var/log/containerd-preload.log 2>&1'
for _ in $(seq 1 100); do docker exec "$builder" ctr version >/dev/null 2>&1 && break; sleep 0.2; done
docker exec "$builder" ctr version >/dev/null || kdie "containerd did not start in the build container"
docker exec -i "$builder" ctr -n k8s.io images import --all-platforms --no-unpack --digests - \
  <"$work/images.tar" >/dev/null
got=$(docker exec "$builder" ctr -n k8s.io images list -q)
for i in "${preload[@]}"; do
  grep -qx "$i" <<<"$got" || kdie "$i is missing from the node's containerd after the import"
done
docker exec "$builder" sh -c 'kill $(pidof containerd); while pidof containerd >/dev/null; do sleep 0.1; done'
docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' "$builder" "$image" >/dev/null
docker rmi "$image-base" >/dev/null 2>&1 || true
# Older builds of the node image are of no further use.
for old in $(docker images --format '{{.Repository}}:{{.Tag}}' bgpcomm-e2e/kind-node); do
  [[ $old == "$image" ]] || docker rmi "$old" >/dev/null 2>&1 || true
done
klog "node image $image made in $(( SECONDS - t0 )) s"
echo "$image"
