#!/usr/bin/env bash
# Installs every build and test dependency of bgpcomm from Debian packages.
# Idempotent: when every package is already installed it returns in well under a second.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates curl openssl
  libcpp-httplib-dev libssl-dev rapidjson-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libyaml-dev libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev libasio-dev
  libbenchmark-dev clang-16 libclang-rt-16-dev libfuzzer-16-dev clang-format
  bats bats-assert bats-support iproute2 procps psmisc gobgpd bird2 frr wrk
  python3 python3-yaml nftables docker.io debootstrap
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The interop tests run their own router instances; stop any system service a router package
  # started on install (only when it is running).
  for svc in frr bird gobgpd; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      $SUDO systemctl stop "$svc" || true
      $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" status >/dev/null 2>&1; then
      $SUDO "/etc/init.d/$svc" stop || true
    fi
  done
fi

# kube-apiserver, etcd and helm for the end-to-end tests: built once from pinned Go
# modules and cached outside the work tree (a no-op when cached).
"$(dirname "$0")/../e2e/tools/install.sh"
