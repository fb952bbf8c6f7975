# Provider "local": the control plane of e2e/cluster/up.sh, whose webhook is a local
# process managed by e2e/cluster/webhook.sh. The speaker suite's speaker is a local process
# too (e2e/cluster/speaker.sh, as the Node it creates), and its routers are BIRD in network
# namespaces of their own (e2e/cluster/router.sh).
LOCAL_CLUSTER=$E2E_REPO/e2e/cluster

provider_webhook_stop() { "$LOCAL_CLUSTER/webhook.sh" stop; }
provider_webhook_start() { "$LOCAL_CLUSTER/webhook.sh" start "$@"; }
# The /metrics of the webhook (the allocator's gauges are the leader's: the only replica).
provider_webhook_metrics() {
  curl -sf --max-time 5 \
    "http://127.0.0.1:$(sed -n 's/^WEBHOOK_METRICS_PORT=//p' "$BGPCOMM_STATE_DIR/env" | tail -n 1)/metrics"
}
provider_wait_enforced() { "$LOCAL_CLUSTER/webhook.sh" wait-enforced; }

# How the webhook authenticates: its kubeconfig holds a token and no client certificate.
provider_webhook_credentials() {
  echo "client-certificates=$(grep -c 'client-certificate' "$BGPCOMM_STATE_DIR/webhook.kubeconfig")"
  echo "tokens=$(grep -c 'token: ' "$BGPCOMM_STATE_DIR/webhook.kubeconfig")"
}

# --- the speaker and its routers (e2e/suites/speaker.bats) ---------------------------
# Router a: 198.51.100.10 / 2001:db8:fe::2 (host side .9 / ::1), AS 64513. Router b:
# 198.51.100.14 / 2001:db8:fe:1::2 (host side .13 / ::1), AS 64514, TCP MD5. Neither
# touches the machine's own 192.0.2.0/24 or fd00::/64.
PROVIDER_ROUTER_A=198.51.100.10
PROVIDER_ROUTER_B=198.51.100.14
PROVIDER_ROUTER_A_AS=64513
PROVIDER_ROUTER_B_AS=64514
provider_speaker_node() { echo e2e-node-a; }
provider_speaker_setup() {  # MD5_PASSWORD_OF_B
  "$LOCAL_CLUSTER/router.sh" start a 198.51.100.9/30 "$PROVIDER_ROUTER_A" 2001:db8:fe::1/64 \
    2001:db8:fe::2 "$PROVIDER_ROUTER_A_AS" 64512
  "$LOCAL_CLUSTER/router.sh" start b 198.51.100.13/30 "$PROVIDER_ROUTER_B" 2001:db8:fe:1::1/64 \
    2001:db8:fe:1::2 "$PROVIDER_ROUTER_B_AS" 64512 "$1"
  # Status objects: MetalLB's per-node ServiceBGPStatus too (off by default in the chart).
  "$LOCAL_CLUSTER/speaker.sh" start "$(provider_speaker_node)" --log-level debug \
    --service-bgp-status=true
}
provider_speaker_teardown() {
  "$LOCAL_CLUSTER/speaker.sh" stop || true
  "$LOCAL_CLUSTER/router.sh" stop a || true
  "$LOCAL_CLUSTER/router.sh" stop b || true
  # The Node speaker.sh created (there is no kubelet).
  k delete node "$(provider_speaker_node)" --ignore-not-found >/dev/null 2>&1 || true
}
provider_birdc() { "$LOCAL_CLUSTER/router.sh" birdc "$@"; }
provider_bird_protocol() { echo speaker; }
provider_bird_tables() { echo "master4 master6"; }
provider_speaker_metrics() { "$LOCAL_CLUSTER/speaker.sh" metrics; }
provider_speaker_log() { cat "$BGPCOMM_STATE_DIR/logs/speaker.log"; }

provider_apiserver_stop() { "$LOCAL_CLUSTER/apiserver.sh" stop; }
provider_apiserver_start() { "$LOCAL_CLUSTER/apiserver.sh" start; }
