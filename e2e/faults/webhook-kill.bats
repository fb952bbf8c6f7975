#!/usr/bin/env bats
# kill -9 of the cluster's webhook during a stream of kubectl applies, a mix of good and
# bad BGPAdvertisements and Communities. With failurePolicy: Fail no bad object is
# admitted at any point; after the webhook is back, retrying what failed during the
# outage admits every good one, stored with its resolved annotation, and no bad one
# exists. Local provider only (it kills the process by pid).

load ../suites/helpers

N=24            # objects in the stream: good and bad advertisements and Communities
KILL_AT=6       # kill -9 before this one
RESTART_AT=14   # start the webhook again (in the background) before this one
WANT_ANNOTATION='{"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]}'

setup_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || skip "local provider only"
  require_cluster
  clean_ns "$NS"
  k apply -f "$E2E_WALKTHROUGH/01-community.yaml" -f "$E2E_WALKTHROUGH/02-ip-pool.yaml" >/dev/null
}

teardown_file() {
  [[ $BGPCOMM_E2E_PROVIDER == local ]] || return 0
  provider_webhook_start
  clean_ns "$NS"
}

# object I: the I-th object of the stream (YAML) and, in $KIND_NAME, its kind/name.
# i % 4: 0 good advertisement, 1 bad advertisement, 2 good Community, 3 bad Community.
object() {
  local i=$1
  case $((i % 4)) in
    0) KIND_NAME=bgpadvertisement/fault-good-$i; cat <<YAML ;;
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: fault-good-$i, namespace: $NS}
spec:
  ipAddressPools: [production-pool]
  communities: [primary-route, region-us-east]
YAML
    1) KIND_NAME=bgpadvertisement/fault-bad-$i; cat <<YAML ;;
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: fault-bad-$i, namespace: $NS}
spec:
  ipAddressPools: [production-pool]
  communities: [primary-route, "64512:70000"]
YAML
    2) KIND_NAME=community/fault-good-$i; cat <<YAML ;;
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: fault-good-$i, namespace: $NS}
spec:
  communities: [{name: fault-$i, value: "64512:$((1000 + i))"}]
YAML
    3) KIND_NAME=community/fault-bad-$i; cat <<YAML ;;
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: fault-bad-$i, namespace: $NS}
spec:
  communities: [{name: fault-$i, value: "64512:$((70000 + i))"}]
YAML
  esac
}

# apply_one I: applies object I; prints admitted, denied, unreachable or other:TEXT.
apply_one() {
  local out
  object "$1" >"$BATS_FILE_TMPDIR/obj-$1.yaml"
  if out=$(k apply -f "$BATS_FILE_TMPDIR/obj-$1.yaml" 2>&1); then echo admitted
  elif [[ $out == *"failed calling webhook"* ]]; then echo unreachable
  elif [[ $out == *"denied the request"* ]]; then echo denied
  else echo "other:$out"
  fi
}

bad_ones_stored() {
  k get bgpadvertisements,communities -n "$NS" -o name | grep -c 'fault-bad-' || true
}

@test "stream through kill -9 and restart: no bad object ever admitted; every good one after retry" {
  . "$E2E_REPO/e2e/cluster/lib.sh"
  local i outcome restart_pid= failed_good=() counts=()
  declare -A n=([admitted]=0 [denied]=0 [unreachable]=0)
  for ((i = 0; i < N; i++)); do
    if ((i == KILL_AT)); then
      local pid; pid=$(state_get WEBHOOK_PID)
      pid_is "$pid" "$BGPCOMM_BIN_DIR/bgpcomm-webhook"
      kill -KILL "$pid"
    fi
    if ((i == RESTART_AT)); then
      "$E2E_REPO/e2e/cluster/webhook.sh" start >"$BATS_FILE_TMPDIR/restart.log" 2>&1 &
      restart_pid=$!
    fi
    outcome=$(apply_one "$i")
    object "$i" >/dev/null
    echo "$i $KIND_NAME $outcome"
    [[ $outcome != other:* ]] || fail "unexpected answer for $KIND_NAME: ${outcome#other:}"
    n[$outcome]=$(( ${n[$outcome]} + 1 ))
    if [[ $KIND_NAME == *fault-bad-* ]]; then
      [[ $outcome != admitted ]] || fail "bad object $KIND_NAME admitted ($outcome)"
      [[ $(bad_ones_stored) == 0 ]] || fail "a bad object is stored"
    elif [[ $outcome != admitted ]]; then
      [[ $outcome == unreachable ]] || fail "good object $KIND_NAME: $outcome"
      failed_good+=("$i")
    fi
  done
  wait "$restart_pid" || { cat "$BATS_FILE_TMPDIR/restart.log"; fail "webhook restart failed"; }
  echo "# stream: admitted=${n[admitted]} denied=${n[denied]} unreachable=${n[unreachable]}; retrying ${#failed_good[@]} good objects" >&3
  # The outage was hit, and only good objects were admitted before and after it.
  ((n[unreachable] >= RESTART_AT - KILL_AT))
  ((n[denied] > 0))
  for i in "${failed_good[@]}"; do
    outcome=$(apply_one "$i")
    [[ $outcome == admitted ]] || fail "retry of object $i: $outcome"
  done
  # Nothing lost: every good object stored, advertisements with their resolution.
  for ((i = 0; i < N; i++)); do
    case $((i % 4)) in
      0) run resolution_of "fault-good-$i"; assert_success; assert_output "$WANT_ANNOTATION" ;;
      2) run k get community "fault-good-$i" -n "$NS" -o 'jsonpath={.spec.communities[0].value}'
         assert_output "64512:$((1000 + i))" ;;
    esac
  done
  run bad_ones_stored
  assert_output 0
}
