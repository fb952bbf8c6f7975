#!/usr/bin/env bats
# Certificate renewals under load, as the API server sees them (issue 19 item 3): a
# webhook of its own, registered by URL in a ValidatingWebhookConfiguration of its own
# (failurePolicy: Fail) for the Communities of a fresh namespace, while two streams of
# `kubectl apply` create Communities. Not one create may fail, and (self mode) a new
# connection at any moment must meet a certificate the caBundle of that moment trusts.
#
#   self mode      --cert-mode=self forced to rotate every few seconds (validity 26 s,
#                  rotate-before 14 s, rollover delay 4 s: room for all three steps)
#                  until it has switched to a new serving certificate 20 times, and
#                  dropped a previous CA. Its API traffic passes through a proxy
#                  that holds every answer 0.3 s, as a busy API server would: a caBundle
#                  update lands well after the Secret's, which is the window in which a
#                  webhook that serves a new certificate at once (before the three-step
#                  rotation) fails the API server's new connections.
#   renewal        --cert-mode=files with the files written as the kubelet writes a
#                  mounted Secret (a ..data symlink swapped atomically): 20 renewals of
#                  the serving pair by the same CA, a new key each time, as cert-manager's
#                  CA Issuer writes them (the chart's certManager mode; cert-manager itself
#                  is not on this machine). The caBundle (the CA) never changes.

load ../suites/helpers
load ../suites/lib/webhook-process

ROTATIONS=20

setup_file() {
  require_cluster
  TEST_NS=$(fresh_ns_own_webhook)
  CONFIG=bgpcomm-e2e-rollover-${TEST_NS: -8}
  export TEST_NS CONFIG
  own_identity "$TEST_NS" rollover "$BATS_FILE_TMPDIR/kubeconfig" "$CONFIG"
}

# After each test, failed or not: its webhook, proxy and configuration go, so that the
# next test meets neither a webhook injecting another CA nor a configuration calling a
# stopped webhook.
teardown() {
  own_webhook_stop_all
  stop_pid "$(cat "$BATS_FILE_TMPDIR/proxy.pid" 2>/dev/null)" /usr/bin/python3 5
  k delete validatingwebhookconfiguration "$CONFIG" --ignore-not-found >/dev/null 2>&1 || true
}

teardown_file() {
  own_identity_delete "$TEST_NS" rollover
}

# register PORT [CA_FILE]: the configuration, pointed at the webhook on PORT; with
# CA_FILE its caBundle is that file (files mode), else the webhook injects its own.
register() {
  local bundle=""
  [[ -n ${2:-} ]] && bundle=", caBundle: $(base64 -w0 <"$2")"
  k apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: $CONFIG}
webhooks:
  - name: community.rollover.e2e.bgpcomm.io
    clientConfig: {url: "https://127.0.0.1:$1/validate-metallb-io-v1beta1-community"$bundle}
    rules: [{apiGroups: [metallb.io], apiVersions: [v1beta1], resources: [communities],
             operations: [CREATE, UPDATE], scope: Namespaced}]
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $TEST_NS}}
    failurePolicy: Fail
    sideEffects: None
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
YAML
}

bad_community() {
  cat <<YAML
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: rollover-bad, namespace: $TEST_NS}
spec:
  communities: [{name: too-big, value: "64512:70000"}]
YAML
}

# Denied by this suite's webhook (not only by the cluster's).
enforced_by_own() {
  local out
  out=$(bad_community | k apply --dry-run=server -f - 2>&1) && return 1
  [[ $out == *'admission webhook "community.rollover.e2e.bgpcomm.io" denied the request'* ]]
}

# stream PREFIX STOP_FILE: creates Communities PREFIX-N until STOP_FILE exists; one line
# per create: "ok NAME" or "FAILED NAME: message".
stream() {
  local prefix=$1 stop=$2 i=0 out name
  while [[ ! -e $stop ]]; do
    i=$((i + 1))
    name=$prefix-$i
    if out=$(k apply -f - 2>&1 <<YAML
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: $name, namespace: $TEST_NS}
spec:
  communities: [{name: c-$name, value: "64512:$i"}]
YAML
    ); then echo "ok $name"; else echo "FAILED $name: ${out//$'\n'/ | }"; fi
  done
}

# under_load PREFIX COMMAND...: runs COMMAND while two streams create Communities, then
# checks that not one create failed and that every one was stored and judged by this
# suite's webhook (LOG).
under_load() {
  local prefix=$1 stop=$BATS_TEST_TMPDIR/stop; shift
  rm -f "$stop"
  stream "$prefix-a" "$stop" >"$BATS_TEST_TMPDIR/stream-a" &
  local a=$!
  stream "$prefix-b" "$stop" >"$BATS_TEST_TMPDIR/stream-b" &
  local b=$!
  local status=0
  "$@" || status=$?
  touch "$stop"
  wait "$a" "$b"
  ((status == 0)) || { echo "the renewals did not complete ($status)"; return 1; }
  local ok failed tls
  ok=$(cat "$BATS_TEST_TMPDIR"/stream-? | grep -c '^ok ' || true)
  failed=$(cat "$BATS_TEST_TMPDIR"/stream-? | grep -c '^FAILED' || true)
  tls=$(cat "$BATS_TEST_TMPDIR"/stream-? | grep -c '^FAILED.*tls: ' || true)
  echo "# $prefix: ok=$ok failed=$failed (TLS: $tls)" >&3
  if ((failed > 0)); then
    grep -h '^FAILED' "$BATS_TEST_TMPDIR"/stream-? | head -5
    echo "the webhook's certificate events:"
    grep -E 'event=(certificate|ca_bundle)' "$LOG" | tail -30
  fi
  ((failed == 0))
  ((ok >= 2 * ROTATIONS))
  # Every create is stored and was judged by this suite's webhook.
  run k get communities -n "$TEST_NS" -o name
  [[ $(grep -c "^community.metallb.io/$prefix-" <<<"$output") == "$ok" ]]
  (($(grep 'event=admission .*outcome=allowed' "$LOG" | grep -c "name=$prefix-") >= ok))
  enforced_by_own
}

# reloads LOG: how many times the webhook loaded a changed serving pair.
reloads() { grep -c 'event=certificate_reloaded' "$1" || true; }
# reloaded_at_least LOG N: after a handshake of our own (the webhook looks at its files
# on a new handshake, at most once a second; the API server's keep-alive connections
# may not make one for a while), it has loaded N changed pairs.
reloaded_at_least() {
  timeout 5 openssl s_client -connect "127.0.0.1:$OWN_PORT" </dev/null >/dev/null 2>&1 || true
  (($(reloads "$1") >= $2))
}

# self_rotations: waits until the webhook has switched to a new serving pair ROTATIONS
# times (each a three-step rotation); at most about 20 s per rotation.
self_rotations() {
  local i
  for ((i = 0; i < ROTATIONS * 40; i++)); do
    reloaded_at_least "$LOG" "$ROTATIONS" && return 0
    kill -0 "$OWN_PID" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

# trust_probe OUT STOP: until STOP exists, reads the caBundle the configuration holds,
# then makes a TLS handshake with the webhook that must verify against it, as an API
# server opening a new connection at that moment would (its keep-alive connections
# seldom do); one line per handshake: "ok" or "UNTRUSTED TIME".
trust_probe() {
  local out=$1 stop=$2 bundle=$BATS_TEST_TMPDIR/probe-bundle.pem
  while [[ ! -e $stop ]]; do
    k get validatingwebhookconfiguration "$CONFIG" \
      -o 'jsonpath={.webhooks[0].clientConfig.caBundle}' 2>/dev/null | base64 -d >"$bundle" 2>/dev/null
    [[ -s $bundle ]] || continue
    local out
    if out=$(timeout 5 openssl s_client -connect "127.0.0.1:$OWN_PORT" -CAfile "$bundle" \
      -verify_return_error </dev/null 2>&1); then
      echo ok
    elif [[ $out == *"verify error"* ]]; then
      echo "UNTRUSTED $(date -u +%T.%N): $(grep -m1 'verify error' <<<"$out")"
    else
      echo "ERROR $(date -u +%T.%N) (no handshake; not a trust verdict)"
    fi
  done >"$out"
}

@test "self mode: $ROTATIONS rotations while creates run, not one create fails" {
  # The webhook's API traffic through a proxy that holds each answer 0.3 s.
  echo 0.3 >"$BATS_FILE_TMPDIR/delay"
  local server host port proxy_port PROXY_PID_
  server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}' \
    --kubeconfig "$BATS_FILE_TMPDIR/kubeconfig")
  host=${server#https://}; port=${host##*:}; host=${host%:*}
  PROXY_PID_=$(spawn "$BATS_FILE_TMPDIR/proxy.log" /usr/bin/python3 \
    "$E2E_REPO/e2e/lib/delay_proxy.py" "$host" "$port" "$BATS_FILE_TMPDIR/delay")
  echo "$PROXY_PID_" >"$BATS_FILE_TMPDIR/proxy.pid"  # for teardown
  wait_for 20 grep -qE '^[0-9]+$' "$BATS_FILE_TMPDIR/proxy.log"
  proxy_port=$(head -n1 "$BATS_FILE_TMPDIR/proxy.log")
  sed "s#server: .*#server: https://$host:$proxy_port#" "$BATS_FILE_TMPDIR/kubeconfig" \
    >"$BATS_FILE_TMPDIR/slow.kubeconfig"

  LOG=$BATS_FILE_TMPDIR/self.log
  # The configuration first (no caBundle yet: the webhook injects it); its URL needs
  # the port, so it is registered once the webhook serves.
  own_webhook_start "$LOG" --kubeconfig "$BATS_FILE_TMPDIR/slow.kubeconfig" \
    --namespace "$TEST_NS" --leader-elect=false --allocate-addresses=false \
    --cert-mode=self --cert-namespace "$TEST_NS" --cert-dir "$BATS_FILE_TMPDIR/self-certs" \
    --cert-ip-address 127.0.0.1 --validating-webhook-configuration "$CONFIG" \
    --mutating-webhook-configuration "" --cert-validity 26s --cert-rotate-before 14s \
    --cert-check-interval 1s --cert-rollover-delay 4s --log-level debug
  register "$OWN_PORT"
  wait_for 30 enforced_by_own
  local before
  before=$(reloads "$LOG")
  # Counted from here: rotations while the creates run.
  trust_probe "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/probe-stop" &
  local probe=$!
  ROTATIONS=$((ROTATIONS + before)) under_load self self_rotations
  touch "$BATS_TEST_TMPDIR/probe-stop"
  wait "$probe"
  # Every certificate served verified against the caBundle of the moment before.
  local trusted untrusted
  trusted=$(grep -c '^ok' "$BATS_TEST_TMPDIR/probe" || true)
  untrusted=$(grep -c '^UNTRUSTED' "$BATS_TEST_TMPDIR/probe" || true)
  echo "# self: $trusted handshakes verified against the caBundle, $untrusted did not" >&3
  grep '^UNTRUSTED' "$BATS_TEST_TMPDIR/probe" | head -5
  ((untrusted == 0 && trusted >= 2 * ROTATIONS))
  # Each switch was preceded by its CA's publication, and old CAs were dropped.
  (($(grep -c 'event=certificate_ca_published' "$LOG") >= ROTATIONS))
  (($(grep -c 'event=certificate_serving_switched' "$LOG") >= ROTATIONS))
  grep -q 'event=certificate_previous_ca_dropped' "$LOG"
}

# renew_like_kubelet DIR CA_DIR N: a new key and serving certificate signed by the CA in
# CA_DIR, published in DIR as the kubelet updates a mounted Secret: the files go into a
# new directory, then the ..data symlink is swapped in one rename.
renew_like_kubelet() {
  local dir=$1 ca=$2 n=$3 new=$1/..$(date +%s%N)
  mkdir -p "$new"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$new/tls.key" \
    -out "$new/tls.csr" -subj "/CN=bgpcomm-webhook-$n" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$new/tls.ext"
  openssl x509 -req -in "$new/tls.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" \
    -CAcreateserial -out "$new/tls.crt" -days 1 -extfile "$new/tls.ext" 2>/dev/null
  cp "$ca/ca.crt" "$new/ca.crt"
  rm -f "$new/tls.csr" "$new/tls.ext"
  local old
  old=$(readlink "$dir/..data" 2>/dev/null || true)
  ln -sfn "$(basename "$new")" "$dir/..data_tmp"
  mv -T "$dir/..data_tmp" "$dir/..data"
  [[ -n $old ]] && rm -rf "${dir:?}/$old"
  for f in tls.crt tls.key ca.crt; do
    [[ -L $dir/$f ]] || ln -s "..data/$f" "$dir/$f"
  done
}

# renewals: ROTATIONS renewals, each once the webhook has loaded the previous one.
renewals() {
  local i start
  for ((i = 1; i <= ROTATIONS; i++)); do
    start=$(reloads "$LOG")
    renew_like_kubelet "$BATS_FILE_TMPDIR/mounted" "$BATS_FILE_TMPDIR/ca" "$i"
    wait_for 10 reloaded_at_least "$LOG" $((start + 1)) || return 1
    sleep 0.5
  done
}

@test "cert-manager's CA chain: $ROTATIONS renewals of the serving pair while creates run, not one create fails" {
  local ca=$BATS_FILE_TMPDIR/ca
  mkdir -p "$ca" "$BATS_FILE_TMPDIR/mounted"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/ca.key" \
    -out "$ca/ca.crt" -days 1 -subj "/CN=bgpcomm-e2e-rollover-ca" 2>/dev/null
  renew_like_kubelet "$BATS_FILE_TMPDIR/mounted" "$ca" 0
  LOG=$BATS_FILE_TMPDIR/files.log
  own_webhook_start "$LOG" --kubeconfig "$BATS_FILE_TMPDIR/kubeconfig" \
    --namespace "$TEST_NS" --leader-elect=false --allocate-addresses=false \
    --cert-mode=files --tls-cert-file "$BATS_FILE_TMPDIR/mounted/tls.crt" \
    --tls-private-key-file "$BATS_FILE_TMPDIR/mounted/tls.key" --log-level debug
  register "$OWN_PORT" "$ca/ca.crt"
  wait_for 30 enforced_by_own
  under_load renew renewals
  # Each renewal was a new key: the served certificate now is the last one written.
  local served
  served=$(openssl s_client -connect "127.0.0.1:$OWN_PORT" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256)
  [[ $served == "$(openssl x509 -noout -fingerprint -sha256 -in "$BATS_FILE_TMPDIR/mounted/tls.crt")" ]]
}
