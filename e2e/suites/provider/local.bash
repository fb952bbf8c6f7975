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
  local_speaker_start bgpcomm-speaker-e2e-1
}
# local_speaker_start POD: the speaker as the chart runs it, its Pod POD (the owner of its
# status objects, --pod-name/--pod-uid as the chart passes $POD_NAME and $POD_UID). There
# is no kubelet: the Pod is an object that stays Pending, so that owners name a real Pod.
# Status objects: MetalLB's per-node ServiceBGPStatus too (off by default in the chart).
local_speaker_start() {
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: $NS
  labels: {bgpcomm-e2e/speaker-pod: "true"}
spec:
  nodeName: $(provider_speaker_node)
  containers: [{name: speaker, image: bgpcomm-e2e/no-kubelet:1}]
YAML
  "$LOCAL_CLUSTER/speaker.sh" start "$(provider_speaker_node)" --log-level debug \
    --service-bgp-status=true --pod-name "$1" \
    --pod-uid "$(k get pod "$1" -n "$NS" -o jsonpath='{.metadata.uid}')"
}
# provider_speaker_owner: "NAME UID" of the Pod the running speaker was given.
provider_speaker_owner() {
  local pid name
  pid=$(sed -n 's/^SPEAKER_PID=//p' "$BGPCOMM_STATE_DIR/env" | tail -n 1)
  name=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n '/^--pod-name$/{n;p}')
  echo "$name $(k get pod "$name" -n "$NS" -o jsonpath='{.metadata.uid}')"
}
# provider_speaker_replace_pod: what a DaemonSet does when the speaker's Pod is deleted:
# the Pod goes, a new one (new name, new uid) runs the speaker. There is no garbage
# collector here, so the old Pod's objects stay unless the new speaker takes them over.
provider_speaker_replace_pod() {
  local old n
  read -r old _ < <(provider_speaker_owner)
  n=${old##*-}
  k delete pod "$old" -n "$NS" --wait=false >/dev/null
  local_speaker_start "bgpcomm-speaker-e2e-$((n + 1))"
}
provider_speaker_teardown() {
  "$LOCAL_CLUSTER/speaker.sh" stop || true
  "$LOCAL_CLUSTER/router.sh" stop a || true
  "$LOCAL_CLUSTER/router.sh" stop b || true
  # The Node speaker.sh created and the speaker's Pods (there is no kubelet).
  k delete node "$(provider_speaker_node)" --ignore-not-found >/dev/null 2>&1 || true
  k delete pod -n "$NS" -l bgpcomm-e2e/speaker-pod --ignore-not-found --wait=false >/dev/null 2>&1 || true
}
provider_birdc() { "$LOCAL_CLUSTER/router.sh" birdc "$@"; }
provider_bird_protocol() { echo speaker; }
provider_bird_tables() { echo "master4 master6"; }
provider_speaker_metrics() { "$LOCAL_CLUSTER/speaker.sh" metrics; }
provider_speaker_log() { cat "$BGPCOMM_STATE_DIR/logs/speaker.log"; }
provider_webhook_log() { cat "$BGPCOMM_STATE_DIR/logs/webhook.log"; }

provider_apiserver_stop() { "$LOCAL_CLUSTER/apiserver.sh" stop; }
provider_apiserver_start() { "$LOCAL_CLUSTER/apiserver.sh" start; }
