#!/usr/bin/env bats
# The webhook's TLS: only TLS 1.2 (forward-secret AEAD ciphers) and TLS 1.3 are spoken,
# checked with `openssl s_client` against a real bgpcomm-webhook; and --client-ca-file
# makes it require a client certificate from that CA (none is asked for without it).
#
# Every refusal is paired with a control: the same client offer succeeds against an
# `openssl s_server` that allows everything, so a refusal proves the webhook said no,
# not that this OpenSSL could not make the offer.

load ../suites/helpers
load ../suites/lib/webhook-process

setup_file() {
  require_cluster
  export PKI=$BATS_FILE_TMPDIR/pki
  own_pki "$PKI"
  # Clients: a CA the webhook trusts (apiserver-ca) and one it does not (other-ca).
  local ca
  for ca in apiserver-ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/$ca.key" -out "$PKI/$ca.crt" \
      -days 1 -subj "/CN=bgpcomm-e2e-$ca" 2>/dev/null
  done
  own_client_cert "$PKI" apiserver apiserver-ca
  own_client_cert "$PKI" intruder other-ca
  # The control: a server that accepts every protocol and cipher this OpenSSL has.
  CONTROL_PORT=$(free_port)
  CONTROL_PID=$(spawn "$BATS_FILE_TMPDIR/control.log" openssl s_server -accept "127.0.0.1:$CONTROL_PORT" \
    -cert "$PKI/tls.crt" -key "$PKI/tls.key" -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' -www -quiet)
  export CONTROL_PORT CONTROL_PID
  # The webhook with the cluster's least-privilege kubeconfig (the default Lease name:
  # the cluster's own webhook keeps leading the resolver).
  own_webhook_start "$BATS_FILE_TMPDIR/webhook.log" --kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig" \
    --namespace metallb-system --tls-cert-file "$PKI/tls.crt" --tls-private-key-file "$PKI/tls.key"
  export OWN_PID OWN_PORT
}

teardown_file() {
  own_webhook_stop_all
  [[ -n ${CONTROL_PID:-} ]] && kill "$CONTROL_PID" 2>/dev/null || true
}

# hello PORT ARGS...: one handshake (and nothing sent after it).
hello() {
  local port=$1; shift
  timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost \
    -CAfile "$PKI/ca.crt" "$@" </dev/null 2>&1
}

# refused VERSION CIPHERS: the control accepts the offer (protocol VERSION, e.g.
# TLSv1.1, with one of CIPHERS), the webhook refuses it.
refused() {
  local version=$1 ciphers=$2 flag
  flag=-${version/TLSv/tls}; flag=${flag/./_}; flag=${flag%_0}
  run hello "$CONTROL_PORT" "$flag" -cipher "$ciphers:@SECLEVEL=0"
  assert_success
  assert_output --regexp "Protocol +: ${version//./\\.}[[:space:]]"
  refute_output --partial 'Cipher is (NONE)'
  run hello "$OWN_PORT" "$flag" -cipher "$ciphers:@SECLEVEL=0"
  assert_failure
  assert_output --regexp 'alert (protocol version|handshake failure)|no shared cipher|unsupported protocol'
}

@test "TLS 1.0 and TLS 1.1 are refused" {
  refused TLSv1 ALL
  refused TLSv1.1 ALL
}

@test "weak TLS 1.2 ciphers are refused: NULL, static RSA, DHE, CBC (also with ECDHE)" {
  local c tested=0 absent=()
  for c in NULL-SHA256 ECDHE-RSA-NULL-SHA AES128-SHA AES256-SHA256 AES128-GCM-SHA256 \
           DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-SHA ECDHE-RSA-AES128-SHA \
           ECDHE-RSA-AES256-SHA384 RC4-SHA RC4-MD5 DES-CBC3-SHA EXP-RC4-MD5; do
    if ! openssl ciphers -tls1_2 "$c:@SECLEVEL=0" >/dev/null 2>&1; then
      # Not built into this OpenSSL, which is also the webhook's libssl: no one can
      # negotiate it here.
      absent+=("$c"); continue
    fi
    refused TLSv1.2 "$c"
    tested=$((tested + 1))
  done
  echo "# refused $tested weak ciphers; not in this OpenSSL: ${absent[*]}" >&3
  (( tested >= 9 ))
}

@test "TLS 1.2 with ECDHE and AES-GCM, and TLS 1.3, succeed and verify" {
  run hello "$OWN_PORT" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
  assert_success
  assert_output --partial 'Cipher is ECDHE-RSA-AES128-GCM-SHA256'
  assert_output --partial 'Verify return code: 0 (ok)'
  run hello "$OWN_PORT" -tls1_3
  assert_success
  assert_output --partial 'New, TLSv1.3, Cipher is TLS_AES_'
  assert_output --partial 'Verify return code: 0 (ok)'
  # Without --client-ca-file no client certificate is asked for.
  assert_output --partial 'No client certificate CA names sent'
  run curl -sS --cacert "$PKI/ca.crt" "https://127.0.0.1:$OWN_PORT/healthz"
  assert_success
  assert_output ok
}

# code ARGS...: the HTTP status of GET /healthz with curl ARGS ("000": no HTTP answer).
code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$PKI/ca.crt" "$@" \
    "https://127.0.0.1:$OWN_PORT/healthz" || true
}

@test "--client-ca-file: a client certificate from that CA is required" {
  own_webhook_stop
  own_webhook_start "$BATS_FILE_TMPDIR/webhook-mtls.log" --kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig" \
    --namespace metallb-system --tls-cert-file "$PKI/tls.crt" --tls-private-key-file "$PKI/tls.key" \
    --client-ca-file "$PKI/apiserver-ca.crt"
  export OWN_PID OWN_PORT
  run hello "$OWN_PORT" -tls1_2
  assert_output --partial 'Acceptable client certificate CA names'
  assert_output --partial 'CN = bgpcomm-e2e-apiserver-ca'
  refute_output --partial 'bgpcomm-e2e-other-ca'
  local v
  for v in -tls1_2 -tls1_3; do
    # No certificate, and one from another CA: no HTTP answer at all.
    run code "$v"
    assert_output 000
    run code "$v" --cert "$PKI/intruder.crt" --key "$PKI/intruder.key"
    assert_output 000
    # The CA's own certificate is not a client certificate of it either (wrong key).
    run code "$v" --cert "$PKI/apiserver.crt" --key "$PKI/intruder.key"
    assert_output 000
    run code "$v" --cert "$PKI/apiserver.crt" --key "$PKI/apiserver.key"
    assert_output 200
  done
  # An admission request through the verified connection is answered.
  run curl -sS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/apiserver.crt" --key "$PKI/apiserver.key" \
    -H 'Content-Type: application/json' --data-binary \
    "$(admission_review tls-1 Community c1 metallb-system '{"communities":[{"name":"a","value":"64512:70000"}]}')" \
    "https://127.0.0.1:$OWN_PORT/validate-metallb-io-v1beta1-community"
  assert_success
  assert_output --partial '"uid":"tls-1"'
  assert_output --partial 'second field 70000 exceeds 65535'
}
