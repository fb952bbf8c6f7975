# Loaded by the kind-only suites (e2e/kind/*.bats) after ../suites/helpers: the chart's
# pods, the echo Deployment behind the walkthrough's Service `web`, and router a's view of
# each node's session (e2e/kind/router.sh).
KIND_E2E=$E2E_REPO/e2e/kind
ROUTER_A=198.18.100.200
ECHO_IMAGE=bgpcomm-e2e/echo:1
LB_IP=203.0.113.10   # the address `web` asks for (examples/walkthrough/06-service.yaml)

[[ $BGPCOMM_E2E_PROVIDER == kind ]] || {
  echo "e2e/kind/*.bats run on the kind cluster only (e2e/kind/run.sh)" >&2
  exit 1
}

router() { "$KIND_E2E/router.sh" "$@"; }
source "$E2E_REPO/e2e/interop/bird.bash"
birdc_() { router birdc "$@"; }
nodes() { k get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort; }
workers() { k get nodes -l '!node-role.kubernetes.io/control-plane' -o name | cut -d/ -f2 | sort; }

# node_attr NODE PREFIX WHAT: bird_attr of router a for the session of NODE.
node_attr() {
  local BIRD_PROTOCOL
  BIRD_PROTOCOL=$(router protocol a "$1")
  bird_attr ipv4 "$2" "$3"
}
node_has() { node_attr "$1" "$2" present; }
node_lacks() { ! node_attr "$1" "$2" present; }
# node_communities_are NODE PREFIX "A:B ..." LARGE
node_communities_are() {
  local got large
  got=$(node_attr "$1" "$2" communities) || return 1
  large=$(node_attr "$1" "$2" large) || return 1
  [[ $(echo $got) == "$3" && $(echo $large) == "$4" ]]
}
# every_node_has PREFIX STANDARD LARGE: each node's session carries the route so.
every_node_has() {
  local n
  for n in $(nodes); do node_communities_are "$n" "$1" "$2" "$3" || return 1; done
}
# route_time_ms NODE PREFIX: when router a last changed NODE's route for PREFIX, in ms
# since midnight UTC (BIRD's "[protocol HH:MM:SS.mmm]"; the router shares the host's clock).
route_time_ms() {
  router birdc show route for "$2" protocol "$(router protocol a "$1")" |
    sed -n 's/.*\[[a-z0-9_]* \([0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]*\)\].*/\1/p' | head -n1 |
    awk -F'[:.]' '{ printf "%d\n", (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }'
}
now_ms_of_day() { echo $(( $(date -u +%s%3N) % 86400000 )); }
established() { router birdc show protocols "$(router protocol a "$1")" | grep -q Established; }
# The time the session of NODE last changed state (BIRD's "Since"), and whether it is
# Established since another time than $2.
session_since() { router birdc show protocols "$(router protocol a "$1")" | awk 'NR > 2 { print $5 }'; }
new_session() { established "$1" && [[ $(session_since "$1") != "$2" ]]; }

# The walkthrough, its BGPPeer pointed at router a.
apply_walkthrough() {
  local f
  for f in "$E2E_WALKTHROUGH"/0[1-5]*.yaml; do
    sed "s/peerAddress: 198.51.100.2\$/peerAddress: $ROUTER_A/" "$f" | k apply -f - >/dev/null
  done
  k apply -f "$E2E_WALKTHROUGH/06-service.yaml" >/dev/null
}

# The echo server behind `web` (app: web, port 8080), REPLICAS pods, optionally pinned to a node.
deploy_echo() {  # deploy_echo REPLICAS [NODE]
  local selector="{}"
  [[ -z ${2:-} ]] || selector="{\"kubernetes.io/hostname\": \"$2\"}"
  k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {bgpcomm-e2e: kind}
spec:
  replicas: $1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector: $selector
      containers:
        - name: echo
          image: $ECHO_IMAGE
          imagePullPolicy: Never
          env:
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
          ports: [{containerPort: 8080, name: http}]
          readinessProbe:
            httpGet: {path: /, port: 8080}
            periodSeconds: 1
YAML
  k -n default rollout status deployment/web --timeout=120s >/dev/null
}
# The web pods that serve: a pod of an earlier rollout still terminating is left out.
echo_pods() {
  k -n default get pods -l app=web \
    -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}'
}

# The chart's webhook leader (allocator.enabled) gives `web` its address: the one the
# walkthrough's Service asks for with metallb.io/loadBalancerIPs. Nothing here writes a
# status. wait_allocated: until the allocator has written it (at most 60 s).
wait_allocated() {
  eventually_ms 60000 eval '[[ $(lb_address) == "$LB_IP" ]]' ||
    fail "the allocator did not give web $LB_IP in 60 s (status: '$(lb_address)'); events: $(
      k get events -n default --field-selector involvedObject.name=web -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}')"
}
lb_address() { k get service web -n default -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }

# curl from the router, through the route BGP gave it, to the Service's address.
curl_lb() { router exec curl -sS --max-time 5 "http://$LB_IP/"; }

reset_kind_objects() {
  clean_ns "$NS"
  k delete deployment web -n default --ignore-not-found >/dev/null
  k delete service web -n default --ignore-not-found >/dev/null
}
