# FRR helpers: zebra and bgpd in the router namespace with their own config, pid files, zserv
# socket and vty socket directory in the suite's temp dir; queried with vtysh --vty_socket.
# zebra gives bgpd the interfaces: without them bgpd refuses an IPv6 link-local next hop
# ("no peer interface information"), which the speaker sends on a shared link (RFC 2545).
# zebra stays up across a bgpd restart, as on a router restarting only its BGP daemon.

# start_frr AS PEER_AS [PASSWORD]
start_frr() {
  local as="$1" peer_as="$2" password="${3:-}"
  require_cmd vtysh perl
  [ -x /usr/lib/frr/bgpd ] || { echo "interop: /usr/lib/frr/bgpd is missing (run make deps)" >&2; return 1; }
  chmod 0755 "$WORK"
  mkdir -p "$WORK/frr"
  chown frr:frr "$WORK/frr" 2>/dev/null || true
  {
    echo "frr defaults traditional"
    echo "hostname rtr"
    echo "log file $WORK/frr/bgpd.log debugging"
    # Milliseconds and neighbor state changes in the log: the BFD suite times the session's end.
    echo "log timestamp precision 3"
    echo "router bgp $as"
    echo " bgp router-id $RTR_V4"
    echo " no bgp ebgp-requires-policy"
    echo " no bgp default ipv4-unicast"
    echo " bgp log-neighbor-changes"
    echo " neighbor $SPK_ADDR remote-as $peer_as"
    echo " neighbor $SPK_ADDR passive"
    echo " neighbor $SPK_ADDR timers 3 9"
    [ -n "$password" ] && echo " neighbor $SPK_ADDR password $password"
    if [ -n "${RTR_BFD_INTERVAL:-}" ]; then
      echo " neighbor $SPK_ADDR bfd"
      echo " neighbor $SPK_ADDR bfd profile fast"
    fi
    # RTR_DOWNSTREAM=1 (downstream_up): the IPv4 routes go on to the downstream router.
    if [ "${RTR_DOWNSTREAM:-0}" = 1 ]; then
      echo " neighbor $DN_V4 remote-as $DN_AS"
      echo " neighbor $DN_V4 passive"
      echo " neighbor $DN_V4 timers 3 9"
    fi
    echo " address-family ipv4 unicast"
    echo "  neighbor $SPK_ADDR activate"
    [ "${RTR_DOWNSTREAM:-0}" = 1 ] && echo "  neighbor $DN_V4 activate"
    echo " exit-address-family"
    echo " address-family ipv6 unicast"
    echo "  neighbor $SPK_ADDR activate"
    echo " exit-address-family"
  } >"$WORK/frr/bgpd.conf"
  chmod 0644 "$WORK/frr/bgpd.conf"
  touch "$WORK/frr/vtysh.conf"
  if [ -z "${ZEBRA_PID:-}" ] || ! kill -0 "$ZEBRA_PID" 2>/dev/null; then
    [ -x /usr/lib/frr/zebra ] || { echo "interop: /usr/lib/frr/zebra is missing (run make deps)" >&2; return 1; }
    echo "hostname rtr" >"$WORK/frr/zebra.conf"
    chmod 0644 "$WORK/frr/zebra.conf"
    ip netns exec "$NS_RTR" /usr/lib/frr/zebra -f "$WORK/frr/zebra.conf" -i "$WORK/frr/zebra.pid" \
      -z "$WORK/frr/zserv.api" --vty_socket "$WORK/frr" -A 127.0.0.1 -P 0 -u frr -g frr \
      >>"$WORK/frr/zebra.out" 2>&1 &
    ZEBRA_PID=$!
    PIDS+=("$ZEBRA_PID")
    wait_for 15 test -S "$WORK/frr/zserv.api"
  fi
  # RTR_BFD_INTERVAL (ms) and RTR_BFD_MULTIPLIER: bfdd with the profile bgpd's session uses.
  if [ -n "${RTR_BFD_INTERVAL:-}" ] && { [ -z "${BFDD_PID:-}" ] || ! kill -0 "$BFDD_PID" 2>/dev/null; }; then
    [ -x /usr/lib/frr/bfdd ] || { echo "interop: /usr/lib/frr/bfdd is missing (run make deps)" >&2; return 1; }
    {
      echo "hostname rtr"
      echo "log file $WORK/frr/bfdd.log debugging"
      echo "log timestamp precision 3"
      echo "debug bfd peer"
      echo "debug bfd zebra"
      echo "bfd"
      echo " profile fast"
      echo "  transmit-interval $RTR_BFD_INTERVAL"
      echo "  receive-interval $RTR_BFD_INTERVAL"
      echo "  detect-multiplier ${RTR_BFD_MULTIPLIER:-3}"
      echo " exit"
      echo "exit"
    } >"$WORK/frr/bfdd.conf"
    chmod 0644 "$WORK/frr/bfdd.conf"
    ip netns exec "$NS_RTR" /usr/lib/frr/bfdd -z "$WORK/frr/zserv.api" -f "$WORK/frr/bfdd.conf" \
      -i "$WORK/frr/bfdd.pid" --vty_socket "$WORK/frr" --bfdctl "$WORK/frr/bfdd.sock" \
      -A 127.0.0.1 -P 0 -u frr -g frr >>"$WORK/frr/bfdd.out" 2>&1 &
    BFDD_PID=$!
    PIDS+=("$BFDD_PID")
    wait_for 15 test -S "$WORK/frr/bfdd.vty"
  fi
  ip netns exec "$NS_RTR" /usr/lib/frr/bgpd -z "$WORK/frr/zserv.api" -f "$WORK/frr/bgpd.conf" \
    -i "$WORK/frr/bgpd.pid" --vty_socket "$WORK/frr" -A 127.0.0.1 -P 0 -u frr -g frr \
    >>"$WORK/frr/bgpd.out" 2>&1 &
  FRR_PID=$!
  PIDS+=("$FRR_PID")
  wait_for 15 frr_cli 'show bgp summary'
}

stop_frr() {
  stop_pid "$FRR_PID" "" 5
}

frr_cli() { in_rtr vtysh --vty_socket "$WORK/frr" --config_dir "$WORK/frr" -c "$1"; }

frr_established() {
  frr_cli "show bgp neighbors $SPK_ADDR json" | perl -MJSON::PP -e '
    my $d = decode_json(join "", <STDIN>);
    exit(($d->{$ARGV[0]}{bgpState} // "") eq "Established" ? 0 : 1)' "$SPK_ADDR"
}

# frr_attr FAMILY PREFIX WHAT: as gobgp_attr, from `show bgp FAMILY unicast PREFIX json`.
frr_attr() {
  frr_cli "show bgp $1 unicast $2 json" | perl -MJSON::PP -e '
    my ($what) = @ARGV;
    my %well_known = (noExport => "65535:65281", noAdvertise => "65535:65282",
                      noPeer => "65535:65284", blackhole => "65535:666",
                      localAs => "65535:65283", gracefulShutdown => "65535:0");
    my $d = decode_json(join "", <STDIN>);
    my $paths = $d->{paths} or exit 1;
    @$paths or exit 1;
    my $p = $paths->[0];
    if ($what eq "present") { print "present\n"; }
    elsif ($what eq "communities") {
      print(($well_known{$_} // $_), "\n") for @{$p->{community}{list} // []};
    } elsif ($what eq "large") {
      print "$_\n" for @{$p->{largeCommunity}{list} // []};
    } elsif ($what eq "local_pref") {
      print "$p->{locPrf}\n" if exists $p->{locPrf};
    } elsif ($what eq "as_path") {
      print "$p->{aspath}{string}\n";
    } elsif ($what eq "next_hops") {
      print "$_->{ip}\n" for @{$p->{nexthops} // []};
    }
    exit 0' "$3"
}

RTR_LOG=frr/bgpd.log
# FRR shows locPrf only when LOCAL_PREF was received.
RTR_SHOWS_LOCAL_PREF_DEFAULT=0
rtr_start() { start_frr "$@"; }
rtr_stop() { stop_frr; }
rtr_established() { frr_established; }
rtr_attr() { frr_attr "$@"; }
rtr_lacks() { ! frr_attr "$1" "$2" present; }
# `rtr_attr ipv6 PREFIX next_hops` lists the link-local next hop too.
RTR_SHOWS_LINK_LOCAL=1
# rtr_count4: prefixes in the IPv4 unicast table (stale ones included).
rtr_count4() {
  frr_cli "show bgp ipv4 unicast statistics json" | perl -MJSON::PP -e '
    my $d = decode_json(join "", <STDIN>);
    my $s = $d->{ipv4Unicast} // [];
    print(((ref $s eq "ARRAY" ? $s->[0]{totalPrefixes} : $s->{totalPrefixes}) // 0), "\n")'
}
rtr_stale() {
  frr_cli "show bgp ipv4 unicast $1 json" | perl -MJSON::PP -e '
    my $d = decode_json(join "", <STDIN>);
    for my $p (@{$d->{paths} // []}) { exit 0 if $p->{stale} }
    exit 1'
}
# frr_bfd_peer FIELD: FIELD of bfdd's session with the speaker (`show bfd peers json`).
frr_bfd_peer() {
  frr_cli "show bfd peers json" | perl -MJSON::PP -e '
    my ($addr, $field) = @ARGV;
    my $d = decode_json(join "", <STDIN>);
    for my $p (@$d) { if (($p->{peer} // "") eq $addr) { print "$p->{$field}\n"; exit 0 } }
    exit 1' "$SPK_ADDR" "$1"
}
rtr_bfd_up() { [ "$(frr_bfd_peer status)" = up ]; }
# rtr_bfd_timeout: the router's Detection Time for the speaker in seconds ("0.900"): the
# speaker's Detect Mult times the slower of its transmit and the router's receive interval.
rtr_bfd_timeout() {
  local mult tx rx
  mult=$(frr_bfd_peer remote-detect-multiplier) || return 1
  tx=$(frr_bfd_peer remote-transmit-interval) || return 1
  rx=$(frr_bfd_peer receive-interval) || return 1
  awk -v m="$mult" -v t="$tx" -v r="$rx" 'BEGIN { printf "%.3f\n", m * (t > r ? t : r) / 1000 }'
}
rtr_bfd_show() { frr_cli "show bfd peers"; }
# rtr_down_stamps: the epoch milliseconds at which bgpd ended the session with the speaker,
# one a line, from its log (`bgp log-neighbor-changes`, millisecond timestamps).
rtr_down_stamps() {
  local d t
  { grep -F "%ADJCHANGE: neighbor $SPK_ADDR(" "$WORK/frr/bgpd.log" | grep ' Down ' || true; } |
    while read -r d t _; do log_ms "$d $t"; done
}
# FRR 8.4's bgpd registers the neighbor's BFD session without a source and interface and
# replaces it by one with them when BGP comes up (bfdd.log: session-delete, session-new ...
# ifname). The replaced session's last packet says Down (diagnostic 3): when the speaker's
# BFD session was already Up with it, the speaker resets that first BGP session once, as RFC
# 5882 asks. `update-source` or `neighbor ... interface` does not avoid it.
RTR_BFD_REPLACES_SESSION=1
# rtr_bfd_settled: the replacement is done (the session is on the interface) and Up.
rtr_bfd_settled() { [ "$(frr_bfd_peer interface)" = veth1 ] && rtr_bfd_up; }
