#!/usr/bin/env bash
# Installs every build and test dependency of bgpcomm from Debian packages.
# Idempotent: when every package is already installed it returns in well under a second.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git ca-certificates curl openssl
  libcpp-httplib-dev libssl-dev rapidjson-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libyaml-dev libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev libasio-dev
  libbenchmark-dev clang-16 libclang-rt-16-dev libfuzzer-16-dev clang-format
  bats bats-assert bats-support iproute2 procps psmisc gobgpd bird2 frr wrk
  python3 python3-yaml nftables docker.io debootstrap prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  # apt's and dpkg's own output goes to a log; the terminal gets one line per step.
  log_dir=${BGPCOMM_CACHE:-/var/cache/bgpcomm}/logs
  mkdir -p "$log_dir"
  log=$log_dir/deps-apt.log
  echo "deps: installing ${#missing[@]} Debian packages (${missing[*]}); log: $log"
  t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if ! { $SUDO apt-get update -qq && \
         $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "deps: apt-get failed; the whole output is in $log" >&2
    exit 1
  fi
  echo "deps: Debian packages installed in $((SECONDS - t0)) s"
  # The interop tests run their own router instances; stop any system service a router package
  # started on install (only when it is running). prometheus is there for promtool (the
  # chart's alert tests): its server is not wanted either.
  for svc in frr bird gobgpd prometheus; do
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
