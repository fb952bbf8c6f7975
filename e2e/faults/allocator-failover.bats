#!/usr/bin/env bats
# Two webhook replicas (the cluster's and one of this suite's, same least-privilege
# kubeconfig, same Lease); the one leading the allocator is killed (kill -9) while one
# `kubectl apply` creates 1,000 LoadBalancer Services. The other takes the Lease over
# and finishes: every Service holds an address of the pool, and no address is held
# twice. Local provider only (it kills a process by pid).

load ../suites/helpers
load ../suites/lib/webhook-process

N=1000
KILL_AFTER=200   # kill the leader once this many Services hold an address
LEASE=bgpcomm-resolver

setup_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || fail "runs on the local provider only (it kills the leader by pid)"
  require_cluster
  clean_ns "$NS"
  provider_webhook_start
  own_pki "$BATS_FILE_TMPDIR/pki"
  own_webhook_start "$BATS_FILE_TMPDIR/replica.log" \
    --kubeconfig "$BGPCOMM_STATE_DIR/webhook.kubeconfig" --namespace "$NS" \
    --tls-cert-file "$BATS_FILE_TMPDIR/pki/tls.crt" \
    --tls-private-key-file "$BATS_FILE_TMPDIR/pki/tls.key"
  TEST_NS=$(fresh_ns)
  export OWN_PID TEST_NS
  # 1,024 addresses for this namespace's Services only.
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: failover-pool, namespace: $NS}
spec:
  addresses: [198.18.0.0/22]
  serviceAllocation: {namespaces: [$TEST_NS]}
YAML
}

teardown_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || return 0
  own_webhook_stop_all
  # The cluster's webhook again, if it was the one killed.
  provider_webhook_start
  k delete services --all -n "$TEST_NS" --wait=false >/dev/null 2>&1 || true
  clean_ns "$NS"
}

# The addresses the Services of the namespace hold, one line per Service ("" : none).
addresses() {
  k get services -n "$TEST_NS" \
    -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}'
}
held() { addresses | grep -c . || true; }
all_held() { [[ $(held) -ge $N ]]; }
at_least_held() { [[ $(held) -ge $1 ]]; }
# every_s MS CMD...: CMD succeeds within MS milliseconds, polled once a second (each poll
# lists 1,000 Services: polling faster would slow what it measures).
every_s() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000 )); shift
  until "$@"; do
    (( $(date +%s%N) < deadline )) || return 1
    sleep 1
  done
}
leader_pid() {
  local holder
  holder=$(k get lease "$LEASE" -n "$NS" -o jsonpath='{.spec.holderIdentity}')
  echo "${holder##*_}"
}

@test "kill -9 of the leader while 1,000 Services are created: all get an address, none twice" {
  . "$E2E_REPO/e2e/cluster/lib.sh"
  local i file=$BATS_FILE_TMPDIR/services.yaml
  for ((i = 0; i < N; i++)); do
    printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%04d, namespace: %s}\nspec:\n  type: LoadBalancer\n  ports: [{name: http, port: 80, protocol: TCP}]\n' \
      "$i" "$TEST_NS"
  done >"$file"
  local cluster_pid leader
  cluster_pid=$(state_get WEBHOOK_PID)
  leader=$(leader_pid)
  [[ $leader == "$cluster_pid" || $leader == "$OWN_PID" ]] ||
    fail "the Lease is held by '$leader', neither replica ($cluster_pid, $OWN_PID)"

  k apply -f "$file" >"$BATS_FILE_TMPDIR/apply.log" 2>&1 &
  local apply_pid=$!
  every_s 300000 at_least_held "$KILL_AFTER" ||
    fail "only $(held) Services got an address before the kill"
  leader=$(leader_pid)
  pid_is "$leader" "$BGPCOMM_BIN_DIR/bgpcomm-webhook" || fail "leader pid $leader is not a webhook"
  kill -KILL "$leader"
  local at_kill applying=finished
  at_kill=$(held)
  kill -0 "$apply_pid" 2>/dev/null && applying="still running"
  echo "# killed the leader (pid $leader) with $at_kill of $N Services holding an address; the apply was $applying" >&3
  local t0=$SECONDS
  wait "$apply_pid" || fail "kubectl apply failed: $(tail -n 5 "$BATS_FILE_TMPDIR/apply.log")"
  # The Lease expires (15 s) before the other replica takes over.
  every_s 300000 all_held || fail "after the failover only $(held) of $N hold an address"
  echo "# all $N held an address $(( SECONDS - t0 )) s after the kill" >&3
  local other
  other=$(leader_pid)
  [[ $other != "$leader" ]] || fail "the killed replica still holds the Lease"

  run bash -c "$(declare -f addresses); TEST_NS=$TEST_NS; KUBECTL=$KUBECTL; k() { \"\$KUBECTL\" \"\$@\"; }; addresses | sort | uniq -d"
  assert_success
  assert_output ""
  run bash -c "$(declare -f addresses); TEST_NS=$TEST_NS; KUBECTL=$KUBECTL; k() { \"\$KUBECTL\" \"\$@\"; }; addresses | grep -cE '^198\.18\.[0-3]\.[0-9]+$'"
  assert_output "$N"
}
