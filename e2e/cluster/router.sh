#!/usr/bin/env bash
# A BIRD 2 router in a network namespace of its own, joined to the host namespace by a veth
# pair, for the speaker of the local control plane: the speaker runs in the host namespace
# (a process inside a namespace cannot reach the apiserver on the host's 127.0.0.1) and
# peers with the router over the link. See shared/TESTING.md, "BGP routers".
#
#   router.sh start NAME HOST_V4/30 RTR_V4 HOST_V6/64 RTR_V6 ROUTER_AS SPEAKER_AS [MD5_PASSWORD]
#   router.sh stop NAME          stops BIRD by pid and deletes the namespace (and the veth)
#   router.sh birdc NAME ARGS... runs birdc against that router
#   router.sh ctl NAME           prints the path of its control socket
#   router.sh netns NAME         prints its namespace
#
# The router is passive and imports everything from the speaker (IPv4 and IPv6 channels).
# Recorded in the state's env: ROUTER_<NAME>_PID and _EXE (down.sh stops it by pid),
# NETNS_<NAME> (down.sh deletes it). Before an address is taken the script checks that no
# existing address or route of the host covers it (the machine's own network can sit in
# 192.0.2.0/24 and fd00::/64; taking those breaks it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
[[ -f $BGPCOMM_STATE_DIR/env ]] || die "no local control plane (run e2e/cluster/up.sh)"

bird_bin=$(command -v bird || true)

# Short, stable per state dir: the ctest cluster and a demo cluster never share names.
cluster_id=$(printf '%s' "$(cd "$BGPCOMM_STATE_DIR" && pwd)" | md5sum | cut -c1-6)
netns_of() { echo "bgpc-$cluster_id-$1"; }
veth_of() { echo "bc$cluster_id$1"; }  # host side; at most 15 characters
dir_of() { echo "$BGPCOMM_STATE_DIR/routers/$1"; }
key_of() { echo "${1^^}"; }

# A router of this script left behind by a run that was killed (its state dir may be gone,
# e.g. another clone's): the host side of its veth (bc<id><name>) still holds ADDR, and its
# namespace (bgpc-<id>-<name>) has no process left, as a running router always has BIRD.
# Such a leftover is removed, with a line saying so; a live router is left alone.
reclaim_leftover() {
  local addr=$1 family=$2 dev ns
  dev=$(ip "$family" -o addr show | awk -v a="$addr" '{split($4, p, "/"); if (p[1] == a) print $2}' |
    head -n1)
  dev=${dev%%@*}
  [[ $dev =~ ^bc([0-9a-f]{6})([a-z0-9]{1,5})$ ]] || return 0
  ns=bgpc-${BASH_REMATCH[1]}-${BASH_REMATCH[2]}
  if ip netns list | grep -qw "$ns"; then
    [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] || return 0
    ip netns del "$ns"
  fi
  ip link del "$dev" 2>/dev/null || true
  log "removed the leftover router $ns (veth $dev, holding $addr) of an earlier run that was killed"
}

# Fails when ADDR (no prefix length) is already on an interface or inside a route of the host
# other than the default route.
check_free() {
  local addr=$1 family=-4
  [[ $addr == *:* ]] && family=-6
  reclaim_leftover "$addr" "$family"
  if ip "$family" -o addr show | grep -qw "${addr}"; then die "$addr is already in use on this host"; fi
  if ip "$family" route show to match "$addr" | grep -v '^default' | grep -q .; then
    die "$addr overlaps a route of this host: $(ip "$family" route show to match "$addr" | grep -v '^default')"
  fi
}

start() {
  [[ $# -eq 7 || $# -eq 8 ]] ||
    die "usage: router.sh start NAME HOST_V4/30 RTR_V4 HOST_V6/64 RTR_V6 ROUTER_AS SPEAKER_AS [MD5_PASSWORD]"
  local name=$1 host_v4=$2 rtr_v4=$3 host_v6=$4 rtr_v6=$5 router_as=$6 speaker_as=$7 password=${8:-}
  [[ $name =~ ^[a-z0-9]{1,5}$ ]] || die "router name must be 1-5 of [a-z0-9]"
  [[ -n $bird_bin ]] || die "bird is not installed (make deps)"
  local ns veth dir key
  ns=$(netns_of "$name"); veth=$(veth_of "$name"); dir=$(dir_of "$name"); key=$(key_of "$name")
  if pid_is "$(state_get "ROUTER_${key}_PID")" "$bird_bin"; then
    log "router $name already running"
    return 0
  fi
  stop "$name" 2>/dev/null || true
  check_free "${host_v4%/*}"; check_free "$rtr_v4"; check_free "${host_v6%/*}"; check_free "$rtr_v6"
  mkdir -p "$dir"
  state_set "NETNS_$key" "$ns"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip addr add "$host_v4" dev "$veth"
  ip addr add "$host_v6" dev "$veth" nodad
  ip link set "$veth" up
  ip -n "$ns" addr add "$rtr_v4/${host_v4#*/}" dev eth0
  ip -n "$ns" addr add "$rtr_v6/${host_v6#*/}" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  local password_line=""
  [[ -z $password ]] || password_line="  password \"$password\";  # TCP MD5 (RFC 2385)"
  cat >"$dir/bird.conf" <<CONF
router id $rtr_v4;
log "$dir/bird.log" all;
protocol device {}
protocol bgp speaker {
  local $rtr_v4 as $router_as;
  neighbor ${host_v4%/*} as $speaker_as;
  passive on;
  direct;
$password_line
  ipv4 { import all; export none; gateway direct; };
  ipv6 { import all; export none; gateway direct; };
}
CONF
  local pid
  pid=$(spawn "$dir/bird.out" ip netns exec "$ns" "$bird_bin" -f -c "$dir/bird.conf" \
    -s "$dir/bird.ctl" -P "$dir/bird.pid")
  # `ip netns exec` execs bird: the pid is bird's.
  state_set "ROUTER_${key}_PID" "$pid"
  state_set "ROUTER_${key}_EXE" "$bird_bin"
  wait_for 10 birdc_ "$name" show status || die "bird $name did not start"
  log "router $name: BIRD (pid $pid) in $ns at $rtr_v4 / $rtr_v6, AS $router_as; host side $veth $host_v4 $host_v6"
}

stop() {
  local name=$1 ns key pid
  ns=$(netns_of "$name"); key=$(key_of "$name")
  pid=$(state_get "ROUTER_${key}_PID" || true)
  [[ -n $bird_bin && -n $pid ]] && stop_pid "$pid" "$bird_bin" 5
  if ip netns list | grep -qw "$ns"; then
    local p
    # Only what runs inside our own namespace.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns"
  fi
  ip link show "$(veth_of "$name")" >/dev/null 2>&1 && ip link del "$(veth_of "$name")"
  state_set "ROUTER_${key}_PID" ""
  state_set "NETNS_$key" ""
  rm -f "$(dir_of "$name")/bird.ctl"
}

birdc_() { local name=$1; shift; ip netns exec "$(netns_of "$name")" birdc -s "$(dir_of "$name")/bird.ctl" "$@"; }

cmd=${1:-}; shift || true
case $cmd in
  start) start "$@" ;;
  stop) [[ $# -eq 1 ]] || die "usage: router.sh stop NAME"; stop "$1" ;;
  birdc) birdc_ "$@" ;;
  ctl) echo "$(dir_of "$1")/bird.ctl" ;;
  netns) netns_of "$1" ;;
  *) die "usage: router.sh start|stop|birdc|ctl|netns NAME ..." ;;
esac
