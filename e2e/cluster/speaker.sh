#!/usr/bin/env bash
# Starts or stops bgpcomm-speaker in Kubernetes mode against the local control plane (up.sh
# must have run). It runs in the host namespace (routers live in namespaces of their own, see
# router.sh) with a token of the ServiceAccount bgpcomm-speaker and exactly the RBAC of
# manifests/speaker-rbac.yaml.
#
#   speaker.sh start NODE [ARGS...]  create the Node NODE if missing (there is no kubelet),
#                                    start the speaker as that node, wait for /readyz
#   speaker.sh stop                  TERM by pid
#   speaker.sh metrics               print its /metrics
#   speaker.sh status                exit 0 when running and ready
#
# Recorded in env: SPEAKER_PID, SPEAKER_EXE (down.sh stops it), SPEAKER_METRICS_PORT,
# SPEAKER_HEALTH_PORT. Log: logs/speaker.log.
#
# BGPCOMM_SPEAKER_API_SERVER and BGPCOMM_SPEAKER_API_CA (a PEM file), when set, point the
# speaker's kubeconfig at another server, e.g. a fault proxy in front of the apiserver
# (e2e/lib/api_fault_proxy.py); the token stays the ServiceAccount's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$BGPCOMM_REPO/e2e/tools/paths.sh"
[[ -f $BGPCOMM_STATE_DIR/env ]] || die "no local control plane (run e2e/cluster/up.sh)"

speaker_bin=$BGPCOMM_BIN_DIR/bgpcomm-speaker
running() { pid_is "$(state_get SPEAKER_PID)" "$speaker_bin"; }
ready() {
  running || return 1
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "http://127.0.0.1:$(state_get SPEAKER_HEALTH_PORT)/readyz") == 200 ]]
}

stop() {
  if running; then
    stop_pid "$(state_get SPEAKER_PID)" "$speaker_bin" 15
    log "stopped bgpcomm-speaker (pid $(state_get SPEAKER_PID))"
  fi
  state_set SPEAKER_PID ""
}

start() {
  local node=${1:?usage: speaker.sh start NODE [ARGS...]}; shift
  [[ -x $speaker_bin ]] || die "$speaker_bin not found; run 'make build'"
  running && stop
  kc apply -f "$here/manifests/speaker-rbac.yaml" >/dev/null
  if ! kc get node "$node" >/dev/null 2>&1; then
    kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $node
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
YAML
  fi
  sa_kubeconfig bgpcomm-speaker "$BGPCOMM_NAMESPACE" "$BGPCOMM_STATE_DIR/speaker.kubeconfig"
  if [[ -n ${BGPCOMM_SPEAKER_API_SERVER:-} ]]; then
    sed -i -e "s#server: .*#server: $BGPCOMM_SPEAKER_API_SERVER#" \
      -e "s#certificate-authority-data: .*#certificate-authority-data: $(base64 -w0 "$BGPCOMM_SPEAKER_API_CA")#" \
      "$BGPCOMM_STATE_DIR/speaker.kubeconfig"
  fi
  local logfile=$BGPCOMM_STATE_DIR/logs/speaker.log offset pid port endpoint
  printf '\n=== start %s node=%s %s\n' "$(date -u +%FT%TZ)" "$node" "$*" >>"$logfile"
  offset=$(log_offset "$logfile")
  # The speaker chooses its ports (0) and logs them.
  pid=$(spawn "$logfile" "$speaker_bin" \
    --kubeconfig "$BGPCOMM_STATE_DIR/speaker.kubeconfig" \
    --namespace "$BGPCOMM_NAMESPACE" --node-name "$node" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 "$@")
  state_set SPEAKER_PID "$pid"
  for endpoint in health metrics; do
    port=$(port_from_log "$logfile" "$offset" "event=listening endpoint=$endpoint") ||
      { tail -n 20 "$logfile" >&2; return 1; }
    state_set "SPEAKER_${endpoint^^}_PORT" "$port"
  done
  state_set SPEAKER_EXE "$speaker_bin"
  local deadline=$(( SECONDS + 30 ))
  until ready; do
    if ! running || (( SECONDS > deadline )); then
      log "bgpcomm-speaker $(running && echo 'not ready after 30 s' || echo exited); its log:"
      tail -n 20 "$BGPCOMM_STATE_DIR/logs/speaker.log" >&2
      return 1
    fi
    sleep 0.1
  done
  log "bgpcomm-speaker ready (pid $pid) as node $node"
}

cmd=${1:-}; shift || true
case $cmd in
  start) start "$@" ;;
  stop) stop ;;
  status) ready ;;
  metrics) curl -sf --max-time 5 "http://127.0.0.1:$(state_get SPEAKER_METRICS_PORT)/metrics" ;;
  *) die "usage: speaker.sh start NODE [ARGS...] | stop | status | metrics" ;;
esac
