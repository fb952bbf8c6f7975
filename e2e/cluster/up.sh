#!/usr/bin/env bash
# Starts (or checks) the local control plane: etcd and kube-apiserver as plain
# processes on free loopback ports, the metallb.io CRDs, namespace metallb-system, the
# webhook's ServiceAccount and RBAC, and bgpcomm-webhook running with a token of that
# ServiceAccount, registered by URL and enforcing. See shared/TESTING.md, "A local
# control plane", and e2e/cluster/README.md.
#
# Usage: e2e/cluster/up.sh [-- WEBHOOK_ARGS...]
#   WEBHOOK_ARGS (or $BGPCOMM_WEBHOOK_ARGS, split on spaces) are passed to
#   bgpcomm-webhook after the flags up.sh sets, e.g. -- --unresolved-aliases=warn.
#
# BGPCOMM_KEEP_ON_FAILURE=1 leaves a failed start running for inspection.
# Idempotent: a second run reuses the running cluster and only fixes what is missing
# (a webhook started with other arguments is restarted). Any failure stops and
# removes everything (down.sh). State: .bgpcomm/ (see lib.sh); admin kubeconfig:
# .bgpcomm/kubeconfig.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

webhook_args=()
if [[ ${1:-} == -- ]]; then shift; webhook_args=("$@");
elif [[ $# -gt 0 ]]; then die "usage: up.sh [-- WEBHOOK_ARGS...]"
elif [[ -n ${BGPCOMM_WEBHOOK_ARGS:-} ]]; then read -r -a webhook_args <<<"$BGPCOMM_WEBHOOK_ARGS"
fi

t_start=$(date +%s%N)
webhook_bin=$BGPCOMM_BIN_DIR/bgpcomm-webhook
[[ -x $webhook_bin ]] || die "$webhook_bin not found; run 'make build' first"
command -v openssl >/dev/null || die "openssl is needed (make deps)"

# Quiet: `make build` has already listed the cached tools; a missing one is built and says so.
"$BGPCOMM_REPO/e2e/tools/install.sh" --quiet >&2
. "$BGPCOMM_REPO/e2e/tools/paths.sh"

succeeded=0
on_exit() {
  local rc=$?
  (( succeeded )) && return 0
  log "failed (exit $rc); logs:"
  for f in "$BGPCOMM_STATE_DIR"/logs/*.log; do
    [[ -f $f ]] || continue
    echo "--- $f (tail)" >&2; tail -n 25 "$f" >&2
  done
  if [[ -n ${BGPCOMM_KEEP_ON_FAILURE:-} ]]; then
    log "BGPCOMM_KEEP_ON_FAILURE is set: left running for inspection; e2e/cluster/down.sh stops it"
    return 0
  fi
  log "cleaning up"
  "$here/down.sh" >&2 || true
}
trap on_exit EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

# --- reuse a running cluster, or clear stale state ------------------------------
api_alive() {
  pid_is "$(state_get ETCD_PID)" "$ETCD" && pid_is "$(state_get APISERVER_PID)" "$KUBE_APISERVER" &&
    [[ -f $BGPCOMM_STATE_DIR/kubeconfig ]] && kc get --raw /readyz >/dev/null 2>&1
}
if [[ -f $BGPCOMM_STATE_DIR/env ]]; then
  if api_alive; then
    log "control plane already running on https://127.0.0.1:$(state_get API_PORT)"
  else
    log "stale state in $BGPCOMM_STATE_DIR; clearing it"
    "$here/down.sh" >&2
  fi
fi
mkdir -p "$BGPCOMM_STATE_DIR"/{pki,logs}
chmod 700 "$BGPCOMM_STATE_DIR"
pki=$BGPCOMM_STATE_DIR/pki

# --- PKI (openssl CLI) ----------------------------------------------------------
# sign NAME CN SUBJ_EXTRA EXTFILE_TEXT CA: key + certificate signed by CA.
sign() {
  local name=$1 subject=$2 ext=$3 ca=$4
  openssl req -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -out "$pki/$name.csr" \
    -subj "$subject" 2>/dev/null
  printf '%b' "$ext" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" \
    -CAcreateserial -out "$pki/$name.crt" -days 30 -extfile "$pki/$name.ext" 2>/dev/null
  rm -f "$pki/$name.csr"
}
new_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -out "$pki/$1.crt" \
    -days 30 -subj "/CN=$2" 2>/dev/null
}
if [[ ! -f $pki/admin.crt ]]; then
  umask 077
  new_ca ca bgpcomm-local-cluster-ca
  sign serving "/CN=kube-apiserver" \
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' ca
  sign admin "/O=system:masters/CN=bgpcomm-admin" 'extendedKeyUsage=clientAuth\n' ca
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  # The webhook's serving CA and certificate (the apiserver dials 127.0.0.1).
  new_ca webhook-ca bgpcomm-webhook-ca
  sign webhook "/CN=bgpcomm-webhook" \
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
    webhook-ca
  umask 022
fi

# --- etcd -------------------------------------------------------------------------
if ! pid_is "$(state_get ETCD_PID)" "$ETCD"; then
  shm=/dev/shm; [[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
  etcd_data=$(mktemp -d "$shm/bgpcomm-etcd.XXXXXX")
  state_set ETCD_DATA "$etcd_data"
  etcd_port=$(cluster_port); state_set ETCD_PORT "$etcd_port"
  peer_port=$(cluster_port); state_set ETCD_PEER_PORT "$peer_port"
  pid=$(spawn "$BGPCOMM_STATE_DIR/logs/etcd.log" "$ETCD" --name bgpcomm \
    --data-dir "$etcd_data/data" --unsafe-no-fsync --log-level warn \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "bgpcomm=http://127.0.0.1:$peer_port")
  state_set ETCD_PID "$pid"
  wait_for 20 port_open "$etcd_port"
  pid_is "$pid" "$ETCD" || die "etcd exited"
fi
etcd_port=$(state_get ETCD_PORT)

# --- kube-apiserver --------------------------------------------------------------
if ! pid_is "$(state_get APISERVER_PID)" "$KUBE_APISERVER"; then
  api_port=$(cluster_port); state_set API_PORT "$api_port"
  # Service ranges of both families: a Service may be dual-stack (ipFamilyPolicy), so
  # that the allocator gives it an address of each (e2e/suites/speaker.bats). IPv4 from
  # 198.18.0.0/15 (RFC 2544, routed nowhere here): room for the 100,000 Services of the
  # speaker measurement, where a /24 held 254. Nothing carries traffic to cluster IPs on
  # this control plane (no kube-proxy), so pools may reuse the block.
  # BGPCOMM_APISERVER_AUDIT_POLICY (a policy file) writes the audit log to
  # logs/audit.log: bench/admission_latency.sh reads each create's time from it.
  pid=$(spawn "$BGPCOMM_STATE_DIR/logs/kube-apiserver.log" "$KUBE_APISERVER" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --tls-cert-file="$pki/serving.crt" --tls-private-key-file="$pki/serving.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer="https://127.0.0.1:$api_port" \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=198.18.0.0/15,2001:db8:ffff::/112 \
    --authorization-mode=RBAC \
    --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true \
    ${BGPCOMM_APISERVER_AUDIT_POLICY:+--audit-policy-file="$BGPCOMM_APISERVER_AUDIT_POLICY"} \
    ${BGPCOMM_APISERVER_AUDIT_POLICY:+--audit-log-path="$BGPCOMM_STATE_DIR/logs/audit.log"})
  state_set APISERVER_PID "$pid"
fi
api_port=$(state_get API_PORT)
server=https://127.0.0.1:$api_port

cat >"$BGPCOMM_STATE_DIR/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: bgpcomm
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: bgpcomm-admin
  user:
    client-certificate-data: $(base64 -w0 "$pki/admin.crt")
    client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
- name: bgpcomm
  context: {cluster: bgpcomm, user: bgpcomm-admin}
current-context: bgpcomm
KC
chmod 600 "$BGPCOMM_STATE_DIR/kubeconfig"

apiserver_ready() {
  pid_is "$(state_get APISERVER_PID)" "$KUBE_APISERVER" || die "kube-apiserver exited"
  kc get --raw /readyz
}
wait_for 90 apiserver_ready
log "kube-apiserver ready on $server"

# --- CRDs, namespace, RBAC ---------------------------------------------------------
kc apply -f "$BGPCOMM_REPO/charts/bgpcomm/crds/" >/dev/null
# `kubectl wait` fails at once ("<nil> is of the type <nil>") on a CRD the apiserver has
# given no status yet: each attempt is short and repeated.
crds_established() {
  kc wait --for=condition=Established --timeout=5s \
    crd/communities.metallb.io crd/bgpadvertisements.metallb.io \
    crd/ipaddresspools.metallb.io crd/bgppeers.metallb.io crd/bfdprofiles.metallb.io >/dev/null 2>&1
}
wait_for 60 crds_established || die "the metallb.io CRDs are not Established after 60 s"
kc get ns "$BGPCOMM_NAMESPACE" >/dev/null 2>&1 || kc create ns "$BGPCOMM_NAMESPACE" >/dev/null
kc apply -f "$here/manifests/webhook-rbac.yaml" >/dev/null

# --- the webhook's kubeconfig: a ServiceAccount token, never admin --------------------
if [[ ! -s $BGPCOMM_STATE_DIR/webhook.kubeconfig ]] ||
   ! grep -q "server: $server\$" "$BGPCOMM_STATE_DIR/webhook.kubeconfig"; then
  sa_kubeconfig bgpcomm-webhook "$BGPCOMM_NAMESPACE" "$BGPCOMM_STATE_DIR/webhook.kubeconfig"
fi

# --- the webhook process ---------------------------------------------------------------
printf '%s\n' ${webhook_args[@]+"${webhook_args[@]}"} | grep -v '^$' \
  >"$BGPCOMM_STATE_DIR/webhook.base-args" || true
"$here/webhook.sh" start --no-wait-enforced ${webhook_args[@]+"${webhook_args[@]}"}

# --- registration by URL ------------------------------------------------------------------
webhook_port=$(state_get WEBHOOK_PORT)
ca_bundle=$(base64 -w0 "$pki/webhook-ca.crt")
# hook NAME PATH RESOURCE OPERATIONS VERSION
hook() {
  cat <<HOOK
  - name: $1.bgpcomm.io
    clientConfig:
      url: https://127.0.0.1:$webhook_port$2
      caBundle: $ca_bundle
    rules:
      - apiGroups: ["metallb.io"]
        apiVersions: ["$5"]
        resources: ["$3"]
        operations: [$4]
        scope: Namespaced
    # Fault and security suites run a webhook of their own in a labelled namespace.
    namespaceSelector:
      matchExpressions: [{key: bgpcomm.io/e2e-own-webhook, operator: DoesNotExist}]
    failurePolicy: Fail
    matchPolicy: Equivalent
    sideEffects: None
    admissionReviewVersions: ["v1"]
    timeoutSeconds: 10
HOOK
}
{
  cat <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: bgpcomm-webhook
  labels: {app.kubernetes.io/part-of: bgpcomm}
webhooks:
YAML
  hook validate-community /validate-metallb-io-v1beta1-community communities \
    '"CREATE", "UPDATE", "DELETE"' v1beta1
  hook validate-bgpadvertisement /validate-metallb-io-v1beta1-bgpadvertisement \
    bgpadvertisements '"CREATE", "UPDATE"' v1beta1
  hook validate-ipaddresspool /validate-metallb-io-v1beta1-ipaddresspool ipaddresspools \
    '"CREATE", "UPDATE", "DELETE"' v1beta1
  hook validate-bgppeer /validate-metallb-io-v1beta2-bgppeer bgppeers '"CREATE", "UPDATE"' v1beta2
  hook validate-bfdprofile /validate-metallb-io-v1beta1-bfdprofile bfdprofiles \
    '"CREATE", "UPDATE", "DELETE"' v1beta1
  cat <<YAML
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: bgpcomm-webhook
  labels: {app.kubernetes.io/part-of: bgpcomm}
webhooks:
YAML
  hook mutate-bgpadvertisement /mutate-metallb-io-v1beta1-bgpadvertisement \
    bgpadvertisements '"CREATE", "UPDATE"' v1beta1
  echo "    reinvocationPolicy: Never"
} >"$BGPCOMM_STATE_DIR/webhook-configurations.yaml"
kc apply -f "$BGPCOMM_STATE_DIR/webhook-configurations.yaml" >/dev/null

"$here/webhook.sh" wait-enforced
succeeded=1
log "ready in $(( ($(date +%s%N) - t_start) / 1000000 )) ms: webhook on https://127.0.0.1:$webhook_port (pid $(state_get WEBHOOK_PID))"
echo "export KUBECONFIG=$BGPCOMM_STATE_DIR/kubeconfig"
