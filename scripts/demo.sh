#!/usr/bin/env bash
# `make demo`: a local control plane with bgpcomm-webhook enforcing, the walkthrough
# (examples/walkthrough/01..06) applied in order, the stored resolutions, and one
# rejected apply with its message. Leaves the cluster running; `make down` stops it.
#
# The allocator gives the walkthrough's Service its address (the `kubectl get svc` line
# shows the EXTERNAL-IP). Then bgpcomm-speaker and a BIRD router in a network namespace
# (demo_speaker below), and the router's route for that address with its communities.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
t0=$(date +%s%N)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "Local control plane (etcd + kube-apiserver + bgpcomm-webhook)"
e2e/cluster/up.sh >/dev/null
export KUBECONFIG=$repo/.bgpcomm/kubeconfig
. e2e/tools/paths.sh
kubectl() { "$KUBECTL" "$@"; }

say "The walkthrough, applied in order"
for f in examples/walkthrough/0*.yaml; do
  show kubectl apply -f "$f"
done

say "The allocator gave the Service its address (status written by bgpcomm-webhook's leader)"
deadline=$(( SECONDS + 30 ))
ip=
until [[ -n $ip ]]; do
  ip=$(kubectl get service web -n default -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  if [[ -z $ip ]] && (( SECONDS > deadline )); then
    echo "demo: web has no address after 30 s; webhook log: .bgpcomm/logs/webhook.log" >&2
    exit 1
  fi
  [[ -n $ip ]] || sleep 0.2
done
show kubectl get service web -n default
show kubectl get events -n default --field-selector involvedObject.name=web,reason=IPAllocated \
  -o custom-columns=REASON:.reason,MESSAGE:.message

say "What bgpcomm stored: spec.communities as written, the resolution in an annotation"
show kubectl get bgpadvertisements -n metallb-system -o \
  'custom-columns=NAME:.metadata.name,COMMUNITIES:.spec.communities,RESOLVED:.metadata.annotations.bgpcomm\.io/resolved-communities'

say "A typo is rejected at apply time (primary-rout)"
typo=$(mktemp)
trap 'rm -f "$typo"' EXIT
sed -e 's/name: primary-advert/name: typo-advert/' -e 's/- primary-route/- primary-rout/' \
  examples/walkthrough/03-bgp-advertisement.yaml >"$typo"
printf '$ kubectl apply -f %s   # primary-advert, renamed typo-advert, with primary-rout\n' "$typo"
if kubectl apply -f "$typo"; then
  echo "demo: the typo was accepted; the webhook is not enforcing" >&2
  exit 1
fi

# The speaker in Kubernetes mode (host namespace, its ServiceAccount's token) and a BIRD
# router in a network namespace at 198.51.100.2 (the walkthrough's BGPPeer), joined by a
# veth whose host side is 198.51.100.1; `make down` removes both.
demo_speaker() {
  say "bgpcomm-speaker (node demo-node) and a BIRD router in network namespace $(e2e/cluster/router.sh netns demo)"
  e2e/cluster/router.sh start demo 198.51.100.1/30 198.51.100.2 2001:db8:fd::1/64 2001:db8:fd::2 \
    64513 64512 2>&1 | sed 's/^/  /'
  e2e/cluster/speaker.sh start demo-node 2>&1 | sed 's/^/  /'
  local deadline=$(( SECONDS + 30 ))
  until e2e/cluster/router.sh birdc demo show route for "$ip/32" 2>/dev/null | grep -q "^$ip/32"; do
    if (( SECONDS > deadline )); then
      echo "demo: the router did not receive $ip/32; speaker log: .bgpcomm/logs/speaker.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  say "The router's route for $ip, the EXTERNAL-IP the allocator assigned (BIRD, AS 64513)"
  show e2e/cluster/router.sh birdc demo show route for "$ip/32" all
}
demo_speaker

say "Done in $(( ($(date +%s%N) - t0) / 1000000000 )) s. The cluster keeps running:"
echo "  export KUBECONFIG=$repo/.bgpcomm/kubeconfig"
echo "  kubectl get bgpadvertisements -n metallb-system -o yaml"
echo "  make down      # stops everything and removes .bgpcomm/"
