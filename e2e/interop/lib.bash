# Shared helpers of the interop suites: two network namespaces joined by a veth pair, the
# speaker in one ("spk"), a BGP router in the other ("rtr"). Nothing is added to the root
# namespace, so the machine's own addresses (192.0.2.0/24, fd00::/64) are never touched.
#
# Addresses: speaker 198.51.100.1/30 and 2001:db8:ff::1/64, router 198.51.100.2/30 and
# 2001:db8:ff::2/64 — inside the private namespaces only. downstream_up adds a third
# namespace ("dn") behind the router: router 198.51.100.5/30, downstream 198.51.100.6/30.

SPK_V4=198.51.100.1
RTR_V4=198.51.100.2
SPK_V6=2001:db8:ff::1
RTR_V6=2001:db8:ff::2
# The addresses the session runs between; an IPv6 session sets both to the V6 ones.
SPK_ADDR=$SPK_V4
RTR_ADDR=$RTR_V4
# The downstream router (downstream_up): its address, the router's on that link, its AS.
DN_V4=198.51.100.6
RTR_DN_V4=198.51.100.5
DN_AS=64514

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# stop_pid, wait_for: e2e/lib/proc.bash.
. "$REPO_ROOT/e2e/lib/proc.bash"
SPEAKER_BIN="${BGPCOMM_SPEAKER:-$REPO_ROOT/build/bin/bgpcomm-speaker}"

# require_cmd CMD...: fail loudly (not skip) when a tool is missing; make deps installs them.
require_cmd() {
  local c
  for c in "$@"; do
    if ! command -v "$c" >/dev/null 2>&1; then
      echo "interop: required command '$c' is missing (run make deps)" >&2
      return 1
    fi
  done
}

# net_up TAG: creates namespaces bgpc-TAG-spk-PID / bgpc-TAG-rtr-PID and the link.
net_up() {
  local tag="$1"
  require_cmd ip
  [ -x "$SPEAKER_BIN" ] || { echo "interop: $SPEAKER_BIN is not built" >&2; return 1; }
  WORK="$(mktemp -d "/tmp/bgpcomm-interop-$tag.XXXXXX")"
  NS_SPK="bgpc-$tag-spk-$$"
  NS_RTR="bgpc-$tag-rtr-$$"
  ip netns add "$NS_SPK"
  ip netns add "$NS_RTR"
  ip -n "$NS_SPK" link set lo up
  ip -n "$NS_RTR" link set lo up
  ip -n "$NS_SPK" link add veth0 type veth peer name veth1 netns "$NS_RTR"
  ip -n "$NS_SPK" addr add "$SPK_V4/30" dev veth0
  ip -n "$NS_RTR" addr add "$RTR_V4/30" dev veth1
  ip -n "$NS_SPK" addr add "$SPK_V6/64" dev veth0 nodad
  ip -n "$NS_RTR" addr add "$RTR_V6/64" dev veth1 nodad
  ip -n "$NS_SPK" link set veth0 up
  ip -n "$NS_RTR" link set veth1 up
  PIDS=()
}

# net_down: kills the processes this suite started (by pid) and removes both namespaces.
net_down() {
  local p
  for p in "${PIDS[@]:-}"; do stop_pid "$p" "" 5; done
  PIDS=()
  # Anything still inside our own namespaces was started by this suite.
  local ns
  for ns in "${NS_SPK:-}" "${NS_RTR:-}" "${NS_DN:-}"; do
    [ -n "$ns" ] || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  done
  [ -n "${NS_SPK:-}" ] && ip netns del "$NS_SPK" 2>/dev/null || true
  [ -n "${NS_RTR:-}" ] && ip netns del "$NS_RTR" 2>/dev/null || true
  [ -n "${NS_DN:-}" ] && ip netns del "$NS_DN" 2>/dev/null || true
  [ -n "${WORK:-}" ] && [ -d "$WORK" ] && rm -rf "$WORK"
  return 0
}

in_rtr() { ip netns exec "$NS_RTR" "$@"; }
in_spk() { ip netns exec "$NS_SPK" "$@"; }
in_dn() { ip netns exec "$NS_DN" "$@"; }

# downstream_up: a third namespace bgpc-TAG-dn-PID (after net_up) linked to the router's
# (veth2 there, veth3 here), and RTR_DOWNSTREAM=1, which makes rtr_start add a passive eBGP
# neighbor DN_V4 (AS DN_AS) exporting the router's IPv4 routes. start_downstream then runs
# the downstream router.
downstream_up() {
  NS_DN="${NS_RTR/-rtr-/-dn-}"
  ip netns add "$NS_DN"
  ip -n "$NS_DN" link set lo up
  ip -n "$NS_RTR" link add veth2 type veth peer name veth3 netns "$NS_DN"
  ip -n "$NS_RTR" addr add "$RTR_DN_V4/30" dev veth2
  ip -n "$NS_DN" addr add "$DN_V4/30" dev veth3
  ip -n "$NS_RTR" link set veth2 up
  ip -n "$NS_DN" link set veth3 up
  RTR_DOWNSTREAM=1
}

# start_downstream RTR_AS: BIRD 2 in the downstream namespace, an eBGP session (AS DN_AS)
# to the router at RTR_DN_V4 importing every IPv4 route and exporting none: a second router
# that sees what the router does with the speaker's routes (keeps or withdraws them).
start_downstream() {
  local rtr_as="$1"
  require_cmd bird birdc
  mkdir -p "$WORK/dn"
  {
    echo "router id $DN_V4;"
    echo "log \"$WORK/dn/bird.log\" all;"
    echo "protocol device {}"
    echo "protocol bgp up {"
    echo "  local $DN_V4 as $DN_AS;"
    echo "  neighbor $RTR_DN_V4 as $rtr_as;"
    echo "  direct;"
    echo "  hold time 9;"
    echo "  connect retry time 1;"
    echo "  ipv4 { import all; export none; };"
    echo "}"
  } >"$WORK/dn/bird.conf"
  in_dn bird -f -c "$WORK/dn/bird.conf" -s "$WORK/dn/bird.ctl" -P "$WORK/dn/bird.pid" \
    >>"$WORK/dn/bird.out" 2>&1 &
  DN_PID=$!
  PIDS+=("$DN_PID")
  wait_for 10 dn_birdc show status
}

dn_birdc() { in_dn birdc -s "$WORK/dn/bird.ctl" "$@"; }
dn_established() { dn_birdc show protocols up | grep -q Established; }
# dn_count: the IPv4 routes the downstream router holds.
dn_count() { dn_birdc show route count table master4 | sed -n 's/^\([0-9]*\) of .*/\1/p'; }
# dn_withdraws: the withdrawals the downstream router has received from the router since it
# started (BIRD's "Import withdraws:" received column of the session's IPv4 channel); fails
# when the counter cannot be read.
dn_withdraws() {
  dn_birdc show protocols all up | awk '/Import withdraws:/ { print $3; f = 1 } END { exit !f }'
}

# start_speaker OBJECTS_DIR [FLAG...]: runs bgpcomm-speaker in the speaker namespace, logging
# at $SPEAKER_LOG_LEVEL (default debug), with the extra flags given.
start_speaker() {
  local objects="$1"
  shift
  ip netns exec "$NS_SPK" "$SPEAKER_BIN" --objects "$objects" --node-name node-a \
    --log-level "${SPEAKER_LOG_LEVEL:-debug}" "$@" \
    --metrics-bind-address 127.0.0.1:7472 --health-probe-bind-address 127.0.0.1:7473 \
    >>"$WORK/speaker.log" 2>&1 &
  SPEAKER_PID=$!
  PIDS+=("$SPEAKER_PID")
}

stop_speaker() {
  if [ -n "${SPEAKER_PID:-}" ]; then
    stop_pid "$SPEAKER_PID" "" 5
    SPEAKER_PID=""
  fi
}

# wait_ms MILLISECONDS CMD...: like wait_for with a millisecond budget; prints the time taken.
wait_ms() {
  local budget="$1"
  shift
  local start now
  start=$(date +%s%N)
  while :; do
    if "$@" >/dev/null 2>&1; then
      now=$(date +%s%N)
      echo "took $(((now - start) / 1000000)) ms"
      return 0
    fi
    now=$(date +%s%N)
    if (((now - start) / 1000000 > budget)); then
      echo "not within ${budget} ms: $*" >&2
      return 1
    fi
    sleep 0.05
  done
}

# write_many_objects DIR COUNT [key=value...]: COUNT LoadBalancer services on 198.18.0.1,
# 198.18.0.2, ... (a pool of 198.18.0.0/17), one advertisement without communities and the
# BGPPeer at RTR_V4 (IPv4 only). graceful_restart=true sets enableGracefulRestart,
# bfd_profile=NAME spec.bfdProfile.
write_many_objects() {
  local dir="$1" count="$2"
  shift 2
  local graceful_restart=false bfd_profile="" kv
  for kv in "$@"; do
    case "$kv" in
      graceful_restart=*) graceful_restart="${kv#*=}" ;;
      bfd_profile=*) bfd_profile="${kv#*=}" ;;
    esac
  done
  mkdir -p "$dir"
  cat >"$dir/.peer.yaml.tmp" <<EOF
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: many
  namespace: metallb-system
spec:
  addresses:
    - 198.18.0.0/17
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: many
  namespace: metallb-system
spec:
  ipAddressPools:
    - many
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: upstream-router
  namespace: metallb-system
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: $RTR_V4
  routerID: $SPK_V4
  holdTime: 9s
  connectTime: 2s
  enableGracefulRestart: $graceful_restart
EOF
  [ -n "$bfd_profile" ] && echo "  bfdProfile: $bfd_profile" >>"$dir/.peer.yaml.tmp"
  perl -e 'for my $i (1 .. $ARGV[0]) {
    printf "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s%d\n  namespace: default\n" .
           "spec:\n  type: LoadBalancer\nstatus:\n  loadBalancer:\n    ingress:\n" .
           "      - ip: 198.18.%d.%d\n", $i, $i >> 8, $i & 255 }' "$count" >"$dir/.services.yaml.tmp"
  mv "$dir/.services.yaml.tmp" "$dir/services.yaml"
  mv "$dir/.peer.yaml.tmp" "$dir/peer.yaml"
}

# write_objects DIR [key=value...]: the walkthrough objects for a peer at RTR_V4 (dual-stack),
# with a pool holding 203.0.113.0/28 and 2001:db8:1::/120 and a service on both families.
#   my_asn, peer_asn, password, local_pref, extra_communities (YAML list items, comma
#   separated), service_ip4, service_ip6, hold_time (default 9s), connect_time (unset),
#   dynamic_asn (internal|external: replaces peerASN), local_asn (BGPPeer localASN),
#   disable_mp (BGPPeer disableMP), prepend (asPathPrepend of both advertisements),
#   selector_app (both advertisements select Services labelled app=VALUE), other_ip4 and
#   other_app (a second Service "other" at that IPv4 address, labelled app=VALUE; the
#   Service "web" is labelled app=web)
#   dynamic_asn (internal|external: replaces peerASN), bfd_profile (spec.bfdProfile)
write_objects() {
  local dir="$1"
  shift
  local my_asn=64512 peer_asn=64513 password="" local_pref="" extra="" ip4=203.0.113.10
  local ip6=2001:db8:1::10 dual_stack=true hold_time=9s connect_time="" dynamic_asn="" kv
  local local_asn="" disable_mp="" prepend="" selector_app="" other_ip4="" other_app=other
  local bfd_profile=""
  for kv in "$@"; do
    case "$kv" in
      my_asn=*) my_asn="${kv#*=}" ;;
      peer_asn=*) peer_asn="${kv#*=}" ;;
      password=*) password="${kv#*=}" ;;
      local_pref=*) local_pref="${kv#*=}" ;;
      extra=*) extra="${kv#*=}" ;;
      service_ip4=*) ip4="${kv#*=}" ;;
      service_ip6=*) ip6="${kv#*=}" ;;
      dual_stack=*) dual_stack="${kv#*=}" ;;
      hold_time=*) hold_time="${kv#*=}" ;;
      connect_time=*) connect_time="${kv#*=}" ;;
      dynamic_asn=*) dynamic_asn="${kv#*=}" ;;
      local_asn=*) local_asn="${kv#*=}" ;;
      disable_mp=*) disable_mp="${kv#*=}" ;;
      prepend=*) prepend="${kv#*=}" ;;
      selector_app=*) selector_app="${kv#*=}" ;;
      other_ip4=*) other_ip4="${kv#*=}" ;;
      other_app=*) other_app="${kv#*=}" ;;
      bfd_profile=*) bfd_profile="${kv#*=}" ;;
    esac
  done
  mkdir -p "$dir"
  # advert_options: the spec lines every advertisement of the set carries.
  advert_options() {
    [ -n "$prepend" ] && echo "  asPathPrepend: $prepend"
    if [ -n "$selector_app" ]; then
      echo "  serviceSelectors:"
      echo "    - matchLabels:"
      echo "        app: $selector_app"
    fi
    return 0
  }
  local tmp="$dir/.objects.yaml.tmp"
  {
    cat <<EOF
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: my-communities
  namespace: metallb-system
spec:
  communities:
    - name: primary-route
      value: "64512:100"
    - name: backup-route
      value: "64512:200"
    - name: region-us-east
      value: "large:64512:1:100"
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: production-pool
  namespace: metallb-system
spec:
  addresses:
    - 203.0.113.0/28
    - 2001:db8:1::/120
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: primary-advert
  namespace: metallb-system
spec:
  ipAddressPools:
    - production-pool
  communities:
    - primary-route
    - region-us-east
EOF
    local item
    IFS=',' read -ra items <<<"$extra"
    for item in "${items[@]}"; do
      [ -n "$item" ] && echo "    - \"$item\""
    done
    [ -n "$local_pref" ] && echo "  localPref: $local_pref"
    advert_options
    cat <<EOF
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: backup-advert
  namespace: metallb-system
spec:
  ipAddressPools:
    - production-pool
  communities:
    - backup-route
EOF
    advert_options
    cat <<EOF
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: upstream-router
  namespace: metallb-system
spec:
  myASN: $my_asn
  peerAddress: $RTR_ADDR
  routerID: $SPK_V4
  holdTime: $hold_time
  dualStackAddressFamily: $dual_stack
EOF
    if [ -n "$dynamic_asn" ]; then echo "  dynamicASN: $dynamic_asn"; else echo "  peerASN: $peer_asn"; fi
    [ -n "$connect_time" ] && echo "  connectTime: $connect_time"
    [ -n "$password" ] && echo "  password: \"$password\""
    [ -n "$local_asn" ] && echo "  localASN: $local_asn"
    [ -n "$disable_mp" ] && echo "  disableMP: $disable_mp"
    if [ -n "$other_ip4" ]; then
      cat <<EOF
---
apiVersion: v1
kind: Service
metadata:
  name: other
  namespace: default
  labels:
    app: $other_app
spec:
  type: LoadBalancer
status:
  loadBalancer:
    ingress:
      - ip: $other_ip4
EOF
    fi
    [ -n "$bfd_profile" ] && echo "  bfdProfile: $bfd_profile"
    cat <<EOF
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
  labels:
    app: web
spec:
  type: LoadBalancer
status:
  loadBalancer:
    ingress:
EOF
    [ -n "$ip4" ] && echo "      - ip: $ip4"
    [ -n "$ip6" ] && echo "      - ip: $ip6"
  } >"$tmp"
  # Atomic replace: the speaker never reads a half-written file.
  mv "$tmp" "$dir/objects.yaml"
}

# write_bfd_profile DIR NAME INTERVAL_MS MULTIPLIER [key=value...]: a BFDProfile in
# DIR/bfd-NAME.yaml (transmitInterval and receiveInterval INTERVAL_MS). passive=true sets
# passiveMode, echo=true echoMode.
write_bfd_profile() {
  local dir="$1" name="$2" interval="$3" multiplier="$4"
  shift 4
  local passive=false echo=false kv
  for kv in "$@"; do
    case "$kv" in
      passive=*) passive="${kv#*=}" ;;
      echo=*) echo="${kv#*=}" ;;
    esac
  done
  mkdir -p "$dir"
  cat >"$dir/.bfd-$name.yaml.tmp" <<EOF
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata:
  name: $name
  namespace: metallb-system
spec:
  receiveInterval: $interval
  transmitInterval: $interval
  detectMultiplier: $multiplier
  passiveMode: $passive
  echoMode: $echo
EOF
  mv "$dir/.bfd-$name.yaml.tmp" "$dir/bfd-$name.yaml"
}

# cut_link / restore_link: every packet in and out of the router namespace dropped (nft), as
# a dead link or node looks to the speaker; the interfaces stay up.
cut_link() {
  require_cmd nft
  in_rtr nft -f - <<EOF
table inet bgpcomm_cut {
  chain input { type filter hook input priority -300; policy drop; }
  chain output { type filter hook output priority -300; policy drop; }
}
EOF
}
restore_link() { in_rtr nft delete table inet bgpcomm_cut; }

# speaker_metric LINE: the speaker's /metrics holds LINE (exactly, as a whole line).
speaker_metric() { in_spk curl -sf http://127.0.0.1:7472/metrics | grep -qxF "$1"; }

# log_ms "DATE TIME.mmm": milliseconds since the epoch of a log timestamp (local time, or
# ISO 8601 with Z as the speaker writes it; FRR's 2026/12/02 dates too).
log_ms() { date -d "${1//\//-}" +%s%3N; }

# speaker_stamps PATTERN: the epoch milliseconds of each speaker log line matching PATTERN.
speaker_stamps() {
  local ts
  { grep -- "$1" "$WORK/speaker.log" || true; } | sed -n 's/^ts=\([^ ]*\) .*/\1/p' | while read -r ts; do log_ms "$ts"; done
}

# time_cut PREFIX BUDGET_MS LOG_PATTERN: cuts the link (cut_link) and prints
# "RTR_MS SPK_MS ROUTE_MS", milliseconds from just before the cut until: the router ended the
# BGP session (its log: rtr_down_stamps), the speaker logged a line matching LOG_PATTERN
# (its log), and the router no longer holds PREFIX (rtr_attr, polled: an upper bound, as a
# router CLI call under load takes a few hundred milliseconds); "never" for what did not
# happen within BUDGET_MS. The logs carry milliseconds, so the first two are exact to the
# millisecond. The link stays cut (restore_link).
time_cut() {
  local prefix="$1" budget="$2" pattern="$3" family=ipv4 rtr_before spk_before start now route="" stamp
  local rtr=never spk=never
  [[ $prefix == *:* ]] && family=ipv6
  rtr_before=$(rtr_down_stamps | wc -l)
  spk_before=$(speaker_stamps "$pattern" | wc -l)
  start=$(date +%s%3N)
  cut_link
  while :; do
    now=$(date +%s%3N)
    if [ -z "$route" ] && ! rtr_attr "$family" "$prefix" present >/dev/null 2>&1; then
      route=$((now - start))
    fi
    if [ -n "$route" ] && (($(rtr_down_stamps | wc -l) > rtr_before)) &&
      (($(speaker_stamps "$pattern" | wc -l) > spk_before)); then
      break
    fi
    if ((now - start > budget)); then break; fi
    sleep 0.05
  done
  stamp=$(rtr_down_stamps | sed -n "$((rtr_before + 1))p")
  [ -n "$stamp" ] && rtr=$((stamp - start))
  stamp=$(speaker_stamps "$pattern" | sed -n "$((spk_before + 1))p")
  [ -n "$stamp" ] && spk=$((stamp - start))
  echo "$rtr $spk ${route:-never}"
}
