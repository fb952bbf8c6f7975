#!/usr/bin/env bash
# Smoke test of the cached tools: starts etcd (data on /dev/shm) and
# kube-apiserver with envtest-style flags on 127.0.0.1 with free ports, waits
# for /readyz, runs a few kubectl commands (and helm version), then stops both by
# pid and removes everything. Exit 0 when it all worked.
#
# Usage: smoke.sh [--keep]   (--keep: leave the control plane running and print
#                             how to use and stop it; for poking around by hand)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/paths.sh"
keep=0; [[ ${1:-} == --keep ]] && keep=1

for c in openssl; do
  command -v $c >/dev/null || { echo "smoke.sh: '$c' is needed" >&2; exit 1; }
done

shm=/dev/shm; [[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
dir=$(mktemp -d "$shm/bgpcomm-smoke.XXXXXX")
etcd_pid= api_pid=
# spawn-free here (children of this script), but stop_pid and free_port as everywhere:
# e2e/lib/proc.bash. The apiserver is stopped first: stopped while etcd is already gone,
# it can hang in shutdown.
. "$here/../lib/proc.bash"
cleanup() {
  local rc=$?
  if (( keep && rc == 0 )); then return; fi
  local t0=$SECONDS
  stop_pid "$api_pid"; stop_pid "$etcd_pid"
  (( rc != 0 )) || echo "stopped apiserver and etcd in $(( SECONDS - t0 )) s"
  if (( rc != 0 )); then
    echo "--- etcd.log (tail)"; tail -n 20 "$dir/etcd.log" 2>/dev/null || true
    echo "--- kube-apiserver.log (tail)"; tail -n 40 "$dir/kube-apiserver.log" 2>/dev/null || true
  fi >&2
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo "smoke.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# etcd and kube-apiserver cannot choose their own ports (see proc.bash, free_port).
etcd_port=$(free_port); peer_port=$(free_port "$etcd_port"); api_port=$(free_port "$etcd_port" "$peer_port")

# --- throwaway PKI -----------------------------------------------------------
pki=$dir/pki; mkdir -p "$pki"
(
  cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=bgpcomm-smoke-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout serving.key -out serving.csr \
    -subj "/CN=kube-apiserver" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > serving.ext
  openssl x509 -req -in serving.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out serving.crt -days 2 -extfile serving.ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr \
    -subj "/O=system:masters/CN=admin" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > admin.ext
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out admin.crt -days 2 -extfile admin.ext 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
)

# --- etcd --------------------------------------------------------------------
"$ETCD" --name smoke --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "smoke=http://127.0.0.1:$peer_port" \
  --unsafe-no-fsync --log-level warn >"$dir/etcd.log" 2>&1 &
etcd_pid=$!
for i in $(seq 1 100); do   # etcd listening, so the apiserver starts cleanly
  (exec 3<>"/dev/tcp/127.0.0.1/$etcd_port") 2>/dev/null && break
  kill -0 "$etcd_pid" 2>/dev/null || { echo "smoke.sh: etcd exited" >&2; exit 1; }
  (( i < 100 )) || { echo "smoke.sh: etcd not listening after 20 s" >&2; exit 1; }
  sleep 0.2
done

# --- kube-apiserver ----------------------------------------------------------
api_flags=(
  --etcd-servers="http://127.0.0.1:$etcd_port"
  --bind-address=127.0.0.1
  --advertise-address=127.0.0.1
  --secure-port="$api_port"
  --tls-cert-file="$pki/serving.crt"
  --tls-private-key-file="$pki/serving.key"
  --client-ca-file="$pki/ca.crt"
  --service-account-issuer="https://127.0.0.1:$api_port"
  --service-account-key-file="$pki/sa.pub"
  --service-account-signing-key-file="$pki/sa.key"
  --service-cluster-ip-range=10.0.0.0/24
  --authorization-mode=RBAC
  --disable-admission-plugins=ServiceAccount
  --allow-privileged=true
)
start=$(date +%s)
"$KUBE_APISERVER" "${api_flags[@]}" >"$dir/kube-apiserver.log" 2>&1 &
api_pid=$!

kc=$dir/kubeconfig
cat >"$kc" <<KC
apiVersion: v1
kind: Config
clusters:
- name: smoke
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$pki/admin.crt")
    client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
- name: smoke
  context: {cluster: smoke, user: admin}
current-context: smoke
KC
k() { "$KUBECTL" --kubeconfig "$kc" "$@"; }

for i in $(seq 1 120); do
  if k get --raw /readyz >/dev/null 2>&1; then break; fi
  kill -0 "$api_pid" 2>/dev/null || { echo "smoke.sh: kube-apiserver exited" >&2; exit 1; }
  kill -0 "$etcd_pid" 2>/dev/null || { echo "smoke.sh: etcd exited" >&2; exit 1; }
  (( i < 120 )) || { echo "smoke.sh: /readyz not ok after 60 s" >&2; exit 1; }
  sleep 0.5
done
echo "apiserver ready in $(( $(date +%s) - start )) s on https://127.0.0.1:$api_port (etcd :$etcd_port)"
k get --raw /readyz; echo
k get ns
resources=$(k api-resources)   # not `| head`: SIGPIPE + pipefail would fail the run
head -n 10 <<<"$resources"
k auth whoami 2>/dev/null || true
"$HELM" version --short

if (( keep )); then
  cat <<MSG
left running (--keep):
  export KUBECONFIG=$kc
  stop:  kill $api_pid $etcd_pid; rm -rf $dir
MSG
else
  echo "smoke: OK"
fi
