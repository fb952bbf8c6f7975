# Sourced by suites that run a bgpcomm-webhook of their own beside the cluster's (which
# e2e/cluster/webhook.sh manages and these never touch): TLS checks, log checks, faults.
# Needs helpers.bash loaded first (E2E_REPO, KUBECONFIG). Every process is started with
# spawn (detached, logs to a file) and stopped by its pid.
#
#   own_pki DIR                 a CA (DIR/ca.*) and a serving certificate for 127.0.0.1
#                               (DIR/tls.*) made with the openssl CLI
#   own_client_cert DIR NAME CA a client certificate DIR/NAME.{crt,key} signed by DIR/CA
#   own_webhook_start LOG ARGS  runs bgpcomm-webhook on loopback ports it chooses itself
#                               (port 0, read back from its log) with ARGS (after the port
#                               flags), waits for /healthz and for it to serve; sets
#                               OWN_PID, OWN_PORT, OWN_HEALTH_PORT
#   own_webhook_stop            stops it by pid (TERM, then KILL after 15 s)
#   own_webhook_stop_all        stops every one this file started (teardown_file: a
#                               test's OWN_PID does not reach it, tests run in subshells)
#   admission_review UID KIND NAME NS SPEC_JSON   a CREATE AdmissionReview (JSON)
#   own_identity NS NAME KUBECONFIG [CONFIG]  a ServiceAccount NS/NAME with what a webhook
#                               with --namespace NS --cert-mode=self --leader-elect=false
#                               needs (the cluster's read-only ClusterRole bgpcomm-webhook;
#                               Secrets, advertisement patches and Events in NS; get/patch
#                               of ValidatingWebhookConfiguration CONFIG if given), and a
#                               kubeconfig with its token (never admin) at KUBECONFIG
#   own_identity_delete NS NAME the cluster-scoped part of it
. "$E2E_REPO/e2e/cluster/lib.sh"

OWN_WEBHOOK_BIN=$BGPCOMM_BIN_DIR/bgpcomm-webhook
OWN_PID=${OWN_PID:-}  # exported by setup_file; a test re-sources this file
OWN_PIDS_FILE=${BATS_FILE_TMPDIR:-/tmp}/own-webhook.pids

own_pki() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 1 \
    -subj "/CN=bgpcomm-e2e-own-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$dir/tls.key" -out "$dir/tls.csr" \
    -subj "/CN=bgpcomm-webhook" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/tls.ext"
  openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$dir/tls.crt" -days 1 -extfile "$dir/tls.ext" 2>/dev/null
}

own_client_cert() {
  local dir=$1 name=$2 ca=$3
  openssl req -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
    -subj "/CN=$name" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
    -CAcreateserial -out "$dir/$name.crt" -days 1 -extfile "$dir/$name.ext" 2>/dev/null
}

own_webhook_start() {
  local logfile=$1 offset i; shift
  [[ -x $OWN_WEBHOOK_BIN ]] || { echo "$OWN_WEBHOOK_BIN not built" >&2; return 1; }
  offset=$(log_offset "$logfile")
  OWN_PID=$(spawn "$logfile" "$OWN_WEBHOOK_BIN" --bind-address 127.0.0.1 --port 0 \
    --metrics-bind-address 0 --health-probe-bind-address 127.0.0.1:0 "$@")
  echo "$OWN_PID" >>"$OWN_PIDS_FILE"
  if OWN_HEALTH_PORT=$(port_from_log "$logfile" "$offset" "event=listening endpoint=health"); then
    for ((i = 0; i < 300; i++)); do
      if curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$OWN_HEALTH_PORT/healthz"; then
        OWN_PORT=$(port_from_log "$logfile" "$offset" "event=serving") && return 0
        break
      fi
      kill -0 "$OWN_PID" 2>/dev/null || break
      sleep 0.1
    done
  fi
  echo "bgpcomm-webhook did not come up; its log:" >&2
  tail -n 20 "$logfile" >&2
  return 1
}

own_webhook_stop() {
  [[ -n $OWN_PID ]] || return 0
  stop_pid "$OWN_PID" "$OWN_WEBHOOK_BIN" 15
  OWN_PID=
}

own_webhook_stop_all() {
  local pid
  [[ -f $OWN_PIDS_FILE ]] || return 0
  while read -r pid; do stop_pid "$pid" "$OWN_WEBHOOK_BIN" 15; done <"$OWN_PIDS_FILE"
  rm -f "$OWN_PIDS_FILE"
}

admission_review() {
  local uid=$1 kind=$2 name=$3 ns=$4 spec=$5 version=v1beta1 plural
  plural="${kind,,}s"
  [[ $kind == BGPPeer ]] && version=v1beta2
  cat <<JSON
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"$uid",
"kind":{"group":"metallb.io","version":"$version","kind":"$kind"},
"resource":{"group":"metallb.io","version":"$version","resource":"$plural"},
"name":"$name","namespace":"$ns","operation":"CREATE","userInfo":{"username":"e2e"},
"object":{"apiVersion":"metallb.io/$version","kind":"$kind",
"metadata":{"name":"$name","namespace":"$ns"},"spec":$spec},"dryRun":false}}
JSON
}

own_identity() {
  local ns=$1 name=$2 kubeconfig=$3 config=${4:-}
  "$KUBECTL" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: $name, namespace: $ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: $name, namespace: $ns}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [get, create, update]}
  - {apiGroups: [metallb.io], resources: [bgpadvertisements], verbs: [patch]}
  - {apiGroups: [""], resources: [events], verbs: [create, patch]}
  - {apiGroups: [events.k8s.io], resources: [events], verbs: [create, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: $name, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: $name}
subjects: [{kind: ServiceAccount, name: $name, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: $name-read, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: bgpcomm-webhook}
subjects: [{kind: ServiceAccount, name: $name, namespace: $ns}]
YAML
  if [[ -n $config ]]; then
    "$KUBECTL" apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $ns-$name}
rules:
  - apiGroups: [admissionregistration.k8s.io]
    resources: [validatingwebhookconfigurations]
    resourceNames: [$config]
    verbs: [get, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: $ns-$name}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $ns-$name}
subjects: [{kind: ServiceAccount, name: $name, namespace: $ns}]
YAML
  fi
  sa_kubeconfig "$name" "$ns" "$kubeconfig" 20m
}

own_identity_delete() {
  "$KUBECTL" delete clusterrolebinding,clusterrole "$1-$2" --ignore-not-found >/dev/null 2>&1 || true
}
