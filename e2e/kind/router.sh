#!/usr/bin/env bash
# The BGP router of the kind cluster: a BIRD 2 container on the cluster's docker network,
# with no default route (it reaches the nodes on the bridge and the LoadBalancer
# addresses through the routes BGP gives it, nothing else).
#
#   router.sh start          run the container (idempotent) and peer as router "a"
#                            (198.18.100.200, AS 64513) with the speaker of every node
#   router.sh stop           remove the container
#   router.sh routes         `birdc show route all` (router a's table)
#   router.sh exec CMD...    run CMD inside the router container
#   router.sh birdc ARGS...  birdc inside the router container
#   router.sh peer NAME ADDRESS AS [PASSWORD]
#                            one more router in the same BIRD: ADDRESS (added to the
#                            container's interface, IPv4 or IPv6) with passive sessions
#                            of AS to every node, TCP MD5 with PASSWORD; its routes in
#                            tables NAME4/NAME6, its protocols NAME_<node>
#   router.sh unpeer NAME    remove it again
#   router.sh protocol NAME NODE   the BIRD protocol of router NAME for node NODE
#
# Router a's protocols are a_<node> (node names with the cluster prefix dropped and - as
# _), its routes in master4/master6, which BIRD installs into the container's kernel table
# (ECMP over the nodes) so that `router.sh exec curl ADDRESS` reaches a Service. Each
# protocol binds its own address (strict bind), so that one router's TCP MD5 key does not
# apply to another's sessions.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
ROUTER_IMAGE=bgpcomm-e2e/router:1
conf_dir=$KIND_STATE/router

running() { [[ $(docker inspect -f '{{.State.Running}}' "$ROUTER_NAME" 2>/dev/null) == true ]]; }
in_router() { docker exec "$ROUTER_NAME" "$@"; }
birdc_() { in_router birdc -s /run/bird.ctl "$@"; }

protocol_of() {  # ROUTER NODE -> a_control_plane, a_worker, ...
  local node=${2#"$KIND_CLUSTER"-}
  echo "${1}_${node//-/_}"
}

# Writes bird.conf from the peers recorded in peers/ (one file per router: ADDRESS AS
# [PASSWORD]) and the nodes' addresses.
write_config() {
  local nodes name address as password v4 v6 node ip ip6
  nodes=$(node_addresses6)
  [[ -n $nodes ]] || kdie "no nodes of cluster $KIND_CLUSTER"
  {
    echo "router id $ROUTER_IP;"
    echo "log stderr all;"
    echo "protocol device {}"
    echo "protocol kernel kernel4 { ipv4 { table master4; export all; }; merge paths on; }"
    echo "protocol kernel kernel6 { ipv6 { table master6; export all; }; merge paths on; }"
    for f in "$conf_dir"/peers/*; do
      [[ -f $f ]] || continue
      name=$(basename "$f")
      read -r address as password <"$f"
      v4=master4 v6=master6
      if [[ $name != a ]]; then
        v4=${name}4 v6=${name}6
        echo "ipv4 table $v4;"
        echo "ipv6 table $v6;"
      fi
      while read -r node ip ip6; do
        local neighbor=$ip
        [[ $address == *:* ]] && neighbor=$ip6
        [[ -n $neighbor ]] || continue
        echo "protocol bgp $(protocol_of "$name" "$node") {"
        echo "  local $address as $as;"
        echo "  neighbor $neighbor as $SPEAKER_AS;"
        echo "  passive on; direct; strict bind on;"
        [[ -z ${password:-} ]] || echo "  password \"$password\";"
        echo "  ipv4 { table $v4; import all; export none; };"
        echo "  ipv6 { table $v6; import all; export none; };"
        echo "}"
      done <<<"$nodes"
    done
  } >"$conf_dir/bird.conf.new"
  mv -f "$conf_dir/bird.conf.new" "$conf_dir/bird.conf"
}

# NAME IPv4 IPv6 per node.
node_addresses6() {
  local n
  for n in $(kind_ get nodes --name "$KIND_CLUSTER" 2>/dev/null | sort); do
    docker inspect -f "$n {{with index .NetworkSettings.Networks \"$KIND_NETWORK\"}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}" "$n"
  done
}

reconfigure() {
  write_config
  birdc_ configure | grep -q 'Reconfigured\|Reconfiguration in progress' ||
    kdie "birdc configure failed: $(birdc_ configure 2>&1)"
}

start() {
  mkdir -p "$conf_dir/peers"
  [[ -f $conf_dir/peers/a ]] || echo "$ROUTER_IP $ROUTER_AS" >"$conf_dir/peers/a"
  write_config
  if ! running; then
    docker rm -f "$ROUTER_NAME" >/dev/null 2>&1 || true
    # No default route: nothing the router sends can leave through the host.
    docker run -d --name "$ROUTER_NAME" --hostname router --network "$KIND_NETWORK" \
      --ip "$ROUTER_IP" --ip6 "$ROUTER_IP6" --cap-add NET_ADMIN \
      -v "$conf_dir:/etc/bird-e2e:ro" --entrypoint sh "$ROUTER_IMAGE" -c \
      'ip -4 route del default && ip -6 route del default 2>/dev/null; exec bird -f -c /etc/bird-e2e/bird.conf -s /run/bird.ctl' \
      >/dev/null
  fi
  local i
  for i in $(seq 1 50); do birdc_ show status >/dev/null 2>&1 && break; sleep 0.2; done
  birdc_ show status >/dev/null || { docker logs "$ROUTER_NAME" 2>&1 | tail -20 >&2; kdie "BIRD did not start"; }
  if in_router ip -4 route show default | grep -q . || in_router ip -6 route show default | grep -q .; then
    kdie "the router has a default route"
  fi
  reconfigure
  klog "router $ROUTER_NAME: BIRD at $ROUTER_IP (AS $ROUTER_AS), protocols $(birdc_ show protocols | awk '/^a_/ { printf "%s ", $1 }')"
}

peer() {
  [[ $# -ge 3 ]] || kdie "usage: router.sh peer NAME ADDRESS AS [PASSWORD]"
  local name=$1 address=$2 as=$3 password=${4:-}
  [[ $name =~ ^[b-z][a-z0-9]{0,4}$ ]] || kdie "router name must be 1-5 of [a-z0-9], not a"
  if [[ $address == *:* ]]; then
    in_router ip -6 addr show dev eth0 | grep -qw "$address" ||
      in_router ip -6 addr add "$address/64" dev eth0 nodad
  else
    in_router ip -4 addr show dev eth0 | grep -qw "$address" ||
      in_router ip -4 addr add "$address/24" dev eth0
  fi
  echo "$address $as $password" >"$conf_dir/peers/$name"
  reconfigure
}

unpeer() {
  local name=${1:?usage: router.sh unpeer NAME} address family=-4 plen=24
  [[ $name != a && -f $conf_dir/peers/$name ]] || return 0
  read -r address _ <"$conf_dir/peers/$name"
  [[ $address == *:* ]] && { family=-6; plen=64; }
  rm -f "$conf_dir/peers/$name"
  reconfigure
  in_router ip "$family" addr del "$address/$plen" dev eth0 2>/dev/null || true
}

cmd=${1:-}; shift || true
case $cmd in
  start) start ;;
  stop) docker rm -f "$ROUTER_NAME" >/dev/null 2>&1 || true; rm -rf "$conf_dir" ;;
  routes) birdc_ show route all "$@" ;;
  exec) (( $# )) || kdie "usage: router.sh exec CMD..."; in_router "$@" ;;
  birdc) birdc_ "$@" ;;
  peer) peer "$@" ;;
  unpeer) unpeer "$@" ;;
  protocol) protocol_of "$@" ;;
  *) kdie "usage: router.sh start|stop|routes|exec CMD...|birdc ARGS...|peer NAME ADDRESS AS [PASSWORD]|unpeer NAME|protocol NAME NODE" ;;
esac
