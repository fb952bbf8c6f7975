#!/usr/bin/env bats
# MetalLB 0.16.2's verdicts through `kubectl apply`, one case per category of issue 15:
# pools, advertisements, peers, the namespace rule, BFDProfiles and communities that
# cannot fit in one UPDATE. community/README.md lists the rules; the unit tests
# (unit/community/metallb_parity_test.cc) hold every case, these prove the webhook
# applies them on a real apiserver.

load helpers

setup_file() {
  require_cluster
  clean_ns "$NS"
}

teardown_file() {
  clean_ns "$NS"
}

# apply_yaml TEXT: kubectl apply of TEXT from standard input.
apply_yaml() { k apply -f - <<<"$1"; }

pool() {  # NAME ADDRESS [NAMESPACE]
  apply_yaml "apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: $1, namespace: ${3:-$NS}}
spec: {addresses: [\"$2\"]}"
}

@test "IPAddressPool: an address of another pool is denied, naming both pools" {
  run pool parity-a 203.0.113.64/28
  assert_success
  run pool parity-b 203.0.113.72-203.0.113.80
  assert_denied
  assert_output --partial 'IPAddressPool "parity-b" is invalid: spec.addresses[0]: "203.0.113.72-203.0.113.80" of IPAddressPool parity-b overlaps "203.0.113.64/28" of IPAddressPool parity-a; an address belongs to one pool'
  run pool parity-b 203.0.113.80/28
  assert_success
}

@test "any kind outside the configured namespace is denied as MetalLB denies it" {
  k create namespace parity-elsewhere --dry-run=client -o yaml | k apply -f - >/dev/null
  run pool parity-c 203.0.113.96/28 parity-elsewhere
  assert_denied
  assert_output --partial 'metadata.namespace: resource must be created in metallb-system namespace, not in parity-elsewhere'
}

@test "BGPAdvertisement: a different localPref for the same pool, peers and nodes is denied, naming the other" {
  run apply_yaml "apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: parity-pref-100, namespace: $NS}
spec: {ipAddressPools: [parity-a], localPref: 100}"
  assert_success
  run apply_yaml "apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: parity-pref-200, namespace: $NS}
spec: {ipAddressPools: [parity-a], localPref: 200}"
  assert_denied
  assert_output --partial 'spec.localPref: localPref 200 differs from localPref 100 of BGPAdvertisement parity-pref-100'
  run apply_yaml "apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: parity-dup, namespace: $NS}
spec: {ipAddressPools: [parity-a, parity-a], localPref: 100}"
  assert_denied
  assert_output --partial 'spec.ipAddressPools[1]: "parity-a" is already listed at spec.ipAddressPools[0]'
}

@test "BGPAdvertisement: communities that cannot fit in one UPDATE are denied" {
  local communities
  communities=$(seq -s, -f '"large:64512:1:%g"' 0 329)
  run apply_yaml "apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: parity-huge, namespace: $NS}
spec: {ipAddressPools: [parity-b], communities: [$communities]}"
  assert_denied
  assert_output --partial 'spec.communities: 0 standard and 330 large communities take 3964 octets'
}

@test "BGPPeer: the same address on a common node is denied; interface alone is admitted with a warning" {
  run apply_yaml "apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: parity-router, namespace: $NS}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.2}"
  assert_success
  run apply_yaml "apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: parity-router-again, namespace: $NS}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.2}"
  assert_denied
  assert_output --partial 'spec.peerAddress: BGPPeer parity-router selects a node this one selects; both peer with 198.51.100.2'
  run apply_yaml "apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: parity-unnumbered, namespace: $NS}
spec: {myASN: 64512, peerASN: 64513, interface: net0}"
  assert_success
  assert_output --partial "Warning: spec.interface: bgpcomm's speaker cannot peer over an interface"
  k delete bgppeer parity-unnumbered -n "$NS" >/dev/null
}

@test "BFDProfile: ranges, a peer naming a missing profile, deleting a profile in use" {
  run apply_yaml "apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: parity-fast, namespace: $NS}
spec: {receiveInterval: 5}"
  assert_denied
  assert_output --partial 'spec.receiveInterval: receiveInterval 5 is out of range 10..60000 ms'
  run apply_yaml "apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: parity-bfd, namespace: $NS}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.6, bfdProfile: parity-fast}"
  assert_denied
  assert_output --partial 'spec.bfdProfile: BFDProfile "parity-fast" does not exist in namespace metallb-system'
  run apply_yaml "apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: parity-fast, namespace: $NS}
spec: {receiveInterval: 100, transmitInterval: 100}"
  assert_success
  run apply_yaml "apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: parity-bfd, namespace: $NS}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.6, bfdProfile: parity-fast}"
  assert_success
  run k delete bfdprofile parity-fast -n "$NS"
  assert_denied
  assert_output --partial 'BFDProfile parity-fast is used by BGPPeer parity-bfd'
  k delete bgppeer parity-bfd -n "$NS" >/dev/null
  run k delete bfdprofile parity-fast -n "$NS"
  assert_success
}
