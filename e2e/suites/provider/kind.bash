# Provider "kind": the cluster of e2e/kind/up.sh. The webhook is the chart's Deployment
# bgpcomm-webhook in metallb-system (its pods judge through the Service, with the caBundle
# they inject), the speaker is the chart's DaemonSet on every node, and the routers are the
# BIRD container of e2e/kind/router.sh (router "a" peers with every node; router "b" is
# added and removed by the suites that need it).
KIND_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PROVIDER_NS=metallb-system
PROVIDER_WEBHOOK=bgpcomm-webhook
PROVIDER_SPEAKER_SELECTOR=app.kubernetes.io/component=speaker
# The chart's arguments and replicas, recorded on the Deployment the first time a suite
# changes them (helm upgrade keeps annotations it does not own).
PROVIDER_ARGS_ANNOTATION=bgpcomm-e2e/chart-args
PROVIDER_REPLICAS_ANNOTATION=bgpcomm-e2e/chart-replicas

kind_router() { "$KIND_REPO/e2e/kind/router.sh" "$@"; }

provider_webhook_stop() {
  provider_webhook_record_chart
  k -n "$PROVIDER_NS" scale "deployment/$PROVIDER_WEBHOOK" --replicas=0 >/dev/null
  k -n "$PROVIDER_NS" wait --for=delete pod -l app.kubernetes.io/component=webhook --timeout=90s
}

# Records the chart's container args and replica count once.
provider_webhook_record_chart() {
  local recorded
  recorded=$(k -n "$PROVIDER_NS" get "deployment/$PROVIDER_WEBHOOK" \
    -o jsonpath="{.metadata.annotations.bgpcomm-e2e/chart-args}")
  [[ -z $recorded ]] || return 0
  k -n "$PROVIDER_NS" annotate "deployment/$PROVIDER_WEBHOOK" --overwrite \
    "$PROVIDER_ARGS_ANNOTATION=$(k -n "$PROVIDER_NS" get "deployment/$PROVIDER_WEBHOOK" \
      -o jsonpath='{.spec.template.spec.containers[0].args}')" \
    "$PROVIDER_REPLICAS_ANNOTATION=$(k -n "$PROVIDER_NS" get "deployment/$PROVIDER_WEBHOOK" \
      -o jsonpath='{.spec.replicas}')" >/dev/null
}

# The chart's args with each of ARGS (--flag=value) replacing the chart's --flag, and the
# chart's replicas; waits for the rollout and for enforcement.
provider_webhook_start() {
  provider_webhook_record_chart
  local chart replicas args current
  chart=$(k -n "$PROVIDER_NS" get "deployment/$PROVIDER_WEBHOOK" \
    -o jsonpath="{.metadata.annotations.bgpcomm-e2e/chart-args}")
  replicas=$(k -n "$PROVIDER_NS" get "deployment/$PROVIDER_WEBHOOK" \
    -o jsonpath="{.metadata.annotations.bgpcomm-e2e/chart-replicas}")
  local new='[]'
  (( $# )) && new=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
  args=$(jq -cn --argjson chart "$chart" --argjson new "$new" '($new | map(split("=")[0])) as $names
    | [$chart[] | select((split("=")[0]) as $n | ($names | index($n)) == null)] + $new')
  current=$(k -n "$PROVIDER_NS" get "deployment/$PROVIDER_WEBHOOK" \
    -o jsonpath='{.spec.template.spec.containers[0].args}')
  if [[ $(jq -c . <<<"$current") != "$args" ]]; then
    k -n "$PROVIDER_NS" patch "deployment/$PROVIDER_WEBHOOK" --type=json \
      -p "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/args\",\"value\":$args}]" >/dev/null
  fi
  k -n "$PROVIDER_NS" scale "deployment/$PROVIDER_WEBHOOK" --replicas="$replicas" >/dev/null
  k -n "$PROVIDER_NS" rollout status "deployment/$PROVIDER_WEBHOOK" --timeout=180s >/dev/null
  provider_wait_old_webhook_pods_gone "$replicas"
  provider_wait_enforced
}

# `rollout status` returns while the old ReplicaSet's pods still terminate, and they keep
# serving for --shutdown-delay: a request judged by an old pod (the previous flags) and
# the next by a new one makes a suite flaky. Waits until only REPLICAS pods are left.
provider_wait_old_webhook_pods_gone() {
  local replicas=$1 deadline=$(( SECONDS + 120 )) pods
  while :; do
    pods=$(k -n "$PROVIDER_NS" get pods -l app.kubernetes.io/component=webhook --no-headers 2>/dev/null | wc -l)
    (( pods <= replicas )) && return 0
    (( SECONDS < deadline )) || { echo "old webhook pods still terminate after 120 s" >&2; return 1; }
    sleep 1
  done
}

# The /metrics of the webhook pod that leads (holds the resolver's Lease, whose identity
# is HOSTNAME_PID: the pod's name), through the apiserver's pod proxy.
provider_webhook_metrics() {
  local holder
  holder=$(k -n "$PROVIDER_NS" get lease "$PROVIDER_WEBHOOK-resolver" -o jsonpath='{.spec.holderIdentity}')
  k get --raw "/api/v1/namespaces/$PROVIDER_NS/pods/${holder%_*}:8080/proxy/metrics"
}

# A known-bad Community is denied by a server-side dry run (nothing is stored).
provider_enforced() {
  local out
  out=$(k apply --dry-run=server -f - 2>&1 <<YAML
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: bgpcomm-enforcement-probe
  namespace: $PROVIDER_NS
spec:
  communities:
    - name: probe
      value: "64512:70000"
YAML
  ) && return 1
  [[ $out == *"denied the request"* ]]
}
provider_wait_enforced() {
  local deadline=$(( SECONDS + 60 ))
  until provider_enforced; do
    (( SECONDS < deadline )) || { echo "the webhook is not enforced after 60 s" >&2; return 1; }
    sleep 0.5
  done
}

# How the webhook authenticates: the ServiceAccount of its pods, mounted by Kubernetes.
provider_webhook_credentials() {
  k -n "$PROVIDER_NS" get pods -l app.kubernetes.io/component=webhook \
    -o jsonpath='{range .items[*]}sa={.spec.serviceAccountName} args={.spec.containers[0].args}{"\n"}{end}'
}

# --- the speaker and its routers (e2e/suites/speaker.bats) ---------------------------
kind_cluster() { "$KIND_REPO/e2e/kind/kind.sh" "$@"; }
# The node whose speaker the suite watches: the first worker (from Docker, so that it is
# known while kube-apiserver is away).
# (e2e/kind/run.sh exports both, so that each test need not ask again.)
: "${PROVIDER_SPEAKER_NODE:=$(kind_cluster workers | head -n1)}"
provider_speaker_node() { echo "$PROVIDER_SPEAKER_NODE"; }
PROVIDER_ROUTER_A=198.18.100.200
PROVIDER_ROUTER_B=198.18.100.201
PROVIDER_ROUTER_A_AS=64513
PROVIDER_ROUTER_B_AS=64514
provider_speaker_setup() {  # MD5_PASSWORD_OF_B
  kind_router peer b "$PROVIDER_ROUTER_B" "$PROVIDER_ROUTER_B_AS" "$1" >/dev/null
}
provider_speaker_teardown() { kind_router unpeer b >/dev/null; }
# birdc against router a or b, and what limits `show route` to the watched node's session.
provider_birdc() { local router=$1; shift; kind_router birdc --router "$router" "$@"; }
provider_bird_protocol() { kind_router protocol "$1" "$PROVIDER_SPEAKER_NODE"; }
provider_bird_tables() { echo "master4 master6"; }  # each router is a BIRD of its own
provider_speaker_pod() {
  k -n "$PROVIDER_NS" get pods -l "$PROVIDER_SPEAKER_SELECTOR" \
    --field-selector "spec.nodeName=$PROVIDER_SPEAKER_NODE,status.phase=Running" \
    -o jsonpath='{.items[0].metadata.name}'
}
: "${PROVIDER_SPEAKER_IP:=$(kind_cluster ip "$PROVIDER_SPEAKER_NODE")}"
# provider_speaker_owner: "NAME UID" of the watched node's speaker Pod.
provider_speaker_owner() {
  local pod
  pod=$(provider_speaker_pod)
  echo "$pod $(k -n "$PROVIDER_NS" get pod "$pod" -o jsonpath='{.metadata.uid}')"
}
# provider_speaker_replace_pod: the watched node's speaker Pod deleted; returns once the
# DaemonSet's new Pod there is Ready (the garbage collector then removes what the old Pod
# owned).
provider_speaker_replace_pod() {
  local old uid deadline=$(( SECONDS + 180 ))
  read -r old uid < <(provider_speaker_owner)
  k -n "$PROVIDER_NS" delete pod "$old" --wait=true --timeout=120s >/dev/null
  until kind_speaker_replaced "$uid"; do
    (( SECONDS < deadline )) || { echo "no Ready speaker Pod on $PROVIDER_SPEAKER_NODE after 180 s" >&2; return 1; }
    sleep 1
  done
}
# kind_speaker_replaced OLD_UID: a Ready speaker Pod other than OLD_UID runs on the node.
kind_speaker_replaced() {
  local pod
  pod=$(provider_speaker_pod 2>/dev/null) || return 1
  [[ -n $pod ]] || return 1
  [[ $(k -n "$PROVIDER_NS" get pod "$pod" -o jsonpath='{.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}') \
    == *" True" && $(k -n "$PROVIDER_NS" get pod "$pod" -o jsonpath='{.metadata.uid}') != "$1" ]]
}
provider_speaker_metrics() { curl -sf --max-time 5 "http://$PROVIDER_SPEAKER_IP:7472/metrics"; }
provider_speaker_log() { k -n "$PROVIDER_NS" logs "$(provider_speaker_pod)"; }
# Every webhook pod's log, each line prefixed with its pod.
provider_webhook_log() {
  k -n "$PROVIDER_NS" logs -l app.kubernetes.io/component=webhook --prefix --tail=-1
}

# kube-apiserver is a static pod of the control-plane node: kubelet stops it when its
# manifest leaves /etc/kubernetes/manifests and starts it when the manifest returns.
provider_apiserver_stop() {
  local node
  node=$(kind_cluster control-plane)
  docker_kind exec "$node" mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/kube-apiserver.yaml.stopped
  local deadline=$(( SECONDS + 60 ))
  while k get --raw /readyz >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { echo "kube-apiserver still answers after 60 s" >&2; return 1; }
    sleep 0.5
  done
}
provider_apiserver_start() {
  local node
  node=$(kind_cluster control-plane)
  # Idempotent: only a manifest provider_apiserver_stop moved away is put back.
  docker_kind exec "$node" sh -c 'test ! -f /etc/kubernetes/kube-apiserver.yaml.stopped ||
    mv /etc/kubernetes/kube-apiserver.yaml.stopped /etc/kubernetes/manifests/kube-apiserver.yaml'
  local deadline=$(( SECONDS + 120 ))
  until k get --raw /readyz >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { echo "kube-apiserver not ready after 120 s" >&2; return 1; }
    sleep 0.5
  done
}
docker_kind() { kind_cluster docker "$@"; }
