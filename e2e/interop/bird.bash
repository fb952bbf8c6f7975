# BIRD 2 helpers: a passive BGP protocol in the router namespace, its own config, control
# socket and pid file in the suite's temp dir.

# start_bird AS PEER_AS [PASSWORD]
start_bird() {
  local as="$1" peer_as="$2" password="${3:-}"
  require_cmd bird birdc
  {
    echo "router id $RTR_V4;"
    echo "log \"$WORK/bird.log\" all;"
    # Milliseconds in the log: the BFD suite times the session's end from it.
    echo "timeformat log \"%F %T.%3f\";"
    echo "protocol device {}"
    echo "protocol bgp spk {"
    echo "  local $RTR_ADDR as $as;"
    echo "  neighbor $SPK_ADDR as $peer_as;"
    echo "  passive on;"
    echo "  direct;"
    echo "  hold time 9;"
    # State changes in the log (with milliseconds): the BFD suite and bench time the end of
    # the session from it.
    echo "  debug { states, events };"
    # BIRD's default is already `aware` (the helper side); said explicitly for the GR suite.
    [ "${RTR_GR:-0}" = 1 ] && echo "  graceful restart aware;"
    [ -n "$password" ] && echo "  password \"$password\";"
    if [ -n "${RTR_BFD_INTERVAL:-}" ]; then
      # BFD decides the session; after a BFD down it is accepted again within a second or two.
      # RTR_BFD_GRACEFUL=1: a BFD down is handled as a graceful restart of the peer (BIRD's
      # `bfd graceful`): the routes stay, stale, as with a closed session.
      if [ "${RTR_BFD_GRACEFUL:-0}" = 1 ]; then echo "  bfd graceful;"; else echo "  bfd on;"; fi
      echo "  error wait time 1,2;"
    fi
    echo "  ipv4 { import all; export none; gateway direct; };"
    echo "  ipv6 { import all; export none; gateway direct; };"
    echo "}"
    # RTR_DOWNSTREAM=1 (downstream_up): the IPv4 routes go on to the downstream router.
    if [ "${RTR_DOWNSTREAM:-0}" = 1 ]; then
      echo "protocol bgp dn {"
      echo "  local $RTR_DN_V4 as $as;"
      echo "  neighbor $DN_V4 as $DN_AS;"
      echo "  passive on;"
      echo "  direct;"
      echo "  hold time 9;"
      echo "  ipv4 { import none; export all; };"
      echo "}"
    fi
    # RTR_BFD_INTERVAL (ms) and RTR_BFD_MULTIPLIER: BFD (RFC 5881) on the link to the speaker.
    if [ -n "${RTR_BFD_INTERVAL:-}" ]; then
      echo "protocol bfd bfd1 {"
      echo "  interface \"veth1\" {"
      echo "    interval ${RTR_BFD_INTERVAL} ms;"
      echo "    multiplier ${RTR_BFD_MULTIPLIER:-3};"
      echo "  };"
      echo "}"
    fi
  } >"$WORK/bird.conf"
  ip netns exec "$NS_RTR" bird -f -c "$WORK/bird.conf" -s "$WORK/bird.ctl" -P "$WORK/bird.pid" \
    >>"$WORK/bird.out" 2>&1 &
  BIRD_PID=$!
  PIDS+=("$BIRD_PID")
  wait_for 10 birdc_ show status
}

stop_bird() {
  stop_pid "$BIRD_PID" "" 5
  rm -f "$WORK/bird.ctl"
}

birdc_() { in_rtr birdc -s "$WORK/bird.ctl" "$@"; }

bird_established() { birdc_ show protocols spk | grep -q Established; }

# bird_attr FAMILY PREFIX WHAT: as gobgp_attr, from `show route all`. BIRD_TABLE4 and
# BIRD_TABLE6 name other tables than master4/master6; BIRD_PROTOCOL keeps only the routes
# of that protocol (one router, several sessions).
bird_attr() {
  local table=${BIRD_TABLE4:-master4}
  [ "$1" = ipv6 ] && table=${BIRD_TABLE6:-master6}
  birdc_ show route all for "$2" table "$table" ${BIRD_PROTOCOL:+protocol "$BIRD_PROTOCOL"} | perl -e '
    my ($prefix, $what) = @ARGV;
    my ($found, $key, %attr) = (0, "");
    while (my $line = <STDIN>) {
      $found = 1 if index($line, $prefix) == 0;
      next unless $found;
      if ($line =~ /^\s+BGP\.(\w+): ?(.*)$/) {
        ($key, $attr{$1}) = ($1, $2);
      } elsif ($key ne "" && $line =~ /^\s+(\(.*)$/) {
        $attr{$key} .= " $1";  # long attributes continue on indented lines
      } else {
        $key = "";
      }
    }
    exit 1 unless $found;
    if ($what eq "communities") {
      my $l = $attr{community} // ""; print "$1:$2\n" while $l =~ /\((\d+),(\d+)\)/g;
    } elsif ($what eq "large") {
      my $l = $attr{large_community} // "";
      print "$1:$2:$3\n" while $l =~ /\((\d+), (\d+), (\d+)\)/g;
    } elsif ($what eq "local_pref") {
      print "$attr{local_pref}\n" if defined $attr{local_pref};
    } elsif ($what eq "as_path") {
      print "$attr{as_path}\n";
    } elsif ($what eq "next_hops") {
      print "$_\n" for split / /, ($attr{next_hop} // "");
    }
    exit 0' "$2" "$3"
}

RTR_LOG=bird.log
# BIRD sets its own LOCAL_PREF (100) on routes imported from eBGP peers.
RTR_SHOWS_LOCAL_PREF_DEFAULT=1
rtr_start() { start_bird "$@"; }
rtr_stop() { stop_bird; }
rtr_established() { bird_established; }
rtr_attr() { bird_attr "$@"; }
rtr_lacks() { ! bird_attr "$1" "$2" present; }
rtr_count4() {
  birdc_ show route count table master4 | sed -n 's/^\([0-9]*\) of .*/\1/p'
}
# rtr_stale PREFIX: BIRD marks no single route in `show route`; its protocol status says
# whether the neighbor's graceful restart is active (routes kept stale, waiting for
# End-of-RIB), which covers every prefix of the session.
rtr_stale() { birdc_ show protocols all spk | grep -q 'Neighbor graceful restart active'; }
# `rtr_attr ipv6 PREFIX next_hops` lists the link-local next hop too.
RTR_SHOWS_LINK_LOCAL=1
# rtr_bfd_up: the router's BFD session with the speaker is Up (`show bfd sessions`).
rtr_bfd_up() { birdc_ show bfd sessions | awk -v a="$SPK_ADDR" '$1 == a && $3 == "Up" { f = 1 } END { exit !f }'; }
# rtr_bfd_timeout: the router's Detection Time for the speaker, in seconds ("0.900").
rtr_bfd_timeout() { birdc_ show bfd sessions | awk -v a="$SPK_ADDR" '$1 == a { print $NF }'; }
rtr_bfd_show() { birdc_ show bfd sessions; }
# rtr_down_stamps: the epoch milliseconds at which the session with the speaker ended (its
# routes flushed), one a line, from the log (`debug { states }`, set with RTR_BFD_INTERVAL).
rtr_down_stamps() {
  local d t
  { grep ' spk: State changed to down$' "$WORK/bird.log" || true; } | while read -r d t _; do log_ms "$d $t"; done
}
