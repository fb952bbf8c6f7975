#!/usr/bin/env bash
# cert-manager on the kind cluster, as host processes (no image): its controller and its
# cainjector (e2e/tools/cert-manager/, built by e2e/tools/install.sh) with the cluster's
# admin kubeconfig, each taking its Lease in the namespace cert-manager as a release's
# Deployments do. The chart's certManager.enabled mode needs them (cert-manager.bats).
#
#   e2e/kind/cert-manager.sh start   the namespace and cert-manager's CRDs (Established),
#                                    both processes started, each holding its Lease
#   e2e/kind/cert-manager.sh stop    both stopped by pid (TERM, KILL after 15 s); idempotent
#   e2e/kind/cert-manager.sh delete  stop, then remove the CRDs and the namespace
#
# Pids in $KIND_STATE/cert-manager/, logs in $KIND_LOGS/cert-manager-{controller,cainjector}.log.
# down.sh runs `stop`, so that no run leaves them behind on any exit path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
dir=$KIND_STATE/cert-manager
CM_NAMESPACE=cert-manager

binary_of() {
  case $1 in
    controller) echo "$CERT_MANAGER_CONTROLLER" ;;
    cainjector) echo "$CERT_MANAGER_CAINJECTOR" ;;
  esac
}

# The pid in DIR/NAME.pid, if that process still runs our binary (a pid may be reused).
# A binary replaced since (install.sh --force) reads "PATH (deleted)": still ours.
running_pid() {  # NAME
  local pid exe
  pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ ${exe% (deleted)} == "$(binary_of "$1")" ]] || return 1
  echo "$pid"
}

stop_one() {  # NAME
  local pid i
  if pid=$(running_pid "$1"); then
    kill -TERM "$pid" 2>/dev/null || true
    # TERM releases the Lease (ReleaseOnCancel), so the next start takes it at once.
    for (( i = 0; i < 150; i++ )); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      klog "cert-manager $1 (pid $pid) ignored TERM for 15 s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    klog "cert-manager $1 stopped (pid $pid)"
  fi
  rm -f "$dir/$1.pid"
}

start_one() {  # NAME
  local bin log pid
  bin=$(binary_of "$1")
  log=$KIND_LOGS/cert-manager-$1.log
  running_pid "$1" >/dev/null && { klog "cert-manager $1 already runs"; return 0; }
  mkdir -p "$dir" "$KIND_LOGS"
  # Every descriptor closed or sent to the log: a bats caller waits for its fds to close.
  "$bin" --kubeconfig "$KIND_STATE/kubeconfig" --leader-election-namespace "$CM_NAMESPACE" \
    >>"$log" 2>&1 </dev/null 3>&- 4>&- &
  pid=$!
  echo "$pid" >"$dir/$1.pid"
  klog "cert-manager $1 started (pid $pid); log: $log"
}

# Both logs say their Lease is held (at most 90 s: a Lease a killed process left behind
# expires after 60 s).
wait_leases() {
  local name deadline=$(( SECONDS + 90 ))
  for name in controller cainjector; do
    until grep -q 'successfully acquired lease' "$KIND_LOGS/cert-manager-$name.log" 2>/dev/null; do
      running_pid "$name" >/dev/null ||
        kdie "cert-manager $name exited; log: $KIND_LOGS/cert-manager-$name.log: $(tail -n 5 "$KIND_LOGS/cert-manager-$name.log")"
      (( SECONDS < deadline )) || kdie "cert-manager $name holds no Lease after 90 s; log: $KIND_LOGS/cert-manager-$name.log"
      sleep 0.5
    done
  done
}

case ${1:-} in
  start)
    [[ -f $KIND_STATE/kubeconfig ]] || kdie "no kind cluster (e2e/kind/up.sh)"
    [[ -f $CERT_MANAGER_CRDS/cert-manager.io_certificates.yaml ]] ||
      kdie "cert-manager's CRDs missing in $CERT_MANAGER_CRDS (e2e/tools/install.sh cert-manager)"
    kk create namespace "$CM_NAMESPACE" --dry-run=client -o yaml | kk apply -f - >/dev/null
    # Server-side: the Certificate CRD is too large for kubectl's last-applied annotation.
    kk apply --server-side --force-conflicts -f "$CERT_MANAGER_CRDS" >/dev/null
    kk wait --for=condition=Established --timeout=60s -f "$CERT_MANAGER_CRDS" >/dev/null
    # Started afresh, so that a previous run's lines cannot satisfy wait_leases.
    stop_one cainjector
    stop_one controller
    rm -f "$KIND_LOGS/cert-manager-controller.log" "$KIND_LOGS/cert-manager-cainjector.log"
    start_one controller
    start_one cainjector
    wait_leases
    klog "cert-manager $("$CERT_MANAGER_CONTROLLER" --version | cut -d' ' -f2) runs (controller and cainjector hold their Leases)"
    ;;
  stop)
    stop_one cainjector
    stop_one controller
    ;;
  delete)
    stop_one cainjector
    stop_one controller
    if [[ -f $KIND_STATE/kubeconfig && -d $CERT_MANAGER_CRDS ]]; then
      kk delete -f "$CERT_MANAGER_CRDS" --ignore-not-found --wait=true --timeout=60s >/dev/null
      kk delete namespace "$CM_NAMESPACE" --ignore-not-found --wait=false >/dev/null
    fi
    ;;
  *)
    echo "usage: $0 start|stop|delete" >&2
    exit 2
    ;;
esac
