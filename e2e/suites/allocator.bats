#!/usr/bin/env bats
# The allocator (the webhook leader's --allocate-addresses, on by default): LoadBalancer
# Services get their addresses from the IPAddressPools as MetalLB's controller gives them,
# written to status.loadBalancer.ingress by bgpcomm, never by the test. Every rule is
# driven through kubectl: pools in the metallb namespace, Services in a fresh namespace
# per test. Each test owns its pools (distinct names and ranges of 198.51.100.0/24), and
# its Services name their pool unless the test is about choosing one, in which case the
# test first removes every other pool.

load helpers

setup_file() {
  require_cluster
  clean_ns "$NS"
}

teardown_file() {
  # Nothing deletes namespaces here: remove the Services, so that none of them takes an
  # address from a later suite's pools.
  local ns
  if [[ -f $BATS_FILE_TMPDIR/namespaces ]]; then
    while read -r ns; do
      k delete services --all -n "$ns" --wait=false >/dev/null 2>&1 || true
    done <"$BATS_FILE_TMPDIR/namespaces"
  fi
  clean_ns "$NS"
}

# A fresh namespace for a test's Services (remembered for teardown_file).
test_ns() {
  local ns; ns=$(fresh_ns)
  echo "$ns" >>"$BATS_FILE_TMPDIR/namespaces"
  echo "$ns"
}

# pool NAME YAML_SPEC_LINES: applies IPAddressPool NAME with the spec given as YAML lines
# (indented by two spaces).
pool() {
  local name=$1; shift
  k apply -f - >/dev/null <<YAML
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: $name, namespace: $NS}
spec:
$(printf '  %s\n' "$@")
YAML
}

# svc NS NAME [KEY=VALUE annotation]... [-- SPEC_LINE...]: a LoadBalancer Service with
# port 80/TCP (SPEC_LINEs, YAML at spec level, replace nothing: they are appended).
svc() {
  local ns=$1 name=$2 annotations="" spec=() kv; shift 2
  while (($#)); do
    if [[ $1 == -- ]]; then shift; spec=("$@"); break; fi
    kv=$1; shift
    annotations+="    ${kv%%=*}: \"${kv#*=}\""$'\n'
  done
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $name
  namespace: $ns
  annotations:
${annotations:-    bgpcomm-e2e/none: ""}
spec:
  type: LoadBalancer
  selector: {app: $name}
  ports: [{name: http, port: 80, protocol: TCP}]
$(printf '  %s\n' "${spec[@]}")
YAML
}

# The addresses in a Service's status, comma separated.
addr() {
  k get service "$2" -n "$1" -o jsonpath='{range .status.loadBalancer.ingress[*]}{.ip}{","}{end}' |
    sed 's/,$//'
}
# wait_addr NS NAME WANT: the status holds exactly WANT ("" : no address) within 30 s.
addr_is() { [[ $(addr "$1" "$2") == "$3" ]]; }
wait_addr() {
  eventually_ms 30000 addr_is "$1" "$2" "$3" ||
    fail "$1/$2: want address '$3', status holds '$(addr "$1" "$2")'; events: $(events_of "$1" "$2")"
}
# The messages of the Events of REASON about Service NS/NAME.
event_msg() {
  k get events -n "$1" --field-selector "involvedObject.name=$2,reason=$3" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
}
events_of() {
  k get events -n "$1" --field-selector "involvedObject.name=$2" \
    -o jsonpath='{range .items[*]}{.reason}: {.message}{"; "}{end}'
}
# wait_event NS NAME REASON TEXT...: an Event of REASON whose message holds every TEXT.
has_event() {
  local msg t
  msg=$(event_msg "$1" "$2" "$3")
  for t in "${@:4}"; do [[ $msg == *"$t"* ]] || return 1; done
  [[ -n $msg ]]
}
wait_event() {
  eventually_ms 30000 has_event "$@" ||
    fail "$1/$2: no $3 Event with '${*:4}'; events: $(events_of "$1" "$2")"
}
pool_status() {
  k get ipaddresspool "$1" -n "$NS" \
    -o jsonpath='{.status.assignedIPv4}/{.status.availableIPv4}/{.status.assignedIPv6}/{.status.availableIPv6}'
}
# Removes every pool but those named.
only_pools() {
  local p keep
  for p in $(k get ipaddresspools -n "$NS" -o name | cut -d/ -f2); do
    keep=0
    for k_ in "$@"; do [[ $p == "$k_" ]] && keep=1; done
    ((keep)) || k delete ipaddresspool "$p" -n "$NS" >/dev/null
  done
}

@test "a LoadBalancer Service gets the lowest free address; IPAllocated; pool status counts" {
  local ns; ns=$(test_ns)
  pool alloc-basic 'addresses: [198.51.100.16/30]'
  svc "$ns" one metallb.io/address-pool=alloc-basic
  wait_addr "$ns" one 198.51.100.16
  svc "$ns" two metallb.io/address-pool=alloc-basic
  wait_addr "$ns" two 198.51.100.17
  wait_event "$ns" one IPAllocated 198.51.100.16
  # kubectl shows it as the EXTERNAL-IP.
  run k get service one -n "$ns" --no-headers
  assert_output --regexp '^one +LoadBalancer +[0-9.]+ +198\.51\.100\.16 +80:'
  eventually_ms 30000 eval '[[ $(pool_status alloc-basic) == 2/2/0/0 ]]' ||
    fail "pool status: $(pool_status alloc-basic)"
}

@test "metallb.io/loadBalancerIPs, its metallb.universe.tf spelling and spec.loadBalancerIP ask for an address" {
  local ns; ns=$(test_ns)
  pool alloc-ask 'addresses: [198.51.100.20/30]'
  svc "$ns" new metallb.io/loadBalancerIPs=198.51.100.22
  svc "$ns" legacy metallb.universe.tf/loadBalancerIPs=198.51.100.21
  svc "$ns" field -- 'loadBalancerIP: 198.51.100.23'
  wait_addr "$ns" new 198.51.100.22
  wait_addr "$ns" legacy 198.51.100.21
  wait_addr "$ns" field 198.51.100.23
}

@test "metallb.io/address-pool chooses the pool; an unknown pool is AllocationFailed naming it" {
  local ns; ns=$(test_ns)
  pool alloc-pool-a 'addresses: [198.51.100.24/31]'
  pool alloc-pool-b 'addresses: [198.51.100.26/31]'
  svc "$ns" in-b metallb.io/address-pool=alloc-pool-b
  svc "$ns" legacy-b metallb.universe.tf/address-pool=alloc-pool-b
  wait_addr "$ns" in-b 198.51.100.26
  wait_addr "$ns" legacy-b 198.51.100.27
  svc "$ns" nowhere metallb.io/address-pool=alloc-no-such-pool
  wait_event "$ns" nowhere AllocationFailed UnknownPool alloc-no-such-pool
  run addr "$ns" nowhere
  assert_output ""
}

@test "a requested address in use or outside every pool is AllocationFailed with the reason" {
  local ns; ns=$(test_ns)
  pool alloc-clash 'addresses: [198.51.100.28/30]'
  svc "$ns" holder metallb.io/loadBalancerIPs=198.51.100.29
  wait_addr "$ns" holder 198.51.100.29
  svc "$ns" taker metallb.io/loadBalancerIPs=198.51.100.29
  wait_event "$ns" taker AllocationFailed AddressInUse 198.51.100.29
  svc "$ns" outside metallb.io/loadBalancerIPs=198.51.100.250
  wait_event "$ns" outside AllocationFailed OutsidePools 198.51.100.250
  run addr "$ns" taker
  assert_output ""
  run addr "$ns" holder
  assert_output 198.51.100.29
}

@test "allow-shared-ip: same key and distinct ports share; overlapping ports are refused" {
  local ns; ns=$(test_ns)
  pool alloc-share 'addresses: [198.51.100.32/30]'
  svc "$ns" dns-tcp metallb.io/address-pool=alloc-share metallb.io/allow-shared-ip=dns
  wait_addr "$ns" dns-tcp 198.51.100.32
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: dns-udp
  namespace: $ns
  annotations: {metallb.io/address-pool: alloc-share, metallb.io/allow-shared-ip: dns,
                metallb.io/loadBalancerIPs: 198.51.100.32}
spec:
  type: LoadBalancer
  ports: [{name: dns, port: 53, protocol: UDP}]
YAML
  wait_addr "$ns" dns-udp 198.51.100.32
  # Same key, same port 80/TCP as dns-tcp: refused.
  svc "$ns" dns-clash metallb.io/allow-shared-ip=dns metallb.io/loadBalancerIPs=198.51.100.32
  wait_event "$ns" dns-clash AllocationFailed 198.51.100.32
  run addr "$ns" dns-clash
  assert_output ""
  # The legacy spelling of the key shares too.
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: dns-legacy
  namespace: $ns
  annotations: {metallb.universe.tf/allow-shared-ip: dns, metallb.io/loadBalancerIPs: 198.51.100.32}
spec:
  type: LoadBalancer
  ports: [{name: dot, port: 853, protocol: TCP}]
YAML
  wait_addr "$ns" dns-legacy 198.51.100.32
}

@test "a malformed annotation is a Warning Event naming it and its value; nothing else is disturbed" {
  local ns; ns=$(test_ns)
  pool alloc-bad 'addresses: [198.51.100.36/30]'
  svc "$ns" good metallb.io/address-pool=alloc-bad
  wait_addr "$ns" good 198.51.100.36
  svc "$ns" bad metallb.io/loadBalancerIPs=not-an-ip
  wait_event "$ns" bad AllocationFailed metallb.io/loadBalancerIPs not-an-ip
  run k get events -n "$ns" --field-selector involvedObject.name=bad,reason=AllocationFailed \
    -o jsonpath='{.items[0].type}'
  assert_output Warning
  run addr "$ns" bad
  assert_output ""
  # The webhook still serves, the good Service keeps its address, a new one gets the next.
  svc "$ns" after metallb.io/address-pool=alloc-bad
  wait_addr "$ns" after 198.51.100.37
  run addr "$ns" good
  assert_output 198.51.100.36
}

@test "a Service that stops being a LoadBalancer loses its address, which goes to the next one" {
  local ns; ns=$(test_ns)
  pool alloc-type 'addresses: [198.51.100.40/32]'
  svc "$ns" first metallb.io/address-pool=alloc-type
  wait_addr "$ns" first 198.51.100.40
  svc "$ns" second metallb.io/address-pool=alloc-type
  wait_event "$ns" second AllocationFailed PoolExhausted
  k patch service first -n "$ns" --type=merge -p '{"spec":{"type":"ClusterIP"}}' >/dev/null
  wait_addr "$ns" first ""
  wait_addr "$ns" second 198.51.100.40
}

@test "a Service of another loadBalancerClass is left alone" {
  local ns; ns=$(test_ns)
  pool alloc-class 'addresses: [198.51.100.44/30]'
  svc "$ns" theirs metallb.io/address-pool=alloc-class -- 'loadBalancerClass: example.com/other'
  svc "$ns" ours metallb.io/address-pool=alloc-class
  wait_addr "$ns" ours 198.51.100.44
  run addr "$ns" theirs
  assert_output ""
  run event_msg "$ns" theirs AllocationFailed
  assert_output ""
}

@test "exhaustion, and recovery when the pool grows" {
  local ns i; ns=$(test_ns)
  pool alloc-grow 'addresses: [198.51.100.48/31]'
  for i in 1 2 3; do svc "$ns" s$i metallb.io/address-pool=alloc-grow; done
  wait_addr "$ns" s1 198.51.100.48
  wait_addr "$ns" s2 198.51.100.49
  wait_event "$ns" s3 AllocationFailed PoolExhausted alloc-grow
  run addr "$ns" s3
  assert_output ""
  pool alloc-grow 'addresses: [198.51.100.48/31, 198.51.100.50/32]'
  wait_addr "$ns" s3 198.51.100.50
  run addr "$ns" s1
  assert_output 198.51.100.48
  eventually_ms 30000 eval '[[ $(pool_status alloc-grow) == 3/0/0/0 ]]' ||
    fail "pool status: $(pool_status alloc-grow)"
}

@test "a pool edit that removes a held address moves only that Service" {
  local ns; ns=$(test_ns)
  pool alloc-shrink 'addresses: [198.51.100.52/30]'
  svc "$ns" a metallb.io/address-pool=alloc-shrink
  wait_addr "$ns" a 198.51.100.52
  svc "$ns" b metallb.io/address-pool=alloc-shrink
  wait_addr "$ns" b 198.51.100.53
  # .52 leaves the pool: a moves to the lowest free address left, b keeps .53.
  pool alloc-shrink 'addresses: [198.51.100.53-198.51.100.55]'
  wait_addr "$ns" a 198.51.100.54
  run addr "$ns" b
  assert_output 198.51.100.53
}

@test "autoAssign false and avoidBuggyIPs" {
  local ns; ns=$(test_ns)
  only_pools
  pool alloc-manual 'addresses: [198.51.100.56/30]' 'autoAssign: false'
  pool alloc-avoid 'addresses: [198.51.100.0/31]' 'avoidBuggyIPs: true'
  # Without a pool named, alloc-manual is never used; alloc-avoid skips .0.
  svc "$ns" auto1 metallb.io/loadBalancerIPs=198.51.100.1
  wait_addr "$ns" auto1 198.51.100.1
  svc "$ns" named metallb.io/address-pool=alloc-manual
  wait_addr "$ns" named 198.51.100.56
  svc "$ns" auto2 metallb.io/address-pool=alloc-avoid
  wait_event "$ns" auto2 AllocationFailed PoolExhausted
  run addr "$ns" auto2
  assert_output ""
  # alloc-avoid is full and alloc-manual gives nothing unasked.
  svc "$ns" auto3
  wait_event "$ns" auto3 AllocationFailed
  run addr "$ns" auto3
  assert_output ""
  # Gone, so that it takes nothing from the next test's pools.
  k delete service auto3 -n "$ns" >/dev/null
}

@test "serviceAllocation: namespaces, namespaceSelectors, serviceSelectors and priority" {
  local ns other; ns=$(test_ns); other=$(test_ns)
  only_pools
  k label namespace "$other" bgpcomm-e2e/tier=gold >/dev/null
  pool alloc-for-ns 'addresses: [198.51.100.72/32]' \
    "serviceAllocation: {priority: 10, namespaces: [$ns]}"
  pool alloc-for-gold 'addresses: [198.51.100.76/32]' \
    'serviceAllocation: {priority: 20, namespaceSelectors: [{matchLabels: {bgpcomm-e2e/tier: gold}}]}'
  pool alloc-for-label 'addresses: [198.51.100.80/32]' \
    'serviceAllocation: {priority: 5, serviceSelectors: [{matchLabels: {bgpcomm-e2e/app: special}}]}'
  pool alloc-any 'addresses: [198.51.100.84/30]'
  svc "$ns" in-ns
  wait_addr "$ns" in-ns 198.51.100.72
  svc "$other" in-gold
  wait_addr "$other" in-gold 198.51.100.76
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: special, namespace: $other, labels: {bgpcomm-e2e/app: special}}
spec:
  type: LoadBalancer
  ports: [{name: http, port: 80, protocol: TCP}]
YAML
  # Priority 5 beats 20: the Service selector's pool wins.
  wait_addr "$other" special 198.51.100.80
  # The namespace's pool is full now: the next Service of $ns falls to the pool for all.
  svc "$ns" spill
  wait_addr "$ns" spill 198.51.100.84
  # A namespace pool refuses Services of other namespaces.
  svc "$other" asks metallb.io/address-pool=alloc-for-ns
  wait_event "$other" asks AllocationFailed alloc-for-ns
}

# The local control plane serves both families (e2e/cluster/up.sh); the kind cluster is
# single-stack, and e2e/kind/run.sh leaves this tag out.
# bats test_tags=dual-stack
@test "families: ipFamilies and ipFamilyPolicy give one address per family" {
  local ns; ns=$(test_ns)
  pool alloc-fam 'addresses: [198.51.100.96/31, "2001:db8:5::/127"]'
  pool alloc-fam4 'addresses: [198.51.100.98/31]'
  svc "$ns" v6 metallb.io/address-pool=alloc-fam -- 'ipFamilyPolicy: SingleStack' 'ipFamilies: [IPv6]'
  wait_addr "$ns" v6 2001:db8:5::
  svc "$ns" dual metallb.io/address-pool=alloc-fam -- 'ipFamilyPolicy: RequireDualStack' \
    'ipFamilies: [IPv4, IPv6]'
  wait_addr "$ns" dual 198.51.100.96,2001:db8:5::1
  # PreferDualStack from a pool of one family: the primary family alone.
  svc "$ns" prefer metallb.io/address-pool=alloc-fam4 -- 'ipFamilyPolicy: PreferDualStack' \
    'ipFamilies: [IPv4, IPv6]'
  wait_addr "$ns" prefer 198.51.100.98
  # RequireDualStack from it: refused, naming the pool and the missing family.
  svc "$ns" require metallb.io/address-pool=alloc-fam4 -- 'ipFamilyPolicy: RequireDualStack' \
    'ipFamilies: [IPv4, IPv6]'
  wait_event "$ns" require AllocationFailed NoEligiblePool alloc-fam4 IPv6
  run addr "$ns" require
  assert_output ""
}

@test "the allocator's metrics count each pool's addresses" {
  local ns; ns=$(test_ns)
  pool alloc-metrics 'addresses: [198.51.100.88/30]'
  svc "$ns" m1 metallb.io/address-pool=alloc-metrics
  wait_addr "$ns" m1 198.51.100.88
  eventually_ms 15000 eval 'provider_webhook_metrics | grep -qx "bgpcomm_allocator_addresses_in_use{pool=\"alloc-metrics\"} 1"' ||
    fail "$(provider_webhook_metrics | grep bgpcomm_allocator)"
  local metrics; metrics=$(provider_webhook_metrics)
  grep -qx 'bgpcomm_allocator_addresses_total{pool="alloc-metrics"} 4' <<<"$metrics" ||
    fail "$(grep bgpcomm_allocator <<<"$metrics")"
}
