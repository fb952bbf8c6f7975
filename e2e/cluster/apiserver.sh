#!/usr/bin/env bash
# Stops and starts only kube-apiserver of the local control plane, with the same flags and
# port (etcd keeps the data): for tests of what clients do while the apiserver is away.
#
#   apiserver.sh stop    TERM by pid; its command line is kept in apiserver.cmdline
#   apiserver.sh start   start it again from apiserver.cmdline; wait for /readyz
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$BGPCOMM_REPO/e2e/tools/paths.sh"
[[ -f $BGPCOMM_STATE_DIR/env ]] || die "no local control plane (run e2e/cluster/up.sh)"
saved=$BGPCOMM_STATE_DIR/apiserver.cmdline

case ${1:-} in
  stop)
    pid=$(state_get APISERVER_PID)
    pid_is "$pid" "$KUBE_APISERVER" || die "kube-apiserver is not running"
    cp "/proc/$pid/cmdline" "$saved"
    stop_pid "$pid" "$KUBE_APISERVER" 20
    log "stopped kube-apiserver (pid $pid)"
    ;;
  start)
    [[ -s $saved ]] || die "no saved command line (apiserver.sh stop first)"
    pid_is "$(state_get APISERVER_PID)" "$KUBE_APISERVER" && { log "already running"; exit 0; }
    mapfile -d '' args <"$saved"
    pid=$(spawn "$BGPCOMM_STATE_DIR/logs/kube-apiserver.log" "${args[@]}")
    state_set APISERVER_PID "$pid"
    wait_for 90 kc get --raw /readyz
    log "kube-apiserver ready again (pid $pid)"
    ;;
  *) die "usage: apiserver.sh stop|start" ;;
esac
