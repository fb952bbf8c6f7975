#!/usr/bin/env bats
# A slow API server: the webhook's LISTs before a denial pass through a proxy that holds
# every answer for 15 s. Every admission request is still answered within the
# read-through deadline (2 s here, well below timeoutSeconds), with "cannot be judged
# ... try again": two rounds of as many concurrent requests as the webhook has workers,
# so no worker is held past the deadline; once the API server is fast again, the same
# request is judged.

load ../suites/helpers
load ../suites/lib/webhook-process

REQUESTS=8    # the webhook's 8 HTTPS workers, twice
DEADLINE=2    # --read-through-timeout, seconds
LIMIT_MS=4500 # every answer within this (the API servers give up after timeoutSeconds: 5)

setup_file() {
  require_cluster
  export PKI=$BATS_FILE_TMPDIR/pki
  own_pki "$PKI"
  export DELAY_FILE=$BATS_FILE_TMPDIR/delay
  echo 0 >"$DELAY_FILE"
  local server host port
  server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}' \
    --kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig")
  host=${server#https://}; port=${host##*:}; host=${host%:*}
  PROXY_PID_=$(spawn "$BATS_FILE_TMPDIR/proxy.log" /usr/bin/python3 \
    "$E2E_REPO/e2e/lib/delay_proxy.py" "$host" "$port" "$DELAY_FILE")
  export PROXY_PID_
  local proxy_port
  wait_for 20 grep -qE '^[0-9]+$' "$BATS_FILE_TMPDIR/proxy.log"
  proxy_port=$(head -n1 "$BATS_FILE_TMPDIR/proxy.log")
  sed "s#server: .*#server: https://$host:$proxy_port#" "$BGPCOMM_STATE_DIR/webhook.kubeconfig" \
    >"$BATS_FILE_TMPDIR/slow.kubeconfig"
  own_webhook_start "$BATS_FILE_TMPDIR/webhook.log" --kubeconfig "$BATS_FILE_TMPDIR/slow.kubeconfig" \
    --namespace metallb-system --leader-elect=false --read-through-timeout "${DEADLINE}s" \
    --tls-cert-file "$PKI/tls.crt" --tls-private-key-file "$PKI/tls.key"
  export OWN_PORT
  # A BGPAdvertisement naming an alias that exists nowhere: the cached view finds it
  # missing, and a denial reads through first, so judging it needs the LISTs.
  admission_review slow-1 BGPAdvertisement slow-advert metallb-system \
    '{"ipAddressPools":["production-pool"],"communities":["no-such-alias"]}' \
    >"$BATS_FILE_TMPDIR/review.json"
}

teardown_file() {
  echo 0 >"$DELAY_FILE" 2>/dev/null || true
  own_webhook_stop_all
  stop_pid "${PROXY_PID_:-}" /usr/bin/python3 5
}

# review_once N: "N HTTP_CODE SECONDS" then the body, on one line.
review_once() {
  local out
  out=$(curl -s --max-time 20 -w '\n%{http_code} %{time_total}' --cacert "$PKI/ca.crt" \
    -H 'Content-Type: application/json' --data-binary "@$BATS_FILE_TMPDIR/review.json" \
    "https://127.0.0.1:$OWN_PORT/validate-metallb-io-v1beta1-bgpadvertisement")
  echo "$1 $(tail -n1 <<<"$out") $(head -n1 <<<"$out")"
}

@test "slow API server: every request answered within the read-through deadline, 'try again'" {
  echo 15 >"$DELAY_FILE"
  local i round
  for round in 0 1; do
    for ((i = round * REQUESTS; i < (round + 1) * REQUESTS; i++)); do
      review_once "$i" >"$BATS_FILE_TMPDIR/answer-$i" &
    done
    wait
  done
  cat "$BATS_FILE_TMPDIR"/answer-* | cut -c1-220 >&3
  local slowest=0 ms code seconds body
  for ((i = 0; i < 2 * REQUESTS; i++)); do
    read -r _ code seconds body <"$BATS_FILE_TMPDIR/answer-$i"
    [[ $code == 200 ]]
    [[ $body == *'"code":503'* ]]
    [[ $body == *'cannot be judged'*'did not answer within'*'try again'* ]]
    ms=$(awk -v s="$seconds" 'BEGIN {printf "%d", s * 1000}')
    ((ms > slowest)) && slowest=$ms
  done
  echo "# $((2 * REQUESTS)) requests, slowest answer ${slowest} ms (limit ${LIMIT_MS} ms)" >&3
  ((slowest < LIMIT_MS))
}

@test "the API server fast again: the same request is judged (denied for the missing alias)" {
  echo 0 >"$DELAY_FILE"
  local code seconds body
  # Connections the slow answers left behind drain first.
  wait_for 60 bash -c "curl -s --cacert '$PKI/ca.crt' -H 'Content-Type: application/json' \
    --data-binary '@$BATS_FILE_TMPDIR/review.json' \
    https://127.0.0.1:$OWN_PORT/validate-metallb-io-v1beta1-bgpadvertisement | grep -q no-such-alias"
  read -r _ code seconds body < <(review_once 0)
  [[ $code == 200 ]]
  [[ $body == *'"allowed":false'* ]]
  [[ $body == *no-such-alias* ]]
}
