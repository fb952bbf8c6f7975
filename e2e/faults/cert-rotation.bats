#!/usr/bin/env bats
# Certificate rotation under load: a webhook of its own (--cert-mode=self, a new serving
# certificate every ~6 s in three steps 2 s apart, its CA injected into its own
# ValidatingWebhookConfiguration)
# is called by the apiserver for every Community and BGPAdvertisement of a fresh
# namespace while two streams of kubectl applies run across several rotations. Zero
# admissions may fail; every good object is stored and every bad one denied by it.

load ../suites/helpers
load ../suites/lib/webhook-process

SECONDS_OF_LOAD=24

setup_file() {
  require_cluster
  TEST_NS=$(fresh_ns_own_webhook)
  CONFIG=bgpcomm-e2e-rotation-${TEST_NS: -8}
  export TEST_NS CONFIG
  own_identity "$TEST_NS" rotation "$BATS_FILE_TMPDIR/kubeconfig" "$CONFIG"
  # The webhook chooses its port; registered by URL with that port once it serves, the
  # configuration then gets its CA from it (it looks again every second).
  local logfile=$BATS_FILE_TMPDIR/webhook.log
  OWN_PID=$(spawn "$logfile" "$OWN_WEBHOOK_BIN" --bind-address 127.0.0.1 \
    --port 0 --metrics-bind-address 0 --health-probe-bind-address 127.0.0.1:0 \
    --kubeconfig "$BATS_FILE_TMPDIR/kubeconfig" --namespace "$TEST_NS" --leader-elect=false \
    --cert-mode=self --cert-namespace "$TEST_NS" --cert-dir "$BATS_FILE_TMPDIR/certs" \
    --cert-ip-address 127.0.0.1 --validating-webhook-configuration "$CONFIG" \
    --mutating-webhook-configuration "" --cert-validity 12s --cert-rotate-before 8s \
    --cert-check-interval 1s --cert-rollover-delay 2s --allocate-addresses=false \
    --log-level debug)
  echo "$OWN_PID" >>"$OWN_PIDS_FILE"
  OWN_HEALTH_PORT=$(port_from_log "$logfile" 0 "event=listening endpoint=health")
  wait_for 30 curl -sf "http://127.0.0.1:$OWN_HEALTH_PORT/readyz"
  OWN_PORT=$(port_from_log "$logfile" 0 "event=serving")
  export OWN_PID OWN_PORT
  k apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: $CONFIG}
webhooks:
  - name: community.rotation.e2e.bgpcomm.io
    clientConfig: {url: "https://127.0.0.1:$OWN_PORT/validate-metallb-io-v1beta1-community"}
    rules: [{apiGroups: [metallb.io], apiVersions: [v1beta1], resources: [communities],
             operations: [CREATE, UPDATE], scope: Namespaced}]
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $TEST_NS}}
    failurePolicy: Fail
    sideEffects: None
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
YAML
  wait_for 30 enforced_by_own  # its CA injected into $CONFIG
}

teardown_file() {
  own_webhook_stop_all
  k delete validatingwebhookconfiguration "$CONFIG" --ignore-not-found >/dev/null 2>&1 || true
  own_identity_delete "$TEST_NS" rotation
}

bad_community() {
  cat <<YAML
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: rotation-bad, namespace: $TEST_NS}
spec:
  communities: [{name: too-big, value: "64512:70000"}]
YAML
}

# Denied by this suite's webhook (not only by the cluster's).
enforced_by_own() {
  local out
  out=$(bad_community | k apply --dry-run=server -f - 2>&1) && return 1
  [[ $out == *'admission webhook "community.rotation.e2e.bgpcomm.io" denied the request'* ]]
}

# stream ID: applies good Communities (and every 5th a bad one) until the load time
# is over; one line per apply: "ok NAME", "denied NAME" or "FAILED NAME: message".
stream() {
  local id=$1 i=0 out name end=$((SECONDS + SECONDS_OF_LOAD))
  while ((SECONDS < end)); do
    i=$((i + 1))
    if ((i % 5 == 0)); then
      if out=$(bad_community | k apply -f - 2>&1); then echo "FAILED bad admitted: $out"
      elif [[ $out == *"denied the request"* ]]; then echo "denied rotation-bad"
      else echo "FAILED rotation-bad: ${out//$'\n'/ | }"; fi
      continue
    fi
    name=rot-$id-$i
    if out=$(k apply -f - 2>&1 <<YAML
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: $name, namespace: $TEST_NS}
spec:
  communities: [{name: c-$id-$i, value: "64512:$i"}]
YAML
    ); then echo "ok $name"; else echo "FAILED $name: ${out//$'\n'/ | }"; fi
  done
}

@test "applies across several rotations: zero failed admissions" {
  local serials=() start=$SECONDS
  stream a >"$BATS_FILE_TMPDIR/stream-a" &
  local a=$!
  stream b >"$BATS_FILE_TMPDIR/stream-b" &
  local b=$!
  while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null; do
    serials+=("$(k get secret bgpcomm-webhook-cert -n "$TEST_NS" -o 'jsonpath={.data.tls\.crt}' |
      base64 -d | openssl x509 -noout -serial 2>/dev/null)")
    sleep 1
  done
  wait "$a" "$b"
  local rotations ok denied failed reloads
  rotations=$(printf '%s\n' "${serials[@]}" | sort -u | wc -l)
  ok=$(cat "$BATS_FILE_TMPDIR"/stream-? | grep -c '^ok ' || true)
  denied=$(cat "$BATS_FILE_TMPDIR"/stream-? | grep -c '^denied ' || true)
  failed=$(cat "$BATS_FILE_TMPDIR"/stream-? | grep -c '^FAILED' || true)
  reloads=$(grep -c 'event=certificate_reloaded' "$BATS_FILE_TMPDIR/webhook.log" || true)
  echo "# $((SECONDS - start)) s: $rotations serving certificates, $reloads reloads; ok=$ok denied=$denied failed=$failed" >&3
  grep '^FAILED' "$BATS_FILE_TMPDIR"/stream-? | head -5 || true
  ((failed == 0))
  ((rotations >= 3))
  ((reloads >= 2))
  ((ok >= 10 && denied >= 2))
  # Every admitted object is stored: nothing lost.
  run k get communities -n "$TEST_NS" -o name
  [[ $(grep -c '^community.metallb.io/rot-' <<<"$output") == "$ok" ]]
  # This suite's webhook judged them (its log names each admission it allowed).
  (( $(grep -c 'event=admission .*outcome=allowed' "$BATS_FILE_TMPDIR/webhook.log") >= ok ))
  enforced_by_own
}
