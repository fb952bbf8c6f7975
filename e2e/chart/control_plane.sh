# Source me: a private etcd + kube-apiserver for the chart tests, separate from the
# shared local control plane (e2e/cluster/up.sh), because installing the chart
# registers cluster-wide webhooks that would intercept the other suites' writes.
#   cp_start DIR   starts both (state in DIR), writes DIR/kubeconfig (admin), sets
#                  CP_KUBECONFIG, CP_API_PORT; cp_stop stops them by pid.
# Needs . e2e/tools/paths.sh first (ETCD, KUBE_APISERVER, KUBECTL).

cp_etcd_pid= cp_api_pid=

# stop_pid and free_port: e2e/lib/proc.bash.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/proc.bash"

cp_stop() {  # the apiserver first: without etcd it can hang in shutdown
  stop_pid "$cp_api_pid"; cp_api_pid=
  stop_pid "$cp_etcd_pid"; cp_etcd_pid=
}

cp_start() {
  local dir=$1 etcd_port peer_port i
  # etcd and kube-apiserver cannot choose their own ports (see proc.bash, free_port).
  etcd_port=$(free_port); peer_port=$(free_port "$etcd_port")
  CP_API_PORT=$(free_port "$etcd_port" "$peer_port")
  local pki=$dir/pki; mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
      -subj "/CN=bgpcomm-chart-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout serving.key -out serving.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > serving.ext
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
  "$ETCD" --name chart --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "chart=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level warn >"$dir/etcd.log" 2>&1 &
  cp_etcd_pid=$!
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$etcd_port") 2>/dev/null && break
    kill -0 "$cp_etcd_pid" 2>/dev/null || { echo "etcd exited" >&2; return 1; }
    (( i < 100 )) || { echo "etcd not listening after 20 s" >&2; return 1; }
    sleep 0.2
  done
  "$KUBE_APISERVER" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$CP_API_PORT" \
    --tls-cert-file="$pki/serving.crt" --tls-private-key-file="$pki/serving.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer="https://127.0.0.1:$CP_API_PORT" \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --authorization-mode=RBAC \
    --disable-admission-plugins=ServiceAccount >"$dir/kube-apiserver.log" 2>&1 &
  cp_api_pid=$!
  CP_KUBECONFIG=$dir/kubeconfig
  cat >"$CP_KUBECONFIG" <<KC
apiVersion: v1
kind: Config
clusters:
- name: chart
  cluster:
    server: https://127.0.0.1:$CP_API_PORT
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$pki/admin.crt")
    client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
- name: chart
  context: {cluster: chart, user: admin}
current-context: chart
KC
  chmod 600 "$CP_KUBECONFIG"
  for i in $(seq 1 240); do
    "$KUBECTL" --kubeconfig "$CP_KUBECONFIG" get --raw /readyz >/dev/null 2>&1 && return 0
    kill -0 "$cp_api_pid" 2>/dev/null || { echo "kube-apiserver exited" >&2; return 1; }
    sleep 0.5
  done
  echo "kube-apiserver not ready after 120 s" >&2; return 1
}
