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

# spawn, pid_is, stop_pid, wait_for, port_from_log, free_port: e2e/lib/proc.bash.
. "$BGPCOMM_REPO/e2e/lib/proc.bash"

# A loopback port for etcd or kube-apiserver, which cannot choose their own, that is not
# recorded in env already.
cluster_port() {
  free_port $(sed -n 's/^[A-Z0-9_]*PORT=\([0-9][0-9]*\)$/\1/p' "$BGPCOMM_STATE_DIR/env" 2>/dev/null)
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
