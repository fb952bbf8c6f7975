#!/usr/bin/env bats
# No bearer token, private key or BGP password ever reaches the webhook's log, at its
# most verbose level (trace), while it handles keys (--cert-mode=self, rotating every
# few seconds), talks to the apiserver with a ServiceAccount token, resolves
# advertisements and judges BGPPeers that carry passwords.

load ../suites/helpers
load ../suites/lib/webhook-process

PEER_PASSWORD=peer-s3cret-Zq81x

setup_file() {
  require_cluster
  TEST_NS=$(fresh_ns_own_webhook)
  export TEST_NS
  local dir=$BATS_FILE_TMPDIR
  # A least-privilege identity of its own (a ServiceAccount token).
  own_identity "$TEST_NS" log-probe "$dir/kubeconfig"
  "$KUBECTL" --kubeconfig "$dir/kubeconfig" config view --raw -o jsonpath='{.users[0].user.token}' \
    >"$dir/token"
  [[ -s $dir/token ]]
  # Rotation every 5 s; no webhook configuration to inject into (this one is not
  # registered: requests are sent to it directly).
  own_webhook_start "$dir/webhook.log" --kubeconfig "$dir/kubeconfig" --namespace "$TEST_NS" \
    --cert-mode=self --cert-namespace "$TEST_NS" --cert-dir "$dir/certs" \
    --cert-ip-address 127.0.0.1 --validating-webhook-configuration "" \
    --mutating-webhook-configuration "" --cert-validity 20s --cert-rotate-before 15s \
    --cert-check-interval 1s --cert-rollover-delay 2s --leader-elect=false \
    --allocate-addresses=false --log-level trace
  export OWN_PID OWN_PORT
}

teardown_file() {
  own_webhook_stop_all
}

secret_key() { k get secret bgpcomm-webhook-cert -n "$TEST_NS" -o 'jsonpath={.data.tls\.key}'; }

# post PATH UID KIND NAME SPEC: an AdmissionReview straight to the webhook.
post() {
  k get secret bgpcomm-webhook-cert -n "$TEST_NS" -o 'jsonpath={.data.ca\.crt}' | base64 -d \
    >"$BATS_FILE_TMPDIR/webhook-ca.crt"
  curl -sS --max-time 5 --cacert "$BATS_FILE_TMPDIR/webhook-ca.crt" -H 'Content-Type: application/json' \
    --data-binary "$(admission_review "$2" "$3" "$4" "$TEST_NS" "$5")" "https://127.0.0.1:$OWN_PORT$1"
}

@test "exercise: keys generated and rotated, token used, passwords judged" {
  local keys=() i
  keys+=("$(secret_key)")
  [[ -n ${keys[0]} ]]
  # Objects for the cache and the resolver (with the admin credentials of kubectl).
  in_ns "$E2E_WALKTHROUGH/01-community.yaml" "$TEST_NS" | k apply -f - >/dev/null
  for i in 1 2 3; do
    run post /validate-metallb-io-v1beta2-bgppeer "peer-ok-$i" BGPPeer "p$i" \
      "{\"myASN\":64512,\"peerASN\":64513,\"peerAddress\":\"198.51.100.18\",\"password\":\"$PEER_PASSWORD\"}"
    assert_output --partial "\"uid\":\"peer-ok-$i\""
    run post /validate-metallb-io-v1beta2-bgppeer "peer-bad-$i" BGPPeer "q$i" \
      "{\"myASN\":4294967296,\"peerASN\":64513,\"peerAddress\":\"198.51.100.18\",\"password\":\"$PEER_PASSWORD\"}"
    assert_output --partial '"allowed":false'
    run post /validate-metallb-io-v1beta1-community "c-bad-$i" Community "c$i" \
      "{\"communities\":[{\"name\":\"too-big\",\"value\":\"64512:70000\"}]}"
    assert_output --partial '"allowed":false'
    sleep 2.5
    keys+=("$(secret_key)")
  done
  # At least one rotation happened while it ran.
  [[ ${keys[0]} != "${keys[-1]}" ]]
  printf '%s\n' "${keys[@]}" | sort -u >"$BATS_FILE_TMPDIR/keys"
  own_webhook_stop
}

@test "its log holds none of them" {
  local log=$BATS_FILE_TMPDIR/webhook.log
  # The log is the verbose one (debug lines of the admissions above are in it).
  run grep -c 'level=debug' "$log"
  assert_success
  run grep -c 'outcome=denied' "$log"
  refute_output 0
  run grep -c -F -f "$BATS_FILE_TMPDIR/token" "$log"
  assert_output 0
  run grep -c -i -e 'PRIVATE KEY' -e 'Bearer ' -e 'authorization:' "$log"
  assert_output 0
  run grep -c -F "$PEER_PASSWORD" "$log"
  assert_output 0
  # Neither the base64 of a key the Secret held nor the PEM body lines of those keys.
  local key line
  while read -r key; do
    run grep -c -F "$key" "$log"
    assert_output 0
    while read -r line; do
      [[ $line == -----* || ${#line} -lt 40 ]] && continue
      run grep -c -F "$line" "$log"
      assert_output 0
    done < <(base64 -d <<<"$key" | head -n 4)
  done <"$BATS_FILE_TMPDIR/keys"
}
