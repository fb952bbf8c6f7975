#!/usr/bin/env bash
# Tests of charts/bgpcomm against real helm, kubectl and kube-apiserver.
#
#   chart_test.sh render   helm lint; helm template with the defaults and with every
#                          non-default switch (no cluster needed)
#   chart_test.sh score    kube-score on the chart rendered with default values: no
#                          critical and no warning but those charts/bgpcomm/README.md
#                          names ("kube-score") with the reason
#   chart_test.sh rules    the PrometheusRule rendered with every alert: promtool check
#                          rules, then promtool test rules with e2e/chart/rules/*.test.yaml;
#                          every alert has a test
#   chart_test.sh install  on a private control plane (control_plane.sh): each
#                          rendering applied with --dry-run=server; helm install; the
#                          webhook run locally with the chart's ServiceAccount token and
#                          --cert-mode=self (Secret created, CA injected and verified with
#                          openssl); admission through it; rotation with a short
#                          validity; helm upgrade keeps the Secret and caBundle; helm
#                          uninstall removes what the chart made.
# BGPCOMM_BIN_DIR: where bgpcomm-webhook is (default build/bin).
# BGPCOMM_IMAGE (install): also run the webhook from this image (built by
# e2e/image/build.sh; DOCKER_HOST and DOCKER from e2e/image/dockerd.sh env) the way the
# chart's Deployment runs it, with the in-cluster configuration.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
chart=$repo/charts/bgpcomm
bin_dir=${BGPCOMM_BIN_DIR:-$repo/build/bin}
. "$repo/e2e/tools/paths.sh"
mode=${1:?usage: chart_test.sh render|score|rules|install}

log() { echo "chart_test: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# name|--set flags of each rendering the tests cover.
variants=(
  "default|"
  "crds-off|--set crds.enabled=false"
  "cert-manager|--set certManager.enabled=true"
  "service-monitor|--set serviceMonitor.enabled=true"
  "failure-ignore|--set webhook.failurePolicy=Ignore"
  "client-ca|--set webhook.clientCA.configMap=apiserver-ca"
  "netpol-off|--set webhook.networkPolicy.enabled=false"
  "netpol-cidrs|--set webhook.networkPolicy.apiServerCIDRs={198.51.100.7/32,2001:db8::7/128} --set webhook.networkPolicy.metricsNamespaceSelector=null --set webhook.networkPolicy.metricsCIDRs={203.0.113.0/24}"
  "observability|--set prometheusRule.enabled=true --set grafanaDashboard.enabled=true"
)

work=$(mktemp -d "${TMPDIR:-/tmp}/bgpcomm-chart.XXXXXX")
webhook_pid=
container=
cleanup() {
  local rc=$?
  [[ -n $container ]] && { "${DOCKER:-docker}" rm -f "$container" >/dev/null 2>&1 || true; }
  [[ -n $webhook_pid ]] && { kill "$webhook_pid" 2>/dev/null; wait "$webhook_pid" 2>/dev/null || true; }
  if [[ $mode == install ]]; then
    if (( rc != 0 )); then
      echo "--- webhook.log (tail)" >&2; tail -n 30 "$work/webhook.log" 2>/dev/null >&2 || true
    fi
    cp_stop
  fi
  rm -rf "$work"
  return $rc
}
trap cleanup EXIT

render() {  # render NAME FLAGS... -> file path
  local name=$1 crds=--include-crds; shift
  [[ $name == crds-off ]] && crds=  # as `helm install --skip-crds` would
  # shellcheck disable=SC2068
  "$HELM" template bgpcomm "$chart" --namespace metallb-system $crds $@ >"$work/$name.yaml"
  echo "$work/$name.yaml"
}

# netpol_peers FILE SOURCE "CIDRS" "METRICS_PEERS": the webhook's NetworkPolicy in FILE says
# where its API server addresses came from (annotation bgpcomm.io/api-server-cidrs), admits
# exactly CIDRS to the webhook port and sends to exactly CIDRS on the API server ports, and
# admits exactly METRICS_PEERS (ipBlock CIDRs, or ns:SELECTOR as JSON) to the metrics port.
netpol_peers() { python3 "$here/netpol_peers.py" "$@"; }

kinds() { grep -E '^kind: ' "$1" | sort | uniq -c | awk '{print $3 "=" $1}' | tr '\n' ' '; }

if [[ $mode == render ]]; then
  out=$("$HELM" lint "$chart" --strict 2>&1) || { echo "$out"; fail "helm lint"; }
  grep -q '1 chart(s) linted, 0 chart(s) failed' <<<"$out" || fail "helm lint: $out"
  grep -E '^\[(WARNING|ERROR)\]' <<<"$out" && fail "helm lint warnings"
  for v in "${variants[@]}"; do
    name=${v%%|*}; flags=${v#*|}
    f=$(render "$name" $flags)
    "$HELM" lint "$chart" --strict $flags >/dev/null || fail "helm lint $flags"
    log "$name: $(kinds "$f")"
  done
  d=$work/default.yaml
  # Every webhook path is an endpoint of webhook/decide.cc, and every endpoint is used.
  paths=$(grep -E '^\s+path: /(validate|mutate)-' "$d" | awk '{print $2}' | sort)
  want=$(grep -oE '"/(validate|mutate)-[a-z0-9-]+"' "$repo/webhook/decide.cc" | tr -d '"' | sort)
  [[ $paths == "$want" ]] || fail "webhook paths differ from decide.cc: $paths vs $want"
  grep -q 'failurePolicy: Fail' "$d" || fail "default failurePolicy is not Fail"
  grep -q 'failurePolicy: Ignore' "$work/failure-ignore.yaml" || fail "failurePolicy=Ignore not rendered"
  grep -q -- '--cert-mode=self' "$d" || fail "default is not --cert-mode=self"
  grep -q -- '--cert-mode=files' "$work/cert-manager.yaml" || fail "certManager: not --cert-mode=files"
  [[ $(grep -c 'cert-manager.io/inject-ca-from: metallb-system/bgpcomm-webhook' "$work/cert-manager.yaml") == 2 ]] ||
    fail "certManager: inject-ca-from missing"
  # CA Certificate from the self-signed Issuer, CA Issuer, serving Certificate from it.
  [[ $(grep -c '^kind: Certificate$' "$work/cert-manager.yaml") == 2 ]] || fail "certManager: not 2 Certificates"
  [[ $(grep -c '^kind: Issuer$' "$work/cert-manager.yaml") == 2 ]] || fail "certManager: not 2 Issuers"
  grep -q 'isCA: true' "$work/cert-manager.yaml" || fail "certManager: no CA Certificate"
  grep -A3 '^  issuerRef:' "$work/cert-manager.yaml" | grep -q 'name: bgpcomm-webhook-ca' ||
    fail "certManager: the serving Certificate is not issued by the CA Issuer"
  grep -q 'maxUnavailable: 1' "$d" || fail "PodDisruptionBudget is not maxUnavailable: 1"
  grep -q 'topologyKey: topology.kubernetes.io/zone' "$d" || fail "webhook replicas not spread over zones"
  grep -q 'kind: NetworkPolicy' "$d" || fail "no NetworkPolicy by default"
  grep -q 'kind: NetworkPolicy' "$work/netpol-off.yaml" && fail "networkPolicy.enabled=false renders one"
  # The webhook port's peers: without a cluster to look up (helm template) the documented
  # permissive fallback, marked so; with apiServerCIDRs exactly those, for ingress to the
  # webhook port and egress to the API server ports.
  netpol_peers "$d" fallback "0.0.0.0/0 ::/0" "ns:{}" || fail "default NetworkPolicy"
  netpol_peers "$work/netpol-cidrs.yaml" values "198.51.100.7/32 2001:db8::7/128" "203.0.113.0/24" ||
    fail "NetworkPolicy with apiServerCIDRs and metricsCIDRs"
  grep -q -- '--client-ca-file=/etc/bgpcomm/client-ca/ca.crt' "$work/client-ca.yaml" ||
    fail "clientCA: no --client-ca-file"
  grep -q -- '--client-ca-file' "$d" && fail "--client-ca-file rendered by default"
  grep -q 'kind: ServiceMonitor' "$work/service-monitor.yaml" || fail "no ServiceMonitor"
  grep -q 'kind: ServiceMonitor' "$d" && fail "ServiceMonitor rendered by default"
  o=$work/observability.yaml
  grep -q 'kind: PrometheusRule' "$o" || fail "no PrometheusRule"
  grep -q 'kind: PrometheusRule' "$d" && fail "PrometheusRule rendered by default"
  grep -q 'name: bgpcomm-dashboard' "$d" && fail "dashboard ConfigMap rendered by default"
  # The dashboard ConfigMap carries the sidecar's label and exactly dashboards/bgpcomm.json.
  python3 - "$o" "$chart/dashboards/bgpcomm.json" <<'PY' || fail "dashboard ConfigMap"
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cm = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "bgpcomm-dashboard"]
assert len(cm) == 1, "no ConfigMap bgpcomm-dashboard"
assert cm[0]["metadata"]["labels"].get("grafana_dashboard") == "1", cm[0]["metadata"]["labels"]
assert json.loads(cm[0]["data"]["bgpcomm.json"]) == json.load(open(sys.argv[2])), "JSON differs"
PY
  "$HELM" template bgpcomm "$chart" --set grafanaDashboard.enabled=true \
    --set grafanaDashboard.labels.grafana_dashboard=yes --set grafanaDashboard.namespace=monitoring \
    >"$work/dashboard-labels.yaml" || fail "grafanaDashboard values"
  grep -q 'grafana_dashboard: "yes"' "$work/dashboard-labels.yaml" || fail "grafanaDashboard.labels ignored"
  grep -q 'namespace: monitoring' "$work/dashboard-labels.yaml" || fail "grafanaDashboard.namespace ignored"
  [[ $(grep -c 'kind: CustomResourceDefinition' "$d") == $(ls "$chart"/crds/*.yaml | wc -l) ]] ||
    fail "CRDs missing from --include-crds"
  grep -q 'kind: CustomResourceDefinition' "$work/crds-off.yaml" && fail "crds-off renders CRDs"
  for f in "$d" "$work/cert-manager.yaml"; do
    grep -q 'privileged: true\|NET_ADMIN\|NET_RAW\|SYS_ADMIN' "$f" && fail "privileges in $f"
  done
  [[ $(grep -c 'readOnlyRootFilesystem: true' "$d") == 2 ]] || fail "readOnlyRootFilesystem"
  [[ $(grep -c 'drop: \[ALL\]' "$d") == 2 ]] || fail "capabilities drop ALL"
  # An invalid value is refused by values.schema.json.
  if "$HELM" template bgpcomm "$chart" --set webhook.failurePolicy=Sometimes >/dev/null 2>"$work/err"; then
    fail "schema accepted failurePolicy=Sometimes"
  fi
  grep -q 'failurePolicy' "$work/err" || fail "schema error does not name the field: $(cat "$work/err")"
  log "PASS render"
  exit 0
fi

if [[ $mode == score ]]; then
  f=$(render default)
  # The checks the chart's README ("kube-score") explains we leave as they are.
  ignored=(container-image-pull-policy)
  args=(score --kubernetes-version v1.36 --output-format ci)
  for t in "${ignored[@]}"; do args+=(--ignore-test "$t"); done
  out=$("$KUBE_SCORE" "${args[@]}" "$f" 2>&1) || true
  ok=$(grep -c '^\[OK\]' <<<"$out" || true)
  bad=$(grep -E '^\[(CRITICAL|WARNING)\]' <<<"$out" || true)
  (( ok > 0 )) || fail "kube-score judged nothing: $out"
  [[ -z $bad ]] && { log "PASS score: $ok OK, 0 critical, 0 warning (ignored: ${ignored[*]})"; exit 0; }
  fail "kube-score on the default rendering:"$'\n'"$bad"
fi

if [[ $mode == rules ]]; then
  promtool=$(command -v promtool) || fail "promtool not found (make deps installs Debian's prometheus)"
  rules=$work/rules
  mkdir -p "$rules"
  # rules_of FLAGS...: the spec of the rendered PrometheusRule, as a rule file.
  rules_of() {
    # shellcheck disable=SC2068
    "$HELM" template bgpcomm "$chart" --namespace metallb-system --set prometheusRule.enabled=true \
      $@ --show-only templates/prometheusrule.yaml |
      python3 -c 'import sys, yaml; d = yaml.safe_load(sys.stdin); assert d["kind"] == "PrometheusRule"
yaml.safe_dump(d["spec"], sys.stdout, sort_keys=False)'
  }
  rules_of >"$rules/bgpcomm-rules.yaml" || fail "render the PrometheusRule"
  alerts=$(python3 -c 'import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]: print(r["alert"])' "$rules/bgpcomm-rules.yaml" | sort)
  n=$(wc -l <<<"$alerts")
  out=$("$promtool" check rules "$rules/bgpcomm-rules.yaml" 2>&1) || { echo "$out"; fail "promtool check rules"; }
  grep -q "SUCCESS: $n rules found" <<<"$out" || fail "promtool check rules: $out"
  log "promtool check rules: $n alerts: $(echo $alerts)"
  # Values change the rules: thresholds, a runbook URL, an alert turned off.
  rules_of --set prometheusRule.runbookURL=https://example.com/README.md \
    --set 'prometheusRule.addressPoolUsage.thresholds[0].percent=50' \
    --set 'prometheusRule.addressPoolUsage.thresholds[0].severity=info' \
    --set prometheusRule.bgpSessionDown.enabled=false >"$rules/changed.yaml" || fail "render with values"
  "$promtool" check rules "$rules/changed.yaml" >/dev/null || fail "promtool check rules (values)"
  grep -q 'BgpcommAddressPoolUsage50Percent' "$rules/changed.yaml" || fail "thresholds ignored"
  grep -q 'BgpcommBGPSessionDown' "$rules/changed.yaml" && fail "bgpSessionDown.enabled=false ignored"
  grep -q 'runbook_url: https://example.com/README.md#bgpcommaddresspoolexhausted' "$rules/changed.yaml" ||
    fail "runbookURL ignored"
  # The dashboard's queries parse: each one as a recording rule ($__rate_interval and
  # $__interval as 5m, what Grafana puts there).
  python3 - "$chart/dashboards/bgpcomm.json" >"$rules/dashboard.yaml" <<'PY' || fail "dashboard queries"
import json, re, sys, yaml
def panels(items):
    for p in items or []:
        yield p
        yield from panels(p.get("panels"))
rules = []
for p in panels(json.load(open(sys.argv[1]))["panels"]):
    for t in p.get("targets") or []:
        expr = re.sub(r"\$\{?(__rate_interval|__interval)\}?", "5m", t["expr"])
        rules.append({"record": f"bgpcomm:dashboard:{p['id']}:{t['refId']}", "expr": expr})
assert rules, "no query in the dashboard"
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, sys.stdout, sort_keys=False)
PY
  q=$(grep -c 'record:' "$rules/dashboard.yaml")
  out=$("$promtool" check rules "$rules/dashboard.yaml" 2>&1) || { echo "$out"; fail "a dashboard query does not parse"; }
  grep -q "SUCCESS: $q rules found" <<<"$out" || fail "promtool check rules (dashboard): $out"
  log "promtool: the dashboard's $q queries parse"
  # Each test file names bgpcomm-rules.yaml (rule_files are relative to it).
  cp "$here"/rules/*.test.yaml "$rules/"
  for t in "$rules"/*.test.yaml; do
    out=$("$promtool" test rules "$t" 2>&1) || { echo "$out"; fail "promtool test rules $(basename "$t")"; }
    log "promtool test rules $(basename "$t"): $(tail -n 1 <<<"$out")"
  done
  # Every alert is tested firing: it appears as alertname of a test that expects alerts.
  fired=$(python3 -c 'import sys, yaml
for path in sys.argv[1:]:
    for t in yaml.safe_load(open(path))["tests"]:
        for a in t.get("alert_rule_test") or []:
            if a.get("exp_alerts"): print(a["alertname"])' "$rules"/*.test.yaml | sort -u)
  untested=$(comm -23 <(echo "$alerts") <(echo "$fired"))
  [[ -z $untested ]] || fail "alerts no test sees firing: $untested"
  log "PASS rules"
  exit 0
fi

[[ $mode == install ]] || fail "unknown mode $mode"
[[ -x $bin_dir/bgpcomm-webhook ]] || fail "$bin_dir/bgpcomm-webhook not built"
. "$here/control_plane.sh"
cp_start "$work/cp"
export KUBECONFIG=$CP_KUBECONFIG
k() { "$KUBECTL" "$@"; }
retry() {  # retry N CMD...: discovery lags right after CRDs are established
  local n=$1 i; shift
  for ((i = 1; i <= n; i++)); do "$@" && return 0; sleep 1; done
  return 1
}

# --- each rendering, applied with a server-side dry run --------------------------
k create namespace metallb-system >/dev/null
# cert-manager's own CRDs (e2e/tools: the pinned release's), so that the dry run of the
# certManager rendering checks the Certificates and Issuers against cert-manager's schema
# (kubectl's strict field validation refuses an unknown field); stand-ins for the
# Prometheus Operator's (kinds only, any spec), so that those renderings can be dry-run too.
k apply --server-side -f "$CERT_MANAGER_CRDS" >/dev/null
for crd in "monitoring.coreos.com servicemonitors ServiceMonitor" \
           "monitoring.coreos.com prometheusrules PrometheusRule"; do
  read -r group plural kind <<<"$crd"
  k apply -f - >/dev/null <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: $plural.$group}
spec:
  group: $group
  names: {kind: $kind, plural: $plural, listKind: ${kind}List, singular: ${kind,,}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
YAML
done
k apply -f "$chart/crds/" >/dev/null  # the dry runs of namespaced objects need no CRDs, but discovery must know the kinds
k wait --for=condition=Established crd --all --timeout=60s >/dev/null
for v in "${variants[@]}"; do
  name=${v%%|*}; flags=${v#*|}
  f=$(render "$name" $flags)
  retry 10 k apply --dry-run=server -f "$f" >"$work/$name.dryrun" 2>&1 ||
    { cat "$work/$name.dryrun" >&2; fail "dry-run=server of $name"; }
  log "dry-run=server $name: $(grep -c 'server dry run' "$work/$name.dryrun") objects"
done
k delete -f "$CERT_MANAGER_CRDS" >/dev/null
k delete crd servicemonitors.monitoring.coreos.com prometheusrules.monitoring.coreos.com >/dev/null
k delete -f "$chart/crds/" >/dev/null

# --- the NetworkPolicy's API server addresses, looked up ----------------------------
# This control plane advertises 127.0.0.1 and so publishes no EndpointSlice
# default/kubernetes; a stand-in like the one a cluster's API servers publish (two
# addresses, their port 6444): helm's lookup (install, upgrade, template
# --dry-run=server) takes them as /32s, and their port joins the egress ports.
k apply -f - >/dev/null <<'YAML'
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes}
addressType: IPv4
endpoints:
  - addresses: [198.51.100.7]
  - addresses: [198.51.100.8]
ports:
  - {name: https, port: 6444, protocol: TCP}
YAML
"$HELM" template bgpcomm "$chart" --namespace metallb-system --dry-run=server \
  --show-only templates/webhook-networkpolicy.yaml >"$work/netpol-lookup.yaml" ||
  fail "helm template --dry-run=server"
netpol_peers "$work/netpol-lookup.yaml" lookup "198.51.100.7/32 198.51.100.8/32" "ns:{}" ||
  fail "NetworkPolicy from the looked-up EndpointSlice"
grep -q 'port: 6444' "$work/netpol-lookup.yaml" || fail "the API servers' port 6444 not in the egress rule"

# --- helm install (no --wait: nothing runs pods here) ------------------------------
"$HELM" install bgpcomm "$chart" --namespace metallb-system >"$work/install.out" ||
  fail "helm install"
grep -q 'the webhook port admits only 198.51.100.7/32, 198.51.100.8/32, the API servers' "$work/install.out" ||
  fail "NOTES.txt does not name the looked-up addresses: $(grep -A4 'NetworkPolicy' "$work/install.out")"
[[ $(k -n metallb-system get networkpolicy bgpcomm-webhook \
  -o jsonpath='{.spec.ingress[0].from[*].ipBlock.cidr}') == "198.51.100.7/32 198.51.100.8/32" ]] ||
  fail "the installed NetworkPolicy does not admit exactly the looked-up addresses"
"$HELM" get manifest bgpcomm -n metallb-system >"$work/manifest.yaml"
k get -f "$work/manifest.yaml" -o name >"$work/objects" || fail "objects of the release missing"
log "helm install created $(wc -l <"$work/objects") objects: $(sort "$work/objects" | tr '\n' ' ')"
for crd in communities bgpadvertisements ipaddresspools bgppeers bfdprofiles; do
  k get crd "$crd.metallb.io" >/dev/null || fail "CRD $crd.metallb.io not installed"
done
grep -q 'dry-run=server' "$work/install.out" || fail "NOTES.txt lacks the dry-run check"

# --- the webhook with the chart's ServiceAccount and --cert-mode=self --------------
token=$(k -n metallb-system create token bgpcomm-webhook --duration=1h)
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
cat >"$work/webhook.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$server", certificate-authority: "$work/cp/pki/ca.crt"}}]
users: [{name: u, user: {token: "$token"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: metallb-system}}]
current-context: c
KC
# The webhook chooses its ports (0) and logs them; the HTTPS port it chose first is kept,
# since the registration names it.
port=0
start_webhook() {  # start_webhook EXTRA_FLAGS...
  local offset
  offset=$(log_offset "$work/webhook.log")
  "$bin_dir/bgpcomm-webhook" --kubeconfig "$work/webhook.kubeconfig" --namespace metallb-system \
    --bind-address 127.0.0.1 --port "$port" --metrics-bind-address 0 \
    --health-probe-bind-address 127.0.0.1:0 --cert-mode=self \
    --cert-namespace metallb-system --cert-dir "$work/certs" --cert-ip-address 127.0.0.1 \
    "$@" >>"$work/webhook.log" 2>&1 &
  webhook_pid=$!
  health=$(port_from_log "$work/webhook.log" "$offset" "event=listening endpoint=health") ||
    fail "webhook did not start"
  retry 60 curl -sf "http://127.0.0.1:$health/readyz" -o /dev/null || fail "webhook not ready"
  port=$(port_from_log "$work/webhook.log" "$offset" "event=serving") || fail "webhook does not serve"
}
stop_webhook() { kill "$webhook_pid"; wait "$webhook_pid" 2>/dev/null || true; webhook_pid=; }
secret_field() {
  k -n metallb-system get secret bgpcomm-webhook-cert -o "jsonpath={.data.${1//./\\.}}" | base64 -d
}
check_injected() {  # every webhook of both configurations carries the Secret's ca.crt
  local want kind
  want=$(k -n metallb-system get secret bgpcomm-webhook-cert -o 'jsonpath={.data.ca\.crt}')
  for kind in validatingwebhookconfiguration mutatingwebhookconfiguration; do
    for got in $(k get "$kind" bgpcomm-webhook -o jsonpath='{.webhooks[*].clientConfig.caBundle}'); do
      [[ $got == "$want" ]] || return 1
    done
  done
}

start_webhook
secret_field ca.crt >"$work/ca.crt"; secret_field tls.crt >"$work/tls.crt"
openssl verify -CAfile "$work/ca.crt" "$work/tls.crt" >&2 || fail "tls.crt does not verify against ca.crt"
retry 15 check_injected || fail "caBundle not injected"
k get validatingwebhookconfiguration bgpcomm-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}' |
  base64 -d >"$work/bundle.crt"
openssl verify -CAfile "$work/bundle.crt" "$work/tls.crt" >&2 || fail "served cert does not verify against caBundle"
openssl x509 -in "$work/tls.crt" -noout -ext subjectAltName | grep -q 'DNS:bgpcomm-webhook.metallb-system.svc' ||
  fail "certificate does not name the Service"
log "Secret created, CA injected into both webhook configurations, openssl verify OK"

# The apiserver cannot reach a Service without kube-proxy: point each webhook at the
# local process by URL instead (the path and the injected caBundle stay).
for kind in validatingwebhookconfiguration mutatingwebhookconfiguration; do
  n=$(k get "$kind" bgpcomm-webhook -o jsonpath='{.webhooks[*].name}' | wc -w)
  ops=""
  for ((i = 0; i < n; i++)); do
    p=$(k get "$kind" bgpcomm-webhook -o "jsonpath={.webhooks[$i].clientConfig.service.path}")
    ops+="{\"op\":\"remove\",\"path\":\"/webhooks/$i/clientConfig/service\"},"
    ops+="{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/url\",\"value\":\"https://127.0.0.1:$port$p\"},"
  done
  k patch "$kind" bgpcomm-webhook --type=json -p "[${ops%,}]" >/dev/null
done
bad_community() {
  k apply --dry-run=server -f - 2>&1 <<'YAML'
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: install-check, namespace: metallb-system}
spec:
  communities:
    - {name: bad-value, value: "64512:70000"}
YAML
}
denied() {
  local out; out=$(bad_community) && return 1
  grep -q 'denied the request' <<<"$out" && grep -q 'second field 70000 exceeds 65535' <<<"$out"
}
retry 20 denied || fail "bad Community not denied: $(bad_community)"
log "admission enforced: $(bad_community | head -c 200)"

# --- the image, run the way the chart's Deployment runs it (BGPCOMM_IMAGE) -----------
# No kubelet here, so the container gets what one would give it: the Deployment's
# command, args, env and securityContext (pod_to_docker.py), a tmpfs for its emptyDir,
# and the ServiceAccount token, CA and namespace at the in-cluster path, with
# KUBERNETES_SERVICE_HOST/PORT pointing at this control plane (host network). It must
# take the in-cluster configuration, adopt the Secret created above, pass its probes,
# serve admission, refuse writes to its root filesystem and drain on SIGTERM.
if [[ -n ${BGPCOMM_IMAGE:-} ]]; then
  docker=${DOCKER:-docker}
  "$docker" image inspect "$BGPCOMM_IMAGE" >/dev/null || fail "image $BGPCOMM_IMAGE not found"
  stop_webhook
  adopted=$(secret_field tls.crt)
  sa=$work/serviceaccount
  mkdir -p "$sa"
  printf %s "$token" >"$sa/token"
  cp "$work/cp/pki/ca.crt" "$sa/ca.crt"
  printf %s metallb-system >"$sa/namespace"
  chmod 755 "$sa"; chmod 644 "$sa"/*
  mapfile -t pod < <(python3 "$here/pod_to_docker.py" "$work/manifest.yaml" bgpcomm-webhook webhook) ||
    fail "cannot translate the chart's Deployment"
  run=()
  for a in "${pod[@]}"; do
    case $a in
      IMAGE) run+=("$BGPCOMM_IMAGE") ;;
      --port=*) run+=("--port=$port") ;;  # host network: the registered port, not the chart's
      --metrics-bind-address=*) run+=("--metrics-bind-address=0") ;;
      --health-probe-bind-address=*) run+=("--health-probe-bind-address=127.0.0.1:0") ;;
      *) run+=("$a") ;;
    esac
  done
  # The apiserver calls this webhook by URL at 127.0.0.1 (see above), so add that SAN.
  container=$("$docker" run -d --network host \
    -e KUBERNETES_SERVICE_HOST=127.0.0.1 -e "KUBERNETES_SERVICE_PORT=$CP_API_PORT" \
    -v "$sa:/var/run/secrets/kubernetes.io/serviceaccount:ro" \
    "${run[@]}" --cert-ip-address=127.0.0.1) || fail "docker run $BGPCOMM_IMAGE"
  log "image $BGPCOMM_IMAGE running as $("$docker" inspect -f '{{.Config.User}}' "$container"): ${pod[*]}"
  container_health() {  # the health port the container chose, from its log
    "$docker" logs "$container" >"$work/container.log" 2>&1
    port_from_log "$work/container.log" 0 "event=listening endpoint=health" 0 2>/dev/null
  }
  retry 60 container_health >/dev/null || fail "container did not start"
  health=$(container_health)
  retry 60 curl -sf "http://127.0.0.1:$health/readyz" -o /dev/null ||
    { "$docker" logs "$container" >&2 2>&1 | tail -30; fail "container not ready"; }
  curl -sf "http://127.0.0.1:$health/healthz" -o /dev/null || fail "container /healthz"
  [[ $("$docker" exec "$container" id -u) != 0 ]] || fail "container runs as root"
  "$docker" exec "$container" sh -c 'echo x >/probe' 2>/dev/null && fail "root filesystem is writable"
  [[ $(secret_field tls.crt) == "$adopted" ]] || fail "the container replaced the Secret instead of adopting it"
  served=$(openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
  [[ $served == $(printf '%s\n' "$adopted" | openssl x509 -noout -fingerprint -sha256) ]] ||
    fail "the container serves another certificate than the Secret's"
  retry 20 denied || fail "bad Community not denied through the container: $(bad_community)"
  "$docker" stop -t 20 "$container" >/dev/null
  code=$("$docker" inspect -f '{{.State.ExitCode}}' "$container")
  "$docker" logs "$container" >>"$work/webhook.log" 2>&1 || true
  "$docker" rm "$container" >/dev/null
  container=
  [[ $code == 0 ]] || fail "container exited $code on SIGTERM"
  log "image: in-cluster config, Secret adopted, probes, admission, read-only root, non-root, clean SIGTERM"
  start_webhook
fi

# --- rotation with a short validity --------------------------------------------------
stop_webhook
k -n metallb-system delete secret bgpcomm-webhook-cert >/dev/null
start_webhook --cert-validity=40s --cert-rotate-before=30s --cert-check-interval=2s \
  --cert-rollover-delay=10s
first=$(secret_field tls.crt)
rotated=0
for _ in $(seq 1 40); do
  if [[ $(secret_field tls.crt) != "$first" ]]; then rotated=1; break; fi
  sleep 1
done
(( rotated )) || fail "certificate not rotated"
cas=$(secret_field ca.crt | grep -c 'BEGIN CERTIFICATE')
log "rotated; ca.crt holds $cas CAs"
(( cas == 2 )) || fail "previous CA not kept during rotation ($cas)"
retry 15 check_injected || fail "rotated caBundle not injected"
retry 10 denied || fail "admission broken after rotation: $(bad_community)"
log "admission works after rotation"
stop_webhook

# --- helm upgrade keeps the Secret and the injected caBundle -------------------------
# Back from URLs to the chart's Service references, as in a real cluster.
for kind in validatingwebhookconfiguration mutatingwebhookconfiguration; do
  n=$(k get "$kind" bgpcomm-webhook -o jsonpath='{.webhooks[*].name}' | wc -w)
  ops=""
  for ((i = 0; i < n; i++)); do
    u=$(k get "$kind" bgpcomm-webhook -o "jsonpath={.webhooks[$i].clientConfig.url}")
    ops+="{\"op\":\"remove\",\"path\":\"/webhooks/$i/clientConfig/url\"},"
    ops+="{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/service\",\"value\":"
    ops+="{\"name\":\"bgpcomm-webhook\",\"namespace\":\"metallb-system\",\"port\":443,\"path\":\"/${u#https://*/}\"}},"
  done
  k patch "$kind" bgpcomm-webhook --type=json -p "[${ops%,}]" >/dev/null
done
before=$(secret_field tls.crt)
"$HELM" upgrade bgpcomm "$chart" --namespace metallb-system --set webhook.logLevel=debug >/dev/null ||
  fail "helm upgrade"
[[ $(secret_field tls.crt) == "$before" ]] || fail "helm upgrade changed the Secret"
check_injected || fail "helm upgrade dropped the caBundle"
log "helm upgrade kept the Secret and the caBundle"

# --- helm uninstall removes what the chart made ---------------------------------------
"$HELM" uninstall bgpcomm --namespace metallb-system >/dev/null || fail "helm uninstall"
left=$(k get -f "$work/manifest.yaml" -o name --ignore-not-found 2>/dev/null || true)
[[ -z $left ]] || fail "left after uninstall: $left"
log "helm uninstall removed every object of the release, the webhook's Secret and Lease included (the CRDs stay)"
log "PASS install"
