#!/usr/bin/env bats
# A few slow clients cannot starve the webhook (issue 19 item 1): 64 connections to the
# cluster's webhook trickle a byte every 2 s (half a TLS ClientHello, half an HTTP
# request after the handshake) and 64 TLS connections sit idle, each opened again as
# soon as the webhook ends it, while one `kubectl apply` creates 200 BGPAdvertisements.
# Every create is answered (201) within the webhook configuration's timeoutSeconds,
# carries the mutating webhook's resolution, and the webhook's metrics show it ended
# slow connections at their deadlines. Before the fix 8 workers, one per connection
# with a 10 s timeout per read, were all held: the API server's calls timed out.
# Local provider only (it reaches the webhook's loopback port).

load ../suites/helpers
. "$E2E_REPO/e2e/cluster/lib.sh"

CREATES=200
TRICKLING=64
IDLE=64
INTERVAL=2      # seconds between two bytes of a trickling connection
LIMIT_MS=5000   # each create within the webhook's timeoutSeconds (5)
WANT_ANNOTATION='{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}'

setup_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] ||
    fail "runs on the local provider only (it opens connections to the webhook's loopback port)"
  require_cluster
  provider_webhook_start
  clean_ns "$NS"
  k apply -f "$E2E_WALKTHROUGH/01-community.yaml" -f "$E2E_WALKTHROUGH/02-ip-pool.yaml" >/dev/null
  local i
  for ((i = 0; i < CREATES; i++)); do
    cat <<YAML
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: slow-clients-$i, namespace: $NS}
spec:
  ipAddressPools: [production-pool]
  communities: [primary-route, region-us-east]
YAML
  done >"$BATS_FILE_TMPDIR/adverts.yaml"
}

teardown_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || return 0
  stop_pid "${CLIENTS_PID:-}" /usr/bin/python3 10
  clean_ns "$NS"
}

# The webhook's metric NAME{LABELS} (0 when absent).
webhook_metric() {
  provider_webhook_metrics | awk -v want="$1{$2}" '$1 == want {print $2; found = 1}
    END {if (!found) print 0}'
}

# From kubectl -v=6 output on stdin: "MILLISECONDS STATUS" for each POST it made, in
# the log format of kubectl before 1.33 ("POST URL 201 Created in 12 milliseconds") and
# after ("Response" verb="POST" ... status="201 Created" milliseconds=12).
post_latencies() {
  sed -nE \
    -e 's/.*\] POST [^ ]+ ([0-9]+) [A-Za-z ]+ in ([0-9]+) milliseconds.*/\2 \1/p' \
    -e 's/.*verb="POST".* status="([0-9]+)[^"]*".* milliseconds=([0-9]+).*/\2 \1/p'
}

@test "slow and idle clients: every one of 200 creates answered within timeoutSeconds" {
  local webhook_port
  webhook_port=$(state_get WEBHOOK_PORT)
  [[ -n $webhook_port ]]
  CLIENTS_PID=$(spawn "$BATS_FILE_TMPDIR/clients.log" /usr/bin/python3 \
    "$E2E_REPO/e2e/lib/slow_clients.py" "$webhook_port" "$TRICKLING" "$IDLE" "$INTERVAL" 240)
  export CLIENTS_PID
  # "ready" once every connection was opened, "not ready: N of M" after 30 s (as the
  # server before the fix left them waiting): the creates start either way.
  wait_for 40 grep -qE '^(not )?ready' "$BATS_FILE_TMPDIR/clients.log"
  head -n 1 "$BATS_FILE_TMPDIR/clients.log" | sed 's/^/# clients: /' >&3
  # The slow connections have been held past the old 10 s read timeout's reach.
  sleep 5

  # Bounded: before the fix each create waited out two webhook calls of 5 s each.
  local status_=0
  timeout 150 "$KUBECTL" apply -v=6 -f "$BATS_FILE_TMPDIR/adverts.yaml" \
    >"$BATS_FILE_TMPDIR/apply.out" 2>"$BATS_FILE_TMPDIR/apply.log" || status_=$?
  post_latencies <"$BATS_FILE_TMPDIR/apply.log" >"$BATS_FILE_TMPDIR/latencies"

  stop_pid "$CLIENTS_PID" /usr/bin/python3 10
  tail -n 1 "$BATS_FILE_TMPDIR/clients.log" | sed 's/^/# clients: /' >&3
  local slowest
  slowest=$(sort -n "$BATS_FILE_TMPDIR/latencies" | tail -n 1)
  echo "# apply exit ${status_}; $(wc -l <"$BATS_FILE_TMPDIR/latencies") POSTs, slowest ${slowest% *} ms (limit ${LIMIT_MS} ms)" >&3
  grep -m 3 -E 'failed calling webhook|Error' "$BATS_FILE_TMPDIR/apply.log" >&3 || true

  # Every create: one POST, 201, within the limit; kubectl succeeded.
  (( $(wc -l <"$BATS_FILE_TMPDIR/latencies") == CREATES ))
  local ms code n=0
  while read -r ms code; do
    n=$((n + 1))
    [[ $code == 201 ]] || fail "create $n answered $code"
    ((ms < LIMIT_MS)) || fail "create $n took $ms ms (limit $LIMIT_MS ms)"
  done <"$BATS_FILE_TMPDIR/latencies"
  ((status_ == 0))
  # The webhook judged each one (the mutating webhook's annotation is there).
  local i
  for ((i = 0; i < CREATES; i += 20)); do
    run resolution_of "slow-clients-$i"
    assert_success
    assert_output "$WANT_ANNOTATION"
  done
  # The slow clients were there, and the webhook ended them at its deadlines.
  (( $(webhook_metric bgpcomm_webhook_connections_timed_out_total 'listener="https",phase="handshake"' | cut -d. -f1) > 0 ))
  (( $(webhook_metric bgpcomm_webhook_connections_timed_out_total 'listener="https",phase="reading"' | cut -d. -f1) > 0 ))
  (( $(webhook_metric bgpcomm_webhook_connections_timed_out_total 'listener="https",phase="idle"' | cut -d. -f1) > 0 ))
}
