#!/usr/bin/env bats
# One leader at a time, really (issue 19 item 4). Two webhook replicas share the Lease: a
# replica of this suite that reaches the API server only through
# e2e/lib/api_fault_proxy.py, made the leader, and the cluster's own. While Services are
# created, the leader's API traffic is blackholed for 25 s (longer than the 15 s lease,
# shorter than a request timeout) and then flows again. The other replica takes the Lease
# over and allocates the rest. The partitioned replica stops writing at its renew
# deadline and writes nothing after: the two never write in the same second (the
# partitioned one's writes as the proxy passed them on, the other's as the API server
# stamped them in managedFields), and no address is given twice. Local provider only.

load ../suites/helpers
load ../suites/lib/webhook-process
load ../lib/api-fault-proxy

N=300
BLACKHOLE_AFTER=60  # Services holding an address when the partition starts
BLACKHOLE_S=25
LEASE=bgpcomm-resolver

setup_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || fail "runs on the local provider only (a local replica behind a proxy)"
  require_cluster
  clean_ns "$NS"
  export PKI=$BATS_FILE_TMPDIR/pki
  own_pki "$PKI"
  fault_proxy_start "$BATS_FILE_TMPDIR" "$BGPCOMM_STATE_DIR/webhook.kubeconfig" "$PKI"
  fault_proxy_kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig" "$BATS_FILE_TMPDIR/proxied.kubeconfig" "$PKI"
  TEST_NS=$(fresh_ns)
  export TEST_NS
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: partition-pool, namespace: $NS}
spec:
  addresses: [198.18.4.0/22]
  serviceAllocation: {namespaces: [$TEST_NS]}
YAML
  # The proxied replica leads: the cluster's webhook gives the Lease up when it stops and
  # comes back as the follower.
  own_webhook_start "$BATS_FILE_TMPDIR/replica.log" \
    --kubeconfig "$BATS_FILE_TMPDIR/proxied.kubeconfig" --namespace "$NS" \
    --tls-cert-file "$PKI/tls.crt" --tls-private-key-file "$PKI/tls.key"
  export OWN_PID
  provider_webhook_stop
  wait_for 60 leader_is "$OWN_PID" || fail "the proxied replica did not take the Lease"
  provider_webhook_start
}

teardown_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || return 0
  fault_proxy_mode pass 2>/dev/null || true
  own_webhook_stop_all
  fault_proxy_stop
  provider_webhook_start >/dev/null 2>&1 || true
  k delete services --all -n "$TEST_NS" --wait=false >/dev/null 2>&1 || true
  clean_ns "$NS" || true
}

teardown() {
  fault_proxy_mode pass
  if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
    echo "--- partitioned replica log (tail)"; tail -n 30 "$BATS_FILE_TMPDIR/replica.log" || true
  fi
}

leader_pid() {
  local holder
  holder=$(k get lease "$LEASE" -n "$NS" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
  echo "${holder##*_}"
}
leader_is() { [[ $(leader_pid) == "$1" ]]; }
addresses() {
  k get services -n "$TEST_NS" \
    -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}'
}
held() { addresses | grep -c . || true; }
at_least_held() { [[ $(held) -ge $1 ]]; }
# every_s SECONDS CMD...: polled once a second (each poll lists every Service).
every_s() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}
# create_services: N LoadBalancer Services, 10 per apply, as a steady stream.
create_services() {
  local i j
  for ((i = 0; i < N; i += 10)); do
    for ((j = i; j < i + 10; j++)); do
      printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%04d, namespace: %s}\nspec:\n  type: LoadBalancer\n  ports: [{name: http, port: 80, protocol: TCP}]\n' \
        "$j" "$TEST_NS"
    done | "$KUBECTL" apply -f - >/dev/null || return 1
    sleep 0.3
  done
}
# The partitioned replica's writes (PUT, PATCH) the proxy passed on: "EPOCH_S.MS PATH".
proxied_writes() {
  awk '$1 == "fwd" && ($3 == "PUT" || $3 == "PATCH") { print $2, $4 }' "$FAULT_PROXY_LOG"
}
# Status writes the API server stamped on each Service: "EPOCH_S NAME".
status_write_times() {
  k get services -n "$TEST_NS" -o json --show-managed-fields | jq -r '.items[] | .metadata.name as $n |
    .metadata.managedFields[]? | select(.subresource == "status") |
    "\(.time | fromdateiso8601) \($n)"'
}

@test "the leader blackholed for 25 s: it stops writing, the other takes over, no address twice" {
  local leader
  leader=$(leader_pid)
  [[ $leader == "$OWN_PID" ]] || fail "the Lease is held by '$leader', not the proxied replica $OWN_PID"
  create_services >"$BATS_FILE_TMPDIR/create.log" 2>&1 &
  local creating=$!
  every_s 300 at_least_held "$BLACKHOLE_AFTER" ||
    fail "only $(held) Services got an address before the partition"
  local cut_at
  fault_proxy_mode blackhole
  cut_at=$(date +%s.%N)
  echo "# partitioned the leader with $(held) Services holding an address" >&3
  sleep "$BLACKHOLE_S"
  fault_proxy_mode pass
  echo "# healed after ${BLACKHOLE_S} s; $(held) hold an address; leader pid $(leader_pid)" >&3
  wait "$creating" || fail "creating the Services failed: $(tail -n 5 "$BATS_FILE_TMPDIR/create.log")"
  every_s 300 at_least_held "$N" || fail "only $(held) of $N Services hold an address"
  # The partitioned replica, back, has time to (wrongly) write before the checks.
  sleep 15
  local other
  other=$(leader_pid)
  [[ $other != "$OWN_PID" ]] || fail "the partitioned replica holds the Lease again"

  # No address twice, every one from the pool.
  run bash -c "$(declare -f addresses); TEST_NS=$TEST_NS; KUBECTL=$KUBECTL; k() { \"\$KUBECTL\" \"\$@\"; }; addresses | sort | uniq -d"
  assert_success
  assert_output ""
  run bash -c "$(declare -f addresses); TEST_NS=$TEST_NS; KUBECTL=$KUBECTL; k() { \"\$KUBECTL\" \"\$@\"; }; addresses | grep -cE '^198\.18\.[4-7]\.[0-9]+$'"
  assert_output "$N"

  # The partitioned replica wrote nothing from the partition on.
  local late
  late=$(proxied_writes | awk -v t="$cut_at" '$1 > t')
  [[ -z $late ]] || fail "the partitioned replica wrote after the partition started: $(head -n 5 <<<"$late")"
  # Seconds in which the partitioned replica wrote a Service status, and seconds in which
  # the API server stored one from the other replica (a Service it never wrote).
  proxied_writes | awk '$2 ~ /\/services\/.*\/status$/ { n = split($2, p, "/"); print int($1), p[n - 1] }' \
    >"$BATS_FILE_TMPDIR/a.writes"
  status_write_times >"$BATS_FILE_TMPDIR/all.writes"
  awk 'NR == FNR { a[$2] = 1; next } !($2 in a) { print $1 }' "$BATS_FILE_TMPDIR/a.writes" \
    "$BATS_FILE_TMPDIR/all.writes" | sort -u >"$BATS_FILE_TMPDIR/b.seconds"
  cut -d' ' -f1 "$BATS_FILE_TMPDIR/a.writes" | sort -u >"$BATS_FILE_TMPDIR/a.seconds"
  echo "# status writes: partitioned replica in $(wc -l <"$BATS_FILE_TMPDIR/a.seconds") seconds, the other in $(wc -l <"$BATS_FILE_TMPDIR/b.seconds")" >&3
  [[ -s $BATS_FILE_TMPDIR/a.seconds && -s $BATS_FILE_TMPDIR/b.seconds ]] ||
    fail "both replicas should have written Service statuses"
  run comm -12 "$BATS_FILE_TMPDIR/a.seconds" "$BATS_FILE_TMPDIR/b.seconds"
  assert_output ""
}
