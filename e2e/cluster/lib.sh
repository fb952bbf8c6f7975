# Shared by e2e/cluster/*.sh (sourced, not run). The local control plane's state:
#
#   $BGPCOMM_STATE_DIR (default <repo>/.bgpcomm, git-ignored)
#     kubeconfig            admin (client certificate, O=system:masters)
#     webhook.kubeconfig    the bgpcomm-webhook ServiceAccount's token (least privilege)
#     env                   ports, pids and paths as KEY=value lines (sourceable)
#     pki/                  apiserver CA, serving, admin and service-account keys;
#                           the webhook's own CA and serving certificate
#     logs/                 etcd.log, kube-apiserver.log, webhook.log
#     webhook.args          the extra arguments the webhook was last started with
#   etcd's data directory lives on /dev/shm (path recorded in env as ETCD_DATA).
#
# Every process is started by pid and stopped by that pid only.

BGPCOMM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BGPCOMM_STATE_DIR=${BGPCOMM_STATE_DIR:-$BGPCOMM_REPO/.bgpcomm}
BGPCOMM_NAMESPACE=metallb-system
BGPCOMM_BIN_DIR=${BGPCOMM_BIN_DIR:-$BGPCOMM_REPO/build/bin}

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A TCP port on 127.0.0.1 that nobody listens on and that is not recorded in our
# state already (a small race remains; fine for a local cluster).
free_port() {
  local p _
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    if [[ -f $BGPCOMM_STATE_DIR/env ]] && grep -q "=$p\$" "$BGPCOMM_STATE_DIR/env"; then
      continue
    fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Records KEY=value in env (replacing an earlier value).
state_set() {
  local key=$1 value=$2 file=$BGPCOMM_STATE_DIR/env
  touch "$file"
  sed -i "/^$key=/d" "$file"
  printf '%s=%s\n' "$key" "$value" >>"$file"
}

state_get() {
  local file=$BGPCOMM_STATE_DIR/env
  [[ -f $file ]] || return 1
  sed -n "s/^$1=//p" "$file" | tail -n 1
}

# True when pid is alive and runs the expected executable (pid reuse guard).
pid_is() {
  local pid=$1 exe=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$exe")"* ]]
}

# Stops one process by pid: TERM, up to $3 s (default 20), then KILL.
stop_pid() {
  local pid=$1 exe=$2 wait_s=${3:-20} i
  pid_is "$pid" "$exe" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for (( i = 0; i < wait_s * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid ($(basename "$exe")) ignored TERM for ${wait_s}s; killing"
  kill -KILL "$pid" 2>/dev/null || true
  for (( i = 0; i < 50; i++ )); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

# Starts a long-running process detached from the caller's terminal and session,
# with no descriptor of the caller's open beyond 0-2 (bats waits for its fd 3 to be
# closed; a daemon holding it would hang the suite); prints its pid.
# Usage: spawn LOGFILE CMD ARGS...
spawn() {
  local logfile=$1; shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      (( fd > 2 )) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid "$@" </dev/null >>"$logfile" 2>&1
  ) &
  echo $!
}

kc() { "$KUBECTL" --kubeconfig "$BGPCOMM_STATE_DIR/kubeconfig" "$@"; }

# Writes OUT (mode 600): a kubeconfig for the ServiceAccount NAMESPACE/SA with a token
# minted now (never admin credentials), for the server and CA of the admin kubeconfig.
# Usage: sa_kubeconfig SA NAMESPACE OUT [DURATION (default 48h)]
sa_kubeconfig() {
  local sa=$1 ns=$2 out=$3 duration=${4:-48h} token server ca
  token=$(kc create token "$sa" -n "$ns" --duration="$duration") || return 1
  server=$(kc config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
  ca=$(kc config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  (umask 077; cat >"$out" <<KC
apiVersion: v1
kind: Config
clusters:
- name: bgpcomm
  cluster:
    server: $server
    certificate-authority-data: $ca
users:
- name: $sa
  user:
    token: $token
contexts:
- name: $sa
  context: {cluster: bgpcomm, user: $sa, namespace: $ns}
current-context: $sa
KC
  )
}

# Waits until CMD... succeeds, at most SECONDS. Usage: wait_for SECONDS WHAT CMD...
wait_for() {
  local seconds=$1 what=$2 deadline; shift 2
  deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s%N) < deadline )) || { log "timed out after ${seconds}s waiting for $what"; return 1; }
    sleep 0.2
  done
}
