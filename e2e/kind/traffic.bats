#!/usr/bin/env bats
# Traffic through an address bgpcomm announced, on the real pods of the chart: the echo
# Deployment behind the walkthrough's LoadBalancer Service `web`, the speaker DaemonSet on
# every node, router a (e2e/kind/router.sh) learning the address over BGP and reaching the
# pods through kube-proxy with curl.

load ../suites/helpers
load suite

setup_file() {
  require_cluster
  reset_kind_objects
  apply_walkthrough
  deploy_echo 2
  wait_allocated
}

teardown_file() {
  reset_kind_objects
}

teardown() {
  if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
    echo "--- router a: $LB_IP"
    router birdc show route all for "$LB_IP/32" || true
    echo "--- sessions"
    router birdc show protocols || true
  fi
}

# Two web pods anywhere and externalTrafficPolicy Cluster, as setup_file left them: what
# the tests after the Local one start from, even when that one failed half way.
web_on_every_node() {
  k patch service web -n default --type=merge -p '{"spec":{"externalTrafficPolicy":"Cluster"}}' >/dev/null
  deploy_echo 2
}

@test "the web Service holds an address of the walkthrough's pool" {
  run lb_address
  assert_output "$LB_IP"
  # production-pool is 203.0.113.0/28.
  [[ $output =~ ^203\.0\.113\.([0-9]+)$ ]] && (( BASH_REMATCH[1] < 16 ))
}

@test "the router holds it from every node with 64512:100, 64512:200 and large 64512:1:100" {
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:100 64512:200" "64512:1:100" ||
    fail "not every node announces $LB_IP/32 with the walkthrough's communities"
  local n
  for n in $(nodes); do
    run node_attr "$n" "$LB_IP/32" as_path
    assert_output "64512"
  done
  run bash -c "'$KIND_E2E/router.sh' birdc show route for $LB_IP/32 | grep -c 'unicast \\['"
  assert_output 3
}

@test "curl from the router to that address returns a pod's name" {
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:100 64512:200" "64512:1:100"
  # The route the router uses is the one BGP gave it: nothing else leads there.
  run router exec ip route show "$LB_IP"
  assert_output --partial "nexthop via 198.18.100."
  local pods answers=() i
  pods=$(echo_pods)
  for i in 1 2 3 4 5 6; do
    run curl_lb
    assert_success
    grep -qxF "$output" <<<"$pods" || fail "answer '$output' is not one of the pods: $pods"
    answers+=("$output")
  done
  echo "# answers: ${answers[*]}" >&3
}

@test "externalTrafficPolicy Local: only nodes with a ready endpoint announce, and follow the pods" {
  local first second n
  read -r first second <<<"$(workers | tr '\n' ' ')"
  deploy_echo 1 "$first"
  k patch service web -n default --type=merge -p '{"spec":{"externalTrafficPolicy":"Local"}}' >/dev/null
  eventually_ms 10000 node_has "$first" "$LB_IP/32" || fail "$first does not announce"
  for n in $(nodes); do
    [[ $n == "$first" ]] && continue
    eventually_ms 10000 node_lacks "$n" "$LB_IP/32" || fail "$n announces without an endpoint"
  done
  run curl_lb
  assert_success
  assert_output "$(echo_pods)"

  # The Deployment moves to the other worker: the announcement follows it.
  deploy_echo 1 "$second"
  eventually_ms 30000 node_has "$second" "$LB_IP/32" || fail "$second does not announce after the move"
  eventually_ms 10000 node_lacks "$first" "$LB_IP/32" || fail "$first still announces after the move"
  run node_communities_are "$second" "$LB_IP/32" "64512:100 64512:200" "64512:1:100"
  assert_success
  eventually_ms 10000 curl_lb
  run curl_lb
  assert_output "$(echo_pods)"

  web_on_every_node
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:100 64512:200" "64512:1:100"
}

@test "an alias value change reaches the router within 2 s" {
  web_on_every_node
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:100 64512:200" "64512:1:100"
  local t0 n changed worst=0
  k patch community my-communities -n "$NS" --type=json \
    -p '[{"op":"replace","path":"/spec/communities/0/value","value":"64512:101"}]' >/dev/null
  t0=$(now_ms_of_day)
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:101 64512:200" "64512:1:100" ||
    fail "the new value did not reach every node's session"
  # BIRD stamps each route with the time it changed (the host's clock): from kubectl's
  # return to that stamp, per node.
  for n in $(nodes); do
    changed=$(route_time_ms "$n" "$LB_IP/32")
    [[ -n $changed ]] && (( changed + 100 >= t0 )) ||
      fail "$n: the route's time '$changed' is not after the change ($t0)"
    (( changed - t0 > worst )) && worst=$(( changed - t0 ))
  done
  echo "# the last node's route changed $worst ms after kubectl returned" >&3
  (( worst <= 2000 )) || fail "$worst ms: not within 2 s"
  k patch community my-communities -n "$NS" --type=json \
    -p '[{"op":"replace","path":"/spec/communities/0/value","value":"64512:100"}]' >/dev/null
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:100 64512:200" "64512:1:100"
}

@test "deleting a speaker pod: the DaemonSet's new pod restores every route" {
  web_on_every_node
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:100 64512:200" "64512:1:100"
  local node old new since
  node=$(workers | head -n1)
  old=$(k -n "$NS" get pods -l app.kubernetes.io/component=speaker --field-selector "spec.nodeName=$node" \
    -o jsonpath='{.items[0].metadata.name}')
  since=$(session_since "$node")
  k -n "$NS" delete pod "$old" --wait=true >/dev/null
  k -n "$NS" rollout status daemonset/bgpcomm-speaker --timeout=120s >/dev/null
  new=$(k -n "$NS" get pods -l app.kubernetes.io/component=speaker --field-selector "spec.nodeName=$node" \
    -o jsonpath='{.items[0].metadata.name}')
  [[ -n $new && $new != "$old" ]] || fail "no new speaker pod on $node"
  # The session of $node is a new one (the old pod's ended with it), and carries the route.
  eventually_ms 30000 new_session "$node" "$since" || fail "no new session from $node"
  eventually_ms 30000 every_node_has "$LB_IP/32" "64512:100 64512:200" "64512:1:100" ||
    fail "the new speaker pod $new did not restore $node's route"
  run curl_lb
  assert_success
}
