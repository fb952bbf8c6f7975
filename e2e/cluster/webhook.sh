#!/usr/bin/env bash
# Stops, starts or restarts only bgpcomm-webhook of the local control plane (up.sh
# must have run). The webhook keeps its port, so its registration stays valid.
#
#   webhook.sh start [ARGS...]     start (restart if running with other arguments);
#                                  ARGS default to those up.sh was given
#   webhook.sh restart [ARGS...]   stop, then start
#   webhook.sh stop                TERM by pid (drains; releases the resolver's Lease)
#   webhook.sh status              exit 0 when running and ready
#   webhook.sh wait-enforced       wait until a known-bad Community is denied
#
# start/restart wait for /readyz (caches synced) and, when the webhook configurations
# are registered, for enforcement; --no-wait-enforced skips the latter.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$BGPCOMM_REPO/e2e/tools/paths.sh"
[[ -f $BGPCOMM_STATE_DIR/env ]] || die "no local control plane (run e2e/cluster/up.sh)"

webhook_bin=$BGPCOMM_BIN_DIR/bgpcomm-webhook

running() { pid_is "$(state_get WEBHOOK_PID)" "$webhook_bin"; }

ready() {
  running || return 1
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "http://127.0.0.1:$(state_get WEBHOOK_HEALTH_PORT)/readyz") == 200 ]]
}

# A Community whose value is out of range: denied by the webhook, never stored.
known_bad() {
  cat <<'YAML'
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: bgpcomm-enforcement-probe
  namespace: metallb-system
spec:
  communities:
    - name: probe
      value: "64512:70000"
YAML
}
enforced() {
  local out
  out=$(known_bad | kc apply --dry-run=server -f - 2>&1) && return 1
  [[ $out == *"denied the request"* ]]
}

wait_enforced() {
  # A dry run of a known-bad Community is denied.
  wait_for 60 enforced
}

stop() {
  local pid
  pid=$(state_get WEBHOOK_PID)
  if running; then
    stop_pid "$pid" "$webhook_bin" 15
    log "stopped bgpcomm-webhook (pid $pid)"
  fi
  state_set WEBHOOK_PID ""
}

start() {
  local want_enforced=1 args=() current
  if [[ ${1:-} == --no-wait-enforced ]]; then want_enforced=0; shift; fi
  if [[ $# -gt 0 ]]; then args=("$@")
  elif [[ -s $BGPCOMM_STATE_DIR/webhook.base-args ]]; then
    mapfile -t args < <(grep -v '^$' "$BGPCOMM_STATE_DIR/webhook.base-args")
  fi
  current=${args[*]+$(printf '%s\n' "${args[@]}")}
  if running; then
    if [[ $current == "$(cat "$BGPCOMM_STATE_DIR/webhook.args" 2>/dev/null)" ]]; then
      wait_for 30 ready
      (( want_enforced == 0 )) || ! registered || wait_enforced
      return 0
    fi
    stop
  fi
  [[ -x $webhook_bin ]] || die "$webhook_bin not found; run 'make build'"
  local pki=$BGPCOMM_STATE_DIR/pki pid
  printf '%s' "$current" >"$BGPCOMM_STATE_DIR/webhook.args"
  local logfile=$BGPCOMM_STATE_DIR/logs/webhook.log offset https_port port endpoint
  https_port=$(state_get WEBHOOK_PORT || true)
  printf '\n=== start %s %s\n' "$(date -u +%FT%TZ)" "${args[*]}" >>"$logfile"
  offset=$(log_offset "$logfile")
  # The webhook chooses its ports (0) and logs them. The HTTPS port is chosen once and
  # kept across restarts, since the registration names it.
  pid=$(spawn "$logfile" "$webhook_bin" \
    --kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig" \
    --namespace "$BGPCOMM_NAMESPACE" \
    --tls-cert-file "$pki/webhook.crt" --tls-private-key-file "$pki/webhook.key" \
    --bind-address 127.0.0.1 --port "${https_port:-0}" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    ${args[@]+"${args[@]}"})
  state_set WEBHOOK_PID "$pid"
  for endpoint in health metrics; do
    port=$(port_from_log "$logfile" "$offset" "event=listening endpoint=$endpoint") ||
      { tail -n 20 "$logfile" >&2; return 1; }
    state_set "WEBHOOK_${endpoint^^}_PORT" "$port"
  done
  local deadline=$(( SECONDS + 60 ))
  until ready; do
    if ! running || (( SECONDS > deadline )); then
      log "bgpcomm-webhook $(running && echo 'not ready after 60 s' || echo exited); its log:"
      tail -n 20 "$BGPCOMM_STATE_DIR/logs/webhook.log" >&2
      return 1
    fi
    sleep 0.1
  done
  port=$(port_from_log "$logfile" "$offset" "event=serving") || return 1
  state_set WEBHOOK_PORT "$port"
  log "bgpcomm-webhook ready (pid $pid, port $port) ${args[*]}"
  if (( want_enforced )) && registered; then wait_enforced; fi
}

registered() { kc get validatingwebhookconfiguration bgpcomm-webhook >/dev/null 2>&1; }

cmd=${1:-}; shift || true
case $cmd in
  start) start "$@" ;;
  restart) stop; start "$@" ;;
  stop) stop ;;
  status) ready ;;
  wait-enforced) wait_enforced ;;
  *) die "usage: webhook.sh start|restart [ARGS...] | stop | status | wait-enforced" ;;
esac
