#!/usr/bin/env bats
# The chart's alerts and dashboard query only what the binaries export (issue 18 item 4).
# The local control plane's webhook (e2e/cluster/webhook.sh) and a speaker in Kubernetes
# mode with a BIRD router (e2e/cluster/speaker.sh and router.sh, as e2e/suites/speaker.bats
# runs them) are driven through the walkthrough (an allocated address, a session
# Established, a prefix announced) and an admission denial; then both /metrics are scraped,
# and every metric name that the rendered PrometheusRule and dashboards/bgpcomm.json query
# (read from their expressions by promql_names.py) must have a sample there, with the
# labels their matchers name.

load ../suites/helpers

CHART=$E2E_REPO/charts/bgpcomm
NAMES=$E2E_REPO/e2e/chart/promql_names.py
NODE=$(provider_speaker_node)
MD5_B=e2e-md5-b-9f3c
IP4=203.0.113.10

established_a() { provider_birdc a show protocols "$(provider_bird_protocol a)" | grep -q Established; }
ingress_is() {  # SERVICE IP
  [[ $(k get service "$1" -n default -o jsonpath='{.status.loadBalancer.ingress[*].ip}') == "$2" ]]
}
speaker_metric() {  # 'name{labels}' -> its value (empty when absent)
  provider_speaker_metrics | awk -v m="$1" '$1 == m { print $2 }'
}
speaker_metric_is() { [[ $(speaker_metric "$1") == "$2" ]]; }
speaker_metric_above_0() { local v; v=$(speaker_metric "$1"); [[ -n $v ]] && (( ${v%.*} > 0 )); }
# The walkthrough (BGPPeer pointed at router a) and the address the allocator gives; a
# second BGPPeer to router b with a TCP MD5 password b does not have, whose connection
# attempts get no answer (bgpcomm_speaker_connect_unanswered_total, a dashboard panel).
apply_walkthrough() {
  local f
  for f in "$E2E_WALKTHROUGH"/0*.yaml; do
    sed "s/peerAddress: 198.51.100.2\$/peerAddress: $PROVIDER_ROUTER_A/" "$f" | k apply -f - >/dev/null
  done
  eventually_ms 15000 ingress_is web "$IP4" || fail "web got no $IP4"
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: wrong-password, namespace: $NS}
spec: {myASN: 64512, peerASN: $PROVIDER_ROUTER_B_AS, peerAddress: $PROVIDER_ROUTER_B,
       password: not-$MD5_B, connectTime: 1s}
YAML
}
reset_objects() {
  clean_ns "$NS"
  k delete service web -n default --ignore-not-found >/dev/null
}

setup_file() {
  require_cluster
  . "$E2E_REPO/e2e/tools/paths.sh"
  reset_objects
  provider_speaker_setup "$MD5_B"
}

teardown_file() {
  reset_objects || true
  provider_speaker_teardown || true
}

# The rule file and dashboard as the chart ships them, into $BATS_TEST_TMPDIR.
render_rules() {
  . "$E2E_REPO/e2e/tools/paths.sh"
  "$HELM" template bgpcomm "$CHART" --namespace "$NS" --set prometheusRule.enabled=true \
    --show-only templates/prometheusrule.yaml |
    python3 -c 'import sys, yaml; yaml.safe_dump(yaml.safe_load(sys.stdin)["spec"], sys.stdout)' \
      >"$BATS_TEST_TMPDIR/rules.yaml"
}

@test "promql_names.py reads the selectors of an expression, and refuses what it cannot read" {
  run "$NAMES" selectors 'sum by (job, endpoint) (rate(a_total{outcome=~"x|y", e="/v"}[$__rate_interval]))
    / on (pool) group_left (z) b > bool 0.5 or histogram_quantile(0.9, c_bucket) offset 5m'
  assert_success
  assert_output "a_total outcome=~'x|y' e='/v'"$'\n'"b"$'\n'"c_bucket"
  run "$NAMES" selectors '{__name__="a"}'
  assert_failure
  run "$NAMES" selectors 'a{peer="$peer"}'
  assert_failure
}

@test "every metric the alerts and the dashboard query is exported by the running webhook and speaker" {
  render_rules
  apply_walkthrough
  eventually_ms 15000 established_a || fail "no session to router a"
  eventually_ms 15000 speaker_metric_is 'bgpcomm_speaker_session_up{peer="upstream-router"}' 1 ||
    fail "session_up is not 1: $(provider_speaker_metrics | grep session_up)"
  eventually_ms 15000 speaker_metric_is 'bgpcomm_speaker_prefixes_announced{peer="upstream-router"}' 1
  eventually_ms 15000 speaker_metric_above_0 'bgpcomm_speaker_updates_sent_total{peer="upstream-router"}'
  eventually_ms 20000 speaker_metric_above_0 'bgpcomm_speaker_connect_unanswered_total{peer="wrong-password"}' ||
    fail "no unanswered attempt to router b: $(provider_speaker_metrics | grep wrong-password)"
  run speaker_metric 'bgpcomm_speaker_session_up{peer="wrong-password"}'
  assert_output 0
  # A denial through the apiserver (the outcome="denied" the alert and a panel select).
  run k apply --dry-run=server -f - <<'YAML'
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: metrics-denied, namespace: metallb-system}
spec: {communities: [{name: bad, value: "64512:70000"}]}
YAML
  assert_denied
  provider_webhook_metrics >"$BATS_TEST_TMPDIR/webhook.prom"
  provider_speaker_metrics >"$BATS_TEST_TMPDIR/speaker.prom"
  run "$NAMES" queries "$BATS_TEST_TMPDIR/rules.yaml" "$CHART/dashboards/bgpcomm.json"
  assert_success
  echo "$output"
  # Every alert of the rendering and every panel target is read.
  [[ $(grep -c '^rule ' <<<"$output") == $(grep -c '^ *- alert:' "$BATS_TEST_TMPDIR/rules.yaml") ]]
  [[ $(grep -c '^panel ' <<<"$output") == $(grep -c '"expr":' "$CHART/dashboards/bgpcomm.json") ]]
  run "$NAMES" check "$BATS_TEST_TMPDIR/rules.yaml" "$CHART/dashboards/bgpcomm.json" \
    "$BATS_TEST_TMPDIR/webhook.prom" "$BATS_TEST_TMPDIR/speaker.prom"
  echo "$output"
  assert_success
  assert_output --partial 'bgpcomm_speaker_session_up'
  assert_output --partial 'bgpcomm_allocator_addresses_in_use'
  # The check fails when a process's metrics are missing: without the webhook's, its
  # names are reported.
  run "$NAMES" check "$BATS_TEST_TMPDIR/rules.yaml" "$CHART/dashboards/bgpcomm.json" \
    "$BATS_TEST_TMPDIR/speaker.prom"
  assert_failure
  assert_output --partial 'bgpcomm_webhook_admission_requests_total is not exported'
}
