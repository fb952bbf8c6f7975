#!/usr/bin/env bash
# Builds the pinned end-to-end tools from the committed wrapper modules in this
# directory and caches them outside the work tree, keyed by version:
#
#   ${BGPCOMM_CACHE:-/var/cache/bgpcomm}/tools/<tool>-<version>/<binary>
#
#   kubernetes  every binary of KUBE_COMMANDS (kube-apiserver, kubectl, kubelet, kubeadm,
#               kube-controller-manager, kube-scheduler, kube-proxy) in ONE go build, so
#               they share compiled packages: the local control plane runs its
#               kube-apiserver, the kind node image (e2e/kind/) takes them all
#   etcd, helm  the local control plane, the chart tests
#   kind, coredns  the kind cluster (e2e/kind/)
#   kube-score  judges the chart as rendered (e2e/chart/)
#   cert-manager  cert-manager-controller and cert-manager-cainjector (our mains over the
#               pinned cert-manager module, see cert-manager/), and cert-manager's CRDs
#               (crds/, copied from the module's deploy/crds/): the chart's
#               certManager.enabled mode on the kind cluster (e2e/kind/cert-manager.bats)
#
# Idempotent: a cached tool whose binaries run and report the pinned version is kept;
# only missing or broken ones are built. Prints one line per tool, with the build time.
#
# Usage: install.sh [--force] [--quiet] [kubernetes|etcd|helm|kind|coredns|kube-score|cert-manager ...]
# Without tool names: all of them. (kube-apiserver and kubectl name kubernetes.)
# --quiet: no line for a tool that is already cached (builds and failures still print).
# Env:   BGPCOMM_CACHE   cache root (default /var/cache/bgpcomm)
#        BGPCOMM_GO_P    go build -p (default 2; the machine is shared)
#        BGPCOMM_NICE    nice level for go build (default 10)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/versions.sh"

force=0
quiet=0
tools=()
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    kubernetes|kube-apiserver|kubectl) tools+=(kubernetes) ;;
    etcd|helm|kind|coredns|kube-score|cert-manager) tools+=("$a") ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
(( ${#tools[@]} )) || tools=(kubernetes etcd helm kind coredns kube-score cert-manager)
mapfile -t tools < <(printf '%s\n' "${tools[@]}" | awk '!seen[$0]++')

cache=${BGPCOMM_CACHE:-/var/cache/bgpcomm}/tools
mkdir -p "$cache"

version_of() {  # tool -> pinned version
  case $1 in
    kubernetes) echo "$KUBE_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    helm) echo "$HELM_VERSION" ;;
    kind) echo "$KIND_VERSION" ;;
    coredns) echo "$COREDNS_VERSION" ;;
    kube-score) echo "$KUBE_SCORE_VERSION" ;;
    cert-manager) echo "$CERT_MANAGER_VERSION" ;;
  esac
}

binaries_of() {  # tool -> the binaries it builds
  case $1 in
    kubernetes) echo "$KUBE_COMMANDS" ;;
    cert-manager) echo "cert-manager-controller cert-manager-cainjector" ;;
    *) echo "$1" ;;
  esac
}

# Prints the binary's version line; fails unless it runs and names the pinned version.
check_bin() {  # binary-name path version
  local out
  case $1 in
    helm) out=$("$2" version --short 2>&1) || return 1 ;;
    kubectl) out=$("$2" version --client 2>&1) || return 1 ;;
    kubeadm) out=$("$2" version -o short 2>&1) || return 1 ;;
    kind) out=$("$2" version 2>&1) || return 1 ;;
    coredns) out=$("$2" -version 2>&1) || return 1 ;;
    kube-score) out=$("$2" version 2>&1) || return 1 ;;
    *)    out=$("$2" --version 2>&1) || return 1 ;;
  esac
  out=$(printf '%s\n' "$out" | head -n1)
  [[ $out == *"${3#v}"* ]] || return 1
  printf '%s\n' "$out"
}

# Checks every binary of a tool; prints the first one's version line.
check_tool() {  # tool dir version
  local b line first=
  for b in $(binaries_of "$1"); do
    [[ -x $2/$b ]] || return 1
    line=$(check_bin "$b" "$2/$b" "$3") || return 1
    [[ -n $first ]] || first="$b: $line"
  done
  # cert-manager's CRDs, taken from its module with the binaries.
  [[ $1 != cert-manager ]] || [[ -f $2/crds/cert-manager.io_certificates.yaml ]] || return 1
  printf '%s\n' "$first"
}

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "install.sh: 'go' is not installed or not in PATH; Go >= 1.26 is needed to build" \
         "the e2e tools (see e2e/tools/README.md)" >&2
    exit 1
  fi
  local v
  v=$(go env GOVERSION)
  v=${v#go}
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  if (( major < 1 || (major == 1 && minor < 26) )); then
    echo "install.sh: Go ${v} is too old; Go >= 1.26 is needed (k8s.io/kubernetes ${KUBE_VERSION} declares go 1.26)" >&2
    exit 1
  fi
}

build() {  # tool version outdir
  local tool=$1 version=$2 out=$3 pkgs=() ldflags="-s -w"
  case $tool in
    kubernetes)
      local cmd mm=${version#v}; local major=${mm%%.*}; mm=${mm#*.}; local minor=${mm%%.*}
      for cmd in $KUBE_COMMANDS; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
      # kubeadm parses its own version: without these it is v0.0.0-master+$Format:%H$.
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
      done
      ;;
    etcd) pkgs=(go.etcd.io/etcd/server/v3) ;;
    kind) pkgs=(sigs.k8s.io/kind) ;;
    coredns) pkgs=(github.com/coredns/coredns) ;;
    cert-manager)
      pkgs=(bgpcomm.e2e/tools/cert-manager/cert-manager-controller bgpcomm.e2e/tools/cert-manager/cert-manager-cainjector)
      ldflags+=" -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$version"
      ;;
    kube-score)
      pkgs=(github.com/zegl/kube-score/cmd/kube-score)
      ldflags+=" -X main.version=${version#v}"
      ;;
    helm)
      pkgs=(helm.sh/helm/v3/cmd/helm)
      # As helm's Makefile: client-go v0.X.Y -> capabilities default Kubernetes 1.X.
      local cg
      cg=$(cd "$here/helm" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go list -m -f '{{.Version}}' k8s.io/client-go)
      cg=${cg#v0.}; cg=${cg%%.*}
      ldflags+=" -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
      for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$cg"
      done
      ;;
  esac
  local tmp="$out.tmp.$$" b
  rm -rf "$tmp"; mkdir -p "$tmp"
  # Module downloads and compiler output go to the tool's log, not the terminal.
  (
    cd "$here/$tool"
    GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
      nice -n "${BGPCOMM_NICE:-10}" \
      go build -p "${BGPCOMM_GO_P:-2}" -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"
  ) >"$log" 2>&1 || { rm -rf "$tmp"; tail -n 20 "$log" >&2; return 1; }
  # A single package is named after its import path (go.etcd.io/etcd/server/v3 -> server).
  if (( ${#pkgs[@]} == 1 )) && [[ ! -e $tmp/$tool ]]; then
    local built=("$tmp"/*)
    mv "${built[0]}" "$tmp/$tool"
  fi
  if [[ $tool == cert-manager ]]; then
    # The CRDs of the same release, from the module zip in the Go module cache (the
    # build above downloaded it); nothing of cert-manager is committed here.
    local moddir
    moddir=$(cd "$here/$tool" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
      go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager) || moddir=
    if [[ -z $moddir ]] || ! compgen -G "$moddir/deploy/crds/*.yaml" >/dev/null; then
      echo "cert-manager's CRDs not found in its module ('$moddir/deploy/crds')" >>"$log"
      rm -rf "$tmp"; tail -n 20 "$log" >&2; return 1
    fi
    mkdir -p "$tmp/crds"
    cp "$moddir"/deploy/crds/*.yaml "$tmp/crds/"
    rm -rf "$out/crds"; mkdir -p "$out"; mv "$tmp/crds" "$out/crds"
  fi
  mkdir -p "$out"
  for b in $(binaries_of "$tool"); do mv -f "$tmp/$b" "$out/$b"; done
  rm -rf "$tmp"
}

# One install at a time per cache (concurrent sessions/CI share it).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.install.lock"
  flock 9
fi

rc=0
for tool in "${tools[@]}"; do
  version=$(version_of "$tool")
  dir="$cache/$tool-$version"
  if (( ! force )) && line=$(check_tool "$tool" "$dir" "$version"); then
    (( quiet )) || echo "$tool $version: cached ($dir, $line)"
    continue
  fi
  need_go
  start=$(date +%s)
  logs=${BGPCOMM_CACHE:-/var/cache/bgpcomm}/logs; mkdir -p "$logs"; log="$logs/build-$tool.log"
  echo "$tool $version: building $(binaries_of "$tool") (go build, nice ${BGPCOMM_NICE:-10}); log: $log"
  if ! build "$tool" "$version" "$dir"; then
    echo "$tool $version: BUILD FAILED; log: $log" >&2
    rc=1; continue
  fi
  secs=$(( $(date +%s) - start ))
  if line=$(check_tool "$tool" "$dir" "$version"); then
    echo "$tool $version: built in ${secs} s ($dir, $(du -sh "$dir" | cut -f1): $line)"
  else
    echo "$tool $version: built in ${secs} s but a binary in '$dir' does not report $version" >&2
    rc=1
  fi
done
exit $rc
