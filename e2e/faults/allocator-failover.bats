#!/usr/bin/env bats
# Two webhook replicas (the cluster's and one of this suite's, same least-privilege
# kubeconfig, same Lease); the one leading the allocator is killed (kill -9) in the middle
# of creating 1,000 LoadBalancer Services: after it has given out addresses and while most
# Services are still to be created. The other takes the Lease over and finishes: every
# Service holds an address of the pool, no address is held twice, and every address given
# before the kill stays with its Service. Local provider only (it kills a process by pid).

load ../suites/helpers
load ../suites/lib/webhook-process

N=1000
CHUNK=50          # Services per `kubectl apply`: the creation runs 20 applies long
KILL_CREATED=300  # kill the leader once this many exist and the leader has given out addresses
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
# held_by_name: "NAME ADDRESS" for each Service of the namespace that holds an address.
held_by_name() {
  k get services -n "$TEST_NS" \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.loadBalancer.ingress[0].ip}{"\n"}{end}' |
    awk 'NF == 2' | sort
}
# counts: "CREATED HELD" from one LIST.
counts() { addresses | awk 'NF { h++ } END { printf "%d %d\n", NR, h }'; }
# kill_point: KILL_CREATED Services exist and at least one holds an address (the leader
# is allocating); the creation goes on, CHUNK at a time, well past this point.
kill_point() {
  local created held
  read -r created held < <(counts)
  ((created >= KILL_CREATED && held >= 1))
}
# every_s MS CMD...: CMD succeeds within MS milliseconds, polled twice a second (each poll
# lists up to 1,000 Services: polling faster would slow what it measures).
every_s() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000 )); shift
  until "$@"; do
    (( $(date +%s%N) < deadline )) || return 1
    sleep 0.5
  done
}
leader_pid() {
  local holder
  holder=$(k get lease "$LEASE" -n "$NS" -o jsonpath='{.spec.holderIdentity}')
  echo "${holder##*_}"
}
# create_services DIR: the N Services, CHUNK per `kubectl apply`, one apply after the other.
create_services() {
  local f
  for f in "$1"/chunk-*.yaml; do k apply -f "$f" >/dev/null || return 1; done
}

@test "kill -9 of the leader while 1,000 Services are being created: all get an address, none twice" {
  . "$E2E_REPO/e2e/cluster/lib.sh"
  local i dir=$BATS_FILE_TMPDIR/services
  mkdir -p "$dir"
  for ((i = 0; i < N; i++)); do
    printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%04d, namespace: %s}\nspec:\n  type: LoadBalancer\n  ports: [{name: http, port: 80, protocol: TCP}]\n' \
      "$i" "$TEST_NS" >>"$dir/chunk-$(printf %03d $((i / CHUNK))).yaml"
  done
  local cluster_pid leader
  cluster_pid=$(state_get WEBHOOK_PID)
  leader=$(leader_pid)
  [[ $leader == "$cluster_pid" || $leader == "$OWN_PID" ]] ||
    fail "the Lease is held by '$leader', neither replica ($cluster_pid, $OWN_PID)"

  create_services "$dir" >"$BATS_FILE_TMPDIR/create.log" 2>&1 &
  local create_pid=$!
  every_s 300000 kill_point || fail "no kill point: $(counts) (created, holding an address)"
  leader=$(leader_pid)
  pid_is "$leader" "$BGPCOMM_BIN_DIR/bgpcomm-webhook" || fail "leader pid $leader is not a webhook"
  kill -KILL "$leader"
  local created held
  read -r created held < <(counts)
  held_by_name >"$BATS_FILE_TMPDIR/held-at-kill"
  echo "# killed the leader (pid $leader) with $created of $N Services created, $held holding an address" >&3
  # The kill fell inside the creation: the leader had given out addresses and Services
  # were still to come (those are created while no replica leads, then taken over).
  ((held >= 1)) || fail "no Service held an address at the kill"
  ((created < N)) || fail "all $N Services existed before the kill: it was not during creation"
  local t0=$SECONDS
  wait "$create_pid" || fail "creating the Services failed: $(tail -n 5 "$BATS_FILE_TMPDIR/create.log")"
  echo "# the creation ended $(( SECONDS - t0 )) s after the kill" >&3
  # The Lease expires (15 s) before the other replica takes over.
  every_s 300000 all_held || fail "after the failover only $(held) of $N hold an address"
  echo "# all $N held an address $(( SECONDS - t0 )) s after the kill" >&3
  local other
  other=$(leader_pid)
  [[ $other != "$leader" ]] || fail "the killed replica still holds the Lease"
  # The new leader kept every address the killed one had given (the status it reads back).
  [[ -s $BATS_FILE_TMPDIR/held-at-kill ]] || fail "no address recorded at the kill"
  held_by_name >"$BATS_FILE_TMPDIR/held-after"
  run bash -c "join '$BATS_FILE_TMPDIR/held-at-kill' '$BATS_FILE_TMPDIR/held-after' | awk '\$2 != \$3'"
  assert_success
  assert_output ""

  run bash -c "$(declare -f addresses); TEST_NS=$TEST_NS; KUBECTL=$KUBECTL; k() { \"\$KUBECTL\" \"\$@\"; }; addresses | sort | uniq -d"
  assert_success
  assert_output ""
  run bash -c "$(declare -f addresses); TEST_NS=$TEST_NS; KUBECTL=$KUBECTL; k() { \"\$KUBECTL\" \"\$@\"; }; addresses | grep -cE '^198\.18\.[0-3]\.[0-9]+$'"
  assert_output "$N"
}
