#!/usr/bin/env bash
# Builds the pinned end-to-end tools (kube-apiserver, etcd, helm) from the
# committed wrapper modules in this directory and caches them outside the work
# tree, keyed by version:
#
#   ${BGPCOMM_CACHE:-/var/cache/bgpcomm}/tools/<tool>-<version>/<tool>
#
# Idempotent: a cached binary that runs and reports the pinned version is kept;
# only missing or broken ones are built. Prints one line per tool.
#
# Usage: install.sh [--force] [kube-apiserver|etcd|helm|kubectl ...]
# Without tool names: kube-apiserver, etcd, helm, and kubectl too when the
# machine has none (a kubectl on PATH, e.g. /usr/bin/kubectl, is used as is;
# `install.sh kubectl` builds one matching the apiserver version anyway).
# Env:   BGPCOMM_CACHE   cache root (default /var/cache/bgpcomm)
#        BGPCOMM_GO_P    go build -p (default 2; the machine is shared)
#        BGPCOMM_NICE    nice level for go build (default 10)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/versions.sh"

force=0
tools=()
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    kube-apiserver|etcd|helm|kubectl) tools+=("$a") ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
system_kubectl=
if [[ ${#tools[@]} -eq 0 ]]; then
  tools=(kube-apiserver etcd helm)
  if system_kubectl=$(command -v kubectl 2>/dev/null) && "$system_kubectl" version --client >/dev/null 2>&1; then :
  else system_kubectl=; tools+=(kubectl); fi
fi

cache=${BGPCOMM_CACHE:-/var/cache/bgpcomm}/tools
mkdir -p "$cache"

version_of() {  # tool -> pinned version
  case $1 in
    kube-apiserver|kubectl) echo "$KUBE_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    helm) echo "$HELM_VERSION" ;;
  esac
}

# Prints the binary's version line; fails unless it runs and names the pinned version.
check_bin() {  # tool binary version
  local out
  case $1 in
    helm) out=$("$2" version --short 2>&1) || return 1 ;;
    kubectl) out=$("$2" version --client 2>&1) || return 1 ;;
    *)    out=$("$2" --version 2>&1) || return 1 ;;
  esac
  out=$(printf '%s\n' "$out" | head -n1)
  [[ $out == *"${3#v}"* ]] || return 1
  printf '%s\n' "$out"
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
  local tool=$1 version=$2 out=$3 pkg ldflags
  case $tool in
    kube-apiserver|kubectl)
      pkg=k8s.io/kubernetes/cmd/$tool
      local mm=${version#v}; local major=${mm%%.*}; mm=${mm#*.}; local minor=${mm%%.*}
      ldflags="-s -w"
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
      done
      ;;
    etcd)
      pkg=go.etcd.io/etcd/server/v3
      ldflags="-s -w"
      ;;
    helm)
      pkg=helm.sh/helm/v3/cmd/helm
      # As helm's Makefile: client-go v0.X.Y -> capabilities default Kubernetes 1.X.
      local cg
      cg=$(cd "$here/helm" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go list -m -f '{{.Version}}' k8s.io/client-go)
      cg=${cg#v0.}; cg=${cg%%.*}
      ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
      for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$cg"
      done
      ;;
  esac
  mkdir -p "$out"
  local tmp="$out/.$tool.tmp.$$"
  local moddir=$tool
  [[ $tool == kubectl ]] && moddir=kube-apiserver  # same wrapper module
  (
    cd "$here/$moddir"
    GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
      nice -n "${BGPCOMM_NICE:-10}" \
      go build -p "${BGPCOMM_GO_P:-2}" -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg"
  ) || { rm -f "$tmp"; return 1; }
  mv -f "$tmp" "$out/$tool"
}

# One install at a time per cache (concurrent sessions/CI share it).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.install.lock"
  flock 9
fi

rc=0
if [[ -n $system_kubectl ]]; then
  echo "kubectl: using $system_kubectl ($("$system_kubectl" version --client 2>/dev/null | head -n1))"
fi
for tool in "${tools[@]}"; do
  version=$(version_of "$tool")
  dir="$cache/$tool-$version"
  bin="$dir/$tool"
  if (( ! force )) && [[ -x $bin ]] && line=$(check_bin "$tool" "$bin" "$version"); then
    echo "$tool $version: cached ($bin: $line)"
    continue
  fi
  need_go
  start=$(date +%s)
  if ! build "$tool" "$version" "$dir"; then
    echo "$tool $version: BUILD FAILED" >&2
    rc=1; continue
  fi
  secs=$(( $(date +%s) - start ))
  if line=$(check_bin "$tool" "$bin" "$version"); then
    echo "$tool $version: built in ${secs} s ($bin, $(du -h "$bin" | cut -f1): $line)"
  else
    echo "$tool $version: built in ${secs} s but '$bin' does not report $version" >&2
    rc=1
  fi
done
exit $rc
