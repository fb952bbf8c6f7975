#!/usr/bin/env bash
# Stops the local control plane started by up.sh and removes its state. Idempotent.
# Only the pids recorded in .bgpcomm/env are signalled (each checked against the
# executable it should be running): the webhook and any other recorded component
# (NAME_PID with NAME_EXE: the speaker, BGP routers) first, the routers' network
# namespaces (NETNS_NAME) next, then
# kube-apiserver, then etcd (an apiserver whose etcd is gone can hang in shutdown).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

if [[ ! -d $BGPCOMM_STATE_DIR ]]; then
  log "nothing is running"
  exit 0
fi
# Paths of the pinned tools, without failing when they are missing.
. "$BGPCOMM_REPO/e2e/tools/paths.sh" 2>/dev/null || true

stopped=()
stop_recorded() {  # NAME EXE
  local pid
  pid=$(state_get "$1_PID" || true)
  [[ -n $pid && -n $2 ]] || return 0
  if pid_is "$pid" "$2"; then
    stop_pid "$pid" "$2" 20
    stopped+=("$(basename "$2") ($pid)")
  fi
}

if [[ -f $BGPCOMM_STATE_DIR/env ]]; then
  stop_recorded WEBHOOK "$BGPCOMM_BIN_DIR/bgpcomm-webhook"
  # Other components recorded by later scripts: NAME_PID and NAME_EXE.
  for key in $(sed -n 's/^\([A-Z0-9_]*\)_PID=.*/\1/p' "$BGPCOMM_STATE_DIR/env" | sort -u); do
    case $key in WEBHOOK | APISERVER | ETCD) continue ;; esac
    stop_recorded "$key" "$(state_get "${key}_EXE" || true)"
  done
  # Network namespaces of routers (router.sh records NETNS_<NAME>); deleting one also
  # removes its veth pair from the host. Anything still inside was started by us.
  for key in $(sed -n 's/^\(NETNS_[A-Z0-9_]*\)=..*/\1/p' "$BGPCOMM_STATE_DIR/env" | sort -u); do
    ns=$(state_get "$key" || true)
    [[ $ns == bgpc-* ]] && ip netns list 2>/dev/null | grep -qw "$ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" && stopped+=("netns $ns")
  done
  stop_recorded APISERVER "${KUBE_APISERVER:-}"
  stop_recorded ETCD "${ETCD:-}"
  etcd_data=$(state_get ETCD_DATA || true)
  # Only ever a directory up.sh created.
  if [[ -n $etcd_data && $(basename "$etcd_data") == bgpcomm-etcd.* && -d $etcd_data ]]; then
    rm -rf "$etcd_data"
  fi
fi
rm -rf "$BGPCOMM_STATE_DIR"
if (( ${#stopped[@]} )); then log "stopped ${stopped[*]}; removed $BGPCOMM_STATE_DIR"
else log "removed $BGPCOMM_STATE_DIR"; fi
