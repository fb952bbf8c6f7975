#!/usr/bin/env bats
# The chart's certManager.enabled mode against a real cert-manager (its controller and
# cainjector as host processes, e2e/kind/cert-manager.sh): helm upgrade into it, the
# chain issued and Ready, the CA injected into both webhook configurations, the webhook
# serving the certificate of the Secret, then 20 forced renewals of the serving
# Certificate while BGPAdvertisements are created (not one create may fail), and helm
# upgrade back to self mode. The cluster is left as up.sh made it: self mode, no
# cert-manager process, CRD or namespace.

load ../suites/helpers
load suite

RENEWALS=20
CERT=bgpcomm-webhook            # the serving Certificate (and the webhook's Service)
SECRET=bgpcomm-webhook-cert     # its Secret, mounted by the webhook pods
CA_SECRET=bgpcomm-webhook-ca    # the CA Certificate's Secret

helm_() { "$HELM" --kubeconfig "$KUBECONFIG" "$@"; }
webhook_replicas() { k -n "$NS" get deployment bgpcomm-webhook -o jsonpath='{.spec.replicas}'; }
secret_pem() {  # SECRET KEY
  k -n "$NS" get secret "$1" -o jsonpath="{.data.${2//./\\.}}" | base64 -d
}
# sha256 of the leaf's public key, as curl's --pinnedpubkey takes it: each renewal makes a
# new key (rotationPolicy: Always), so the pin names one issuance.
pin_of() { openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64; }
serial_of() { openssl x509 -noout -serial | cut -d= -f2; }
# The serial of each certificate of a base64 PEM bundle (a caBundle), one per line, sorted.
bundle_serials() {
  base64 -d | awk -v cmd='openssl x509 -noout -serial | cut -d= -f2' '
    /-----BEGIN CERTIFICATE-----/ { pem = "" }
    { pem = pem $0 "\n" }
    /-----END CERTIFICATE-----/ { printf "%s", pem | cmd; close(cmd) }' | sort
}
webhook_pods() {
  k -n "$NS" get pods -l app.kubernetes.io/component=webhook \
    -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}} {{.status.podIP}} {{(index .status.containerStatuses 0).restartCount}}{{"\n"}}{{end}}{{end}}' | sort
}
cm_enabled() { [[ $(helm_ get values bgpcomm -n "$NS" -a -o json | jq -r .certManager.enabled) == true ]]; }

setup_file() {
  require_cluster
  reset_kind_objects
  helm_ get values bgpcomm -n "$NS" -o yaml >"$BATS_FILE_TMPDIR/values.yaml"
  # Self mode's CA: cainjector's caBundle must be another.
  k -n "$NS" get secret "$SECRET" -o jsonpath='{.data.ca\.crt}' >"$BATS_FILE_TMPDIR/self-ca"
  "$KIND_E2E/cert-manager.sh" start >"$BATS_FILE_TMPDIR/cert-manager.log" 2>&1 ||
    fail "cert-manager.sh start failed: $(cat "$BATS_FILE_TMPDIR/cert-manager.log")"
  # The node every TLS check runs from, and the webhook's container port.
  NODE=$(workers | head -n1)
  PORT=$(k -n "$NS" get deployment bgpcomm-webhook \
    -o jsonpath='{.spec.template.spec.containers[0].ports[?(@.name=="https")].containerPort}')
  export NODE PORT
}

teardown_file() {
  reset_kind_objects
  # Self mode again if the last test did not get there: a Secret cert-manager wrote that
  # Helm cannot adopt goes first.
  if cm_enabled; then
    helm_ upgrade bgpcomm "$E2E_REPO/charts/bgpcomm" -n "$NS" -f "$BATS_FILE_TMPDIR/values.yaml" \
      --wait --timeout 5m >/dev/null 2>&1 || {
      k -n "$NS" delete secret "$SECRET" --ignore-not-found >/dev/null
      helm_ upgrade bgpcomm "$E2E_REPO/charts/bgpcomm" -n "$NS" -f "$BATS_FILE_TMPDIR/values.yaml" \
        --wait --timeout 5m >/dev/null
    }
    provider_wait_old_webhook_pods_gone "$(webhook_replicas)" || true
  fi
  # cert-manager does not delete the Secrets it wrote: the CA's is nobody's now.
  k -n "$NS" delete secret "$CA_SECRET" --ignore-not-found >/dev/null
  "$KIND_E2E/cert-manager.sh" delete >/dev/null 2>&1
  provider_wait_enforced
}

# Every webhook pod serves, to a client that trusts only CA_FILE, the leaf whose key has
# the pin PIN (curl from a node, to each pod's address, under the Service's name).
every_pod_serves() {  # PIN
  local name ip restarts n=0
  while read -r name ip restarts; do
    [[ -n $ip ]] || return 1
    "$KIND_E2E/kind.sh" docker exec "$NODE" curl -sS --max-time 5 --cacert /etc/bgpcomm-e2e-cm-ca.crt \
      --pinnedpubkey "sha256//$1" --resolve "$CERT.$NS.svc:$PORT:$ip" \
      "https://$CERT.$NS.svc:$PORT/healthz" >/dev/null 2>&1 || return 1
    n=$(( n + 1 ))
  done < <(webhook_pods)
  (( n == $(webhook_replicas) ))
}

@test "helm upgrade to certManager.enabled=true: cert-manager issues the chain and the webhook serves from its Secret" {
  local t0=$SECONDS
  run helm_ upgrade bgpcomm "$E2E_REPO/charts/bgpcomm" -n "$NS" --reuse-values \
    --set certManager.enabled=true --wait --timeout 5m
  assert_success
  provider_wait_old_webhook_pods_gone "$(webhook_replicas)"
  run k -n "$NS" wait --for=condition=Ready --timeout=120s \
    "certificate/$CA_SECRET" "certificate/$CERT" issuer/bgpcomm-webhook-selfsigned issuer/bgpcomm-webhook-ca
  assert_success
  echo "# upgrade to cert-manager mode: $(( SECONDS - t0 )) s to the chain Ready and the old pods gone" >&3
  run k -n "$NS" get deployment bgpcomm-webhook -o jsonpath='{.spec.template.spec.containers[0].args}'
  assert_output --partial '"--cert-mode=files"'
  refute_output --partial 'cert-mode=self'
  # The Secret is cert-manager's, for this Certificate, signed by the CA Issuer: its leaf
  # verifies against the CA Certificate's Secret, which is the CA it carries.
  run k -n "$NS" get secret "$SECRET" \
    -o jsonpath='{.metadata.annotations.cert-manager\.io/certificate-name} {.metadata.annotations.cert-manager\.io/issuer-name}'
  assert_output "$CERT bgpcomm-webhook-ca"
  run openssl verify -CAfile <(secret_pem "$CA_SECRET" tls.crt) <(secret_pem "$SECRET" tls.crt)
  assert_success
  [[ $(secret_pem "$SECRET" ca.crt | serial_of) == $(secret_pem "$CA_SECRET" tls.crt | serial_of) ]] ||
    fail "the serving Secret's ca.crt is not the CA Certificate"
}

@test "cainjector put the chain's CA into every webhook of both configurations" {
  local ca self extra
  ca=$(secret_pem "$SECRET" ca.crt | serial_of)
  self=$(bundle_serials <"$BATS_FILE_TMPDIR/self-ca")
  [[ -n $ca && -n $self ]] || fail "no CA in the serving Secret ('$ca') or in self mode's ('$self')"
  ! grep -qx "$ca" <<<"$self" || fail "the chain's CA is self mode's"
  bundles() {
    k get validatingwebhookconfiguration/bgpcomm-webhook mutatingwebhookconfiguration/bgpcomm-webhook \
      -o jsonpath='{range .items[*].webhooks[*]}{.clientConfig.caBundle}{"\n"}{end}'
  }
  injected() { [[ $(bundles | sort -u | grep -c .) == 1 ]] && bundles | head -n1 | bundle_serials | grep -qx "$ca"; }
  eventually_ms 60000 injected || fail "not every caBundle holds the chain's CA $ca: $(bundles | cut -c1-40)"
  # Five validating webhooks and one mutating, each with the same bundle.
  [[ $(bundles | grep -c .) == 6 ]] || fail "$(bundles | grep -c .) webhooks carry a caBundle, not 6"
  # Nothing else but self mode's CA: cert-manager's cainjector merges a new CA into the
  # bundle it finds (feature gate CAInjectorMerging, on by default since v1.19) and drops
  # the old ones as they expire.
  extra=$(bundles | head -n1 | bundle_serials | grep -vx "$ca" | grep -vxF -f <(echo "$self") || true)
  [[ -z $extra ]] || fail "certificates in the caBundle that are neither the chain's CA nor self mode's: $extra"
  run k get validatingwebhookconfiguration/bgpcomm-webhook \
    -o jsonpath='{.metadata.annotations.cert-manager\.io/inject-ca-from}'
  assert_output "$NS/$CERT"
}

@test "every webhook pod serves the certificate of the Secret, trusted through the injected CA" {
  local pin
  k -n "$NS" get validatingwebhookconfiguration/bgpcomm-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}' |
    base64 -d | "$KIND_E2E/kind.sh" docker exec -i "$NODE" sh -c 'cat >/etc/bgpcomm-e2e-cm-ca.crt'
  pin=$(secret_pem "$SECRET" tls.crt | pin_of)
  # The kubelet may not have written the Secret into a new pod's volume yet.
  eventually_ms 90000 every_pod_serves "$pin" || fail "not every webhook pod serves the Secret's certificate"
  # The check can fail: a pin of another key is refused.
  run every_pod_serves "$(secret_pem "$CA_SECRET" tls.crt | pin_of)"
  assert_failure
}

@test "a bad BGPAdvertisement is denied with the webhook's message" {
  provider_wait_enforced
  k apply -f "$E2E_WALKTHROUGH/01-community.yaml" -f "$E2E_WALKTHROUGH/02-ip-pool.yaml" >/dev/null
  run k apply -f "$E2E_WALKTHROUGH/03-bgp-advertisement.yaml"
  assert_success
  run bash -c "sed 's/- primary-route/- primary-rout/' '$E2E_WALKTHROUGH/03-bgp-advertisement.yaml' | '$KUBECTL' apply -f -"
  assert_denied
  assert_output --partial 'admission webhook "validate-bgpadvertisement.bgpcomm.io" denied the request'
  assert_output --partial 'spec.communities[0]: "primary-rout" is not a community value, well-known name or alias defined in namespace metallb-system; did you mean "primary-route"?'
}

# stream ID: creates good BGPAdvertisements until the file $STOP exists; one line per
# create: "ok NAME" or "FAILED NAME: message".
stream() {
  local id=$1 i=0 out
  while [[ ! -e $STOP ]]; do
    i=$(( i + 1 ))
    if out=$(k create -f - 2>&1 <<YAML
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: renew-$id-$i, namespace: $NS}
spec:
  ipAddressPools: [production-pool]
  communities: [primary-route, "64512:$i"]
YAML
    ); then echo "ok renew-$id-$i"; else echo "FAILED renew-$id-$i: ${out//$'\n'/ | }"; fi
  done
}

# What `cmctl renew` does: the Certificate's Issuing condition set to True on its status.
renew() {
  local patch
  patch=$(k -n "$NS" get certificate "$CERT" -o json | jq -c --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
    {status: {conditions: ([.status.conditions[] | select(.type != "Issuing")] + [{
      type: "Issuing", status: "True", reason: "ManuallyTriggered",
      message: "Certificate re-issuance manually triggered", lastTransitionTime: $now,
      observedGeneration: .metadata.generation}])}}')
  k -n "$NS" patch certificate "$CERT" --subresource=status --type=merge -p "$patch" >/dev/null
}
revision() { k -n "$NS" get certificate "$CERT" -o jsonpath='{.status.revision}'; }
# Renewed: a later revision, no Issuing condition left, Ready.
renewed_since() {  # REVISION
  local rev issuing ready
  IFS=/ read -r rev issuing ready < <(k -n "$NS" get certificate "$CERT" \
    -o jsonpath='{.status.revision}/{.status.conditions[?(@.type=="Issuing")].status}/{.status.conditions[?(@.type=="Ready")].status}') || true  # no newline: read says EOF
  (( ${rev:-0} > $1 )) && [[ -z $issuing && $ready == True ]]
}

@test "$RENEWALS forced renewals of the serving Certificate while BGPAdvertisements are created: not one create fails" {
  local pods_before serials=() t0 i rev ok failed waited
  k apply -f "$E2E_WALKTHROUGH/01-community.yaml" -f "$E2E_WALKTHROUGH/02-ip-pool.yaml" >/dev/null
  pods_before=$(webhook_pods)
  serials+=("$(secret_pem "$SECRET" tls.crt | serial_of)")
  STOP=$BATS_FILE_TMPDIR/stop
  rm -f "$STOP"
  stream a >"$BATS_FILE_TMPDIR/stream-a" &
  local a=$!
  stream b >"$BATS_FILE_TMPDIR/stream-b" &
  local b=$!
  # The load runs before the first renewal.
  load_runs() { [[ $(cat "$BATS_FILE_TMPDIR"/stream-? | grep -c '^ok ') -ge 4 ]]; }
  eventually_ms 30000 load_runs || { touch "$STOP"; wait "$a" "$b"; fail "the creates did not start: $(head -n 3 "$BATS_FILE_TMPDIR"/stream-?)"; }
  t0=$SECONDS
  for (( i = 1; i <= RENEWALS; i++ )); do
    rev=$(revision)
    renew || { touch "$STOP"; wait "$a" "$b"; fail "renewal $i: the status patch failed"; }
    eventually_ms 60000 renewed_since "$rev" || {
      touch "$STOP"; wait "$a" "$b"; fail "renewal $i: revision $rev not followed by a Ready one in 60 s"; }
    serials+=("$(secret_pem "$SECRET" tls.crt | serial_of)")
  done
  local renew_secs=$(( SECONDS - t0 ))
  # The newest certificate reaches every pod (the kubelet refreshes the mounted Secret
  # within about a minute) while the creates go on.
  local pin
  pin=$(secret_pem "$SECRET" tls.crt | pin_of)
  t0=$SECONDS
  eventually_ms 150000 every_pod_serves "$pin" || waited=no
  local served_secs=$(( SECONDS - t0 ))
  touch "$STOP"
  wait "$a" "$b"
  ok=$(cat "$BATS_FILE_TMPDIR"/stream-? | grep -c '^ok ' || true)
  failed=$(cat "$BATS_FILE_TMPDIR"/stream-? | grep -c '^FAILED' || true)
  echo "# $RENEWALS renewals in $renew_secs s, newest served by every pod $served_secs s later; creates ok=$ok failed=$failed" >&3
  grep -h '^FAILED' "$BATS_FILE_TMPDIR"/stream-? | head -n 5 >&3 || true
  (( failed == 0 )) || fail "$failed creates failed during the renewals"
  (( ok >= 2 * RENEWALS )) || fail "only $ok creates during $RENEWALS renewals"
  # Each renewal was a new certificate (revision and serial), all stored.
  [[ $(printf '%s\n' "${serials[@]}" | sort -u | grep -c .) == $(( RENEWALS + 1 )) ]] ||
    fail "not $(( RENEWALS + 1 )) distinct serials: ${serials[*]}"
  [[ ${waited:-yes} == yes ]] || fail "after 150 s not every webhook pod serves the newest certificate"
  # Reloaded in place: the same pods, none restarted, and each says it reloaded.
  [[ $(webhook_pods) == "$pods_before" ]] || fail "webhook pods changed: before '$pods_before', now '$(webhook_pods)'"
  local name ip restarts
  while read -r name ip restarts; do
    k -n "$NS" logs "$name" | grep -q 'event=certificate_reloaded' || fail "$name never logged event=certificate_reloaded"
  done <<<"$pods_before"
  run k -n "$NS" get bgpadvertisements -o name
  [[ $(grep -c '/renew-' <<<"$output") == "$ok" ]] || fail "$ok creates succeeded but $(grep -c '/renew-' <<<"$output") are stored"
}

@test "helm upgrade back to self mode: the webhook takes over the Secret and admission goes on" {
  local serial
  serial=$(secret_pem "$SECRET" tls.crt | serial_of)
  run helm_ upgrade bgpcomm "$E2E_REPO/charts/bgpcomm" -n "$NS" -f "$BATS_FILE_TMPDIR/values.yaml" \
    --wait --timeout 5m
  assert_success
  provider_wait_old_webhook_pods_gone "$(webhook_replicas)"
  run k -n "$NS" get deployment bgpcomm-webhook -o jsonpath='{.spec.template.spec.containers[0].args}'
  assert_output --partial '"--cert-mode=self"'
  run k -n "$NS" get certificates,issuers -o name
  assert_output ''
  provider_wait_enforced
  # Self mode keeps the Secret and every caBundle in step again.
  in_step() {
    [[ $(k get validatingwebhookconfiguration/bgpcomm-webhook mutatingwebhookconfiguration/bgpcomm-webhook \
      -o jsonpath='{range .items[*].webhooks[*]}{.clientConfig.caBundle}{"\n"}{end}' | sort -u) == \
      "$(k -n "$NS" get secret "$SECRET" -o jsonpath='{.data.ca\.crt}')" ]]
  }
  eventually_ms 60000 in_step || fail "the caBundles are not the CA of $SECRET"
  # Helm adopted cert-manager's Secret (the chart's secretTemplate) and self mode serves on
  # from the certificate cert-manager issued last: nothing had to be trusted anew.
  run k -n "$NS" get secret "$SECRET" -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by} {.metadata.annotations.meta\.helm\.sh/release-name}'
  assert_output 'Helm bgpcomm'
  [[ $(secret_pem "$SECRET" tls.crt | serial_of) == "$serial" ]] ||
    fail "self mode replaced the certificate cert-manager issued ($serial)"
  run bash -c "sed 's/- primary-route/- primary-rout/' '$E2E_WALKTHROUGH/03-bgp-advertisement.yaml' | '$KUBECTL' apply -f -"
  assert_denied
}
