#!/usr/bin/env bash
# The BGP router of the kind cluster: a container on the cluster's docker network running
# BIRD 2, with no default route (it reaches the nodes on the bridge and the LoadBalancer
# addresses through the routes BGP gives it, nothing else).
#
#   router.sh start          run the container (idempotent): router "a", 198.18.100.200,
#                            AS 64513, a passive session with the speaker of every node
#   router.sh stop           remove the container
#   router.sh routes         `birdc show route all` of router a
#   router.sh exec CMD...    run CMD inside the router container
#   router.sh birdc [--router NAME] ARGS...   birdc of router a (or NAME)
#   router.sh peer NAME ADDRESS AS [PASSWORD]
#                            one more router in the same container: its own BIRD on
#                            ADDRESS (added to the container's interface), passive
#                            sessions of AS with every node, TCP MD5 with PASSWORD
#   router.sh unpeer NAME    stop it and remove its address
#   router.sh protocol NAME NODE   the BIRD protocol of router NAME for node NODE
#
# A router's protocols are NAME_<node> (the node's name without the cluster's prefix, - as
# _), its routes in master4/master6 of its own BIRD. Each router is a BIRD of its own
# because BIRD runs one session per neighbor address and interface; each binds only its
# own address (strict bind), so that one router's TCP MD5 keys (set on its listening
# socket) never apply to another's sessions. Router a installs its routes into the
# container's kernel table (ECMP over the nodes), so `router.sh exec curl ADDRESS` reaches
# a Service through them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
ROUTER_IMAGE=bgpcomm-e2e/router:1
conf_dir=$KIND_STATE/router

running() { [[ $(docker inspect -f '{{.State.Running}}' "$ROUTER_NAME" 2>/dev/null) == true ]]; }
in_router() { docker exec "$ROUTER_NAME" "$@"; }
birdc_of() { local name=$1; shift; in_router birdc -s "/run/bird-$name.ctl" "$@"; }

protocol_of() {  # ROUTER NODE -> a_control_plane, a_worker, ...
  local node=${2#"$KIND_CLUSTER"-}
  echo "${1}_${node//-/_}"
}

# NAME IPv4 IPv6 per node.
node_addresses6() {
  local n
  for n in $(kind_ get nodes --name "$KIND_CLUSTER" 2>/dev/null | sort); do
    docker inspect -f "$n {{with index .NetworkSettings.Networks \"$KIND_NETWORK\"}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}" "$n"
  done
}

# Writes NAME.conf from peers/NAME (ADDRESS AS [PASSWORD]) and the nodes' addresses.
write_config() {
  local name=$1 nodes address as password node ip ip6 neighbor
  nodes=$(node_addresses6)
  [[ -n $nodes ]] || kdie "no nodes of cluster $KIND_CLUSTER"
  read -r address as password <"$conf_dir/peers/$name"
  {
    echo "router id ${address/*:*/$ROUTER_IP};"
    echo "log stderr all;"
    echo "protocol device {}"
    if [[ $name == a ]]; then
      echo "protocol kernel kernel4 { ipv4 { export all; }; merge paths on; }"
      echo "protocol kernel kernel6 { ipv6 { export all; }; merge paths on; }"
    fi
    while read -r node ip ip6; do
      neighbor=$ip
      [[ $address == *:* ]] && neighbor=$ip6
      [[ -n $neighbor ]] || continue
      echo "protocol bgp $(protocol_of "$name" "$node") {"
      echo "  local $address as $as;"
      echo "  neighbor $neighbor as $SPEAKER_AS;"
      # A session a speaker closed (its BGPPeer deleted) may start again within a second,
      # not after BIRD's default of 60 s (a strictly bound protocol does not listen
      # meanwhile).
      echo "  passive on; direct; strict bind on; error wait time 1, 5;"
      [[ -z ${password:-} ]] || echo "  password \"$password\";"
      echo "  ipv4 { import all; export none; };"
      echo "  ipv6 { import all; export none; };"
      echo "}"
    done <<<"$nodes"
  } >"$conf_dir/$name.conf.new"
  mv -f "$conf_dir/$name.conf.new" "$conf_dir/$name.conf"
}

bird_up() { birdc_of "$1" show status >/dev/null 2>&1; }

# Starts BIRD NAME in the container, or makes it read its configuration again.
run_bird() {
  local name=$1 i
  write_config "$name"
  if bird_up "$name"; then
    birdc_of "$name" configure | grep -q 'Reconfigured\|Reconfiguration in progress' ||
      kdie "router $name: birdc configure failed: $(birdc_of "$name" configure 2>&1)"
    return 0
  fi
  docker exec -d "$ROUTER_NAME" sh -c "exec bird -f -c /etc/bird-e2e/$name.conf -s /run/bird-$name.ctl \
    -P /run/bird-$name.pid >>/var/log/bird-$name.log 2>&1"
  for i in $(seq 1 50); do bird_up "$name" && return 0; sleep 0.2; done
  in_router tail -n 20 "/var/log/bird-$name.log" >&2 || true
  kdie "router $name: BIRD did not start"
}

add_address() {
  local address=$1
  if [[ $address == *:* ]]; then
    in_router ip -6 addr show dev eth0 | grep -qw "$address" ||
      in_router ip -6 addr add "$address/64" dev eth0 nodad
  else
    in_router ip -4 addr show dev eth0 | grep -qw "$address" ||
      in_router ip -4 addr add "$address/24" dev eth0
  fi
}

start() {
  mkdir -p "$conf_dir/peers"
  [[ -f $conf_dir/peers/a ]] || echo "$ROUTER_IP $ROUTER_AS" >"$conf_dir/peers/a"
  if ! running; then
    docker rm -f "$ROUTER_NAME" >/dev/null 2>&1 || true
    # No default route: nothing the router sends can leave through the host.
    docker run -d --name "$ROUTER_NAME" --hostname router --network "$KIND_NETWORK" \
      --ip "$ROUTER_IP" --ip6 "$ROUTER_IP6" --cap-add NET_ADMIN \
      -v "$conf_dir:/etc/bird-e2e:ro" --entrypoint sh "$ROUTER_IMAGE" -c \
      'ip -4 route del default; ip -6 route del default 2>/dev/null; exec sleep infinity' \
      2> >(grep -v 'IPv4 forwarding is disabled' >&2) >/dev/null
  fi
  if in_router ip -4 route show default | grep -q . || in_router ip -6 route show default | grep -q .; then
    kdie "the router has a default route"
  fi
  local f
  for f in "$conf_dir"/peers/*; do
    read -r address _ <"$f"
    add_address "$address"
    run_bird "$(basename "$f")"
  done
  klog "router $ROUTER_NAME: BIRD at $ROUTER_IP (AS $ROUTER_AS), protocols $(birdc_of a show protocols | awk '/^a_/ { printf "%s ", $1 }')"
}

peer() {
  [[ $# -ge 3 ]] || kdie "usage: router.sh peer NAME ADDRESS AS [PASSWORD]"
  local name=$1 address=$2 as=$3 password=${4:-}
  [[ $name =~ ^[b-z][a-z0-9]{0,4}$ ]] || kdie "router name must be 1-5 of [a-z0-9], not a"
  running || kdie "the router does not run (router.sh start)"
  add_address "$address"
  echo "$address $as $password" >"$conf_dir/peers/$name"
  run_bird "$name"
}

unpeer() {
  local name=${1:?usage: router.sh unpeer NAME} address
  [[ $name != a && -f $conf_dir/peers/$name ]] || return 0
  read -r address _ <"$conf_dir/peers/$name"
  if running; then
    in_router sh -c "test ! -f /run/bird-$name.pid || kill \$(cat /run/bird-$name.pid)" || true
    if [[ $address == *:* ]]; then in_router ip -6 addr del "$address/64" dev eth0 2>/dev/null || true
    else in_router ip -4 addr del "$address/24" dev eth0 2>/dev/null || true; fi
  fi
  rm -f "$conf_dir/peers/$name" "$conf_dir/$name.conf"
}

cmd=${1:-}; shift || true
case $cmd in
  start) start ;;
  stop) docker rm -f "$ROUTER_NAME" >/dev/null 2>&1 || true; rm -rf "$conf_dir" ;;
  routes) birdc_of a show route all "$@" ;;
  exec) (( $# )) || kdie "usage: router.sh exec CMD..."; in_router "$@" ;;
  birdc)
    router=a
    if [[ ${1:-} == --router ]]; then router=${2:?}; shift 2; fi
    birdc_of "$router" "$@"
    ;;
  peer) peer "$@" ;;
  unpeer) unpeer "$@" ;;
  protocol) protocol_of "$@" ;;
  *) kdie "usage: router.sh start|stop|routes|exec CMD...|birdc [--router NAME] ARGS...|peer NAME ADDRESS AS [PASSWORD]|unpeer NAME|protocol NAME NODE" ;;
esac
