# GoBGP helpers: a passive gobgpd in the router namespace. JSON is read with Perl's core
# JSON::PP (perl comes with build-essential).

# start_gobgp AS PEER_AS [PASSWORD]
start_gobgp() {
  local as="$1" peer_as="$2" password="${3:-}"
  require_cmd gobgpd gobgp perl
  {
    echo '[global.config]'
    echo "  as = $as"
    echo "  router-id = \"$RTR_V4\""
    if [ "${RTR_DOWNSTREAM:-0}" = 1 ]; then
      echo "  local-address-list = [\"$RTR_V4\", \"$RTR_V6\", \"$RTR_DN_V4\"]"
    else
      echo "  local-address-list = [\"$RTR_V4\", \"$RTR_V6\"]"
    fi
    echo '[[neighbors]]'
    echo '  [neighbors.config]'
    echo "    neighbor-address = \"$SPK_ADDR\""
    echo "    peer-as = $peer_as"
    [ -n "$password" ] && echo "    auth-password = \"$password\""
    echo '  [neighbors.transport.config]'
    echo '    passive-mode = true'
    if [ "${RTR_GR:-0}" = 1 ]; then
      echo '  [neighbors.graceful-restart.config]'
      echo '    enabled = true'
      echo '    helper-only = true'
    fi
    local family
    for family in ipv4-unicast ipv6-unicast; do
      echo '  [[neighbors.afi-safis]]'
      echo '    [neighbors.afi-safis.config]'
      echo "      afi-safi-name = \"$family\""
      if [ "${RTR_GR:-0}" = 1 ]; then
        echo '    [neighbors.afi-safis.mp-graceful-restart.config]'
        echo '      enabled = true'
      fi
    done
    # RTR_DOWNSTREAM=1 (downstream_up): the IPv4 routes go on to the downstream router.
    if [ "${RTR_DOWNSTREAM:-0}" = 1 ]; then
      echo '[[neighbors]]'
      echo '  [neighbors.config]'
      echo "    neighbor-address = \"$DN_V4\""
      echo "    peer-as = $DN_AS"
      echo '  [neighbors.transport.config]'
      echo '    passive-mode = true'
      echo '  [[neighbors.afi-safis]]'
      echo '    [neighbors.afi-safis.config]'
      echo '      afi-safi-name = "ipv4-unicast"'
    fi
  } >"$WORK/gobgpd.toml"
  ip netns exec "$NS_RTR" gobgpd -f "$WORK/gobgpd.toml" -t toml --api-hosts 127.0.0.1:50051 --pprof-disable \
    >>"$WORK/gobgpd.log" 2>&1 &
  GOBGP_PID=$!
  PIDS+=("$GOBGP_PID")
  wait_for 10 gobgp_cli global
}

stop_gobgp() {
  stop_pid "$GOBGP_PID" "" 5
}

gobgp_cli() { in_rtr gobgp -u 127.0.0.1 -p 50051 "$@"; }

gobgp_established() {
  gobgp_cli neighbor "$SPK_ADDR" -j | perl -MJSON::PP -e '
    my $d = decode_json(join "", <STDIN>); exit($d->{state}{session_state} == 6 ? 0 : 1)'
}

# gobgp_attr FAMILY PREFIX WHAT: prints one line per value of WHAT (communities | large |
# local_pref | present) of the best path of PREFIX; exits 1 when PREFIX is absent.
gobgp_attr() {
  gobgp_cli global rib -a "$1" -j | perl -MJSON::PP -e '
    my ($prefix, $what) = @ARGV;
    my $d = decode_json(join "", <STDIN>);
    my $paths = $d->{$prefix} or exit 1;
    my $attrs = $paths->[0]{attrs};
    print "present\n" if $what eq "present";
    for my $a (@$attrs) {
      if ($what eq "communities" && $a->{type} == 8) {
        printf "%d:%d\n", int($_ / 65536), $_ % 65536 for @{$a->{communities}};
      } elsif ($what eq "large" && $a->{type} == 32) {
        printf "%d:%d:%d\n", $_->{ASN}, $_->{LocalData1}, $_->{LocalData2} for @{$a->{value}};
      } elsif ($what eq "local_pref" && $a->{type} == 5) {
        print "$a->{value}\n";
      } elsif ($what eq "as_path" && $a->{type} == 2) {
        print join(" ", map { @{$_->{asns}} } @{$a->{as_paths}}), "\n";
      }
    }
    exit 0' "$2" "$3"
}


# gobgp_count FAMILY: how many prefixes of FAMILY (ipv4, ipv6) the RIB holds.
gobgp_count() {
  gobgp_cli global rib -a "$1" -j | perl -MJSON::PP -e '
    my $t = join "", <STDIN>; $t = "{}" if $t !~ /\S/;
    print scalar(keys %{decode_json($t)}), "\n"'
}

# The router interface of interop.bats.
rtr_start() { start_gobgp "$@"; }
rtr_stop() { stop_gobgp; }
rtr_established() { gobgp_established; }
rtr_attr() { gobgp_attr "$@"; }
rtr_route_text() { gobgp_cli global rib -a "$1" "$2"; }
RTR_LOG=gobgpd.log
# GoBGP shows LOCAL_PREF only when it was received.
RTR_SHOWS_LOCAL_PREF_DEFAULT=0
rtr_lacks() { ! gobgp_attr "$1" "$2" present; }
# rtr_count4: IPv4 prefixes in the router's table (stale ones included).
rtr_count4() {
  gobgp_cli global rib summary -a ipv4 | sed -n 's/.*Destination: \([0-9]*\).*/\1/p'
}
# rtr_stale PREFIX: the router holds PREFIX marked stale (graceful restart).
rtr_stale() {
  gobgp_cli global rib -a ipv4 "$1" -j | perl -MJSON::PP -e '
    my $d = decode_json(join "", <STDIN>);
    for my $paths (values %$d) { for my $p (@$paths) { exit 0 if $p->{stale} } }
    exit 1'
}
# GoBGP's JSON carries only the global IPv6 next hop.
RTR_SHOWS_LINK_LOCAL=0
