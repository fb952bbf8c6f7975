#!/usr/bin/env bats
# 1,000 aliases (100 Communities of 10) and 1,000 BGPAdvertisements (each referencing
# two aliases and a literal) apply cleanly in a few multi-document files, and every
# advertisement stores its resolution. Prints the apiserver's admission latency for
# bgpcomm's webhooks over this run (p50/p99 from the histogram buckets) and writes it
# to $BGPCOMM_E2E_RESULTS (default: a file in the bats run directory) for
# bench/RESULTS.md.

load helpers

setup_file() {
  require_cluster
  clean_ns "$NS"
}

teardown_file() {
  clean_ns "$NS"
}

@test "1,000 aliases and 1,000 advertisements apply cleanly" {
  local dir=$BATS_FILE_TMPDIR c a i
  for (( c = 0; c < 100; c++ )); do
    printf -- '---\napiVersion: metallb.io/v1beta1\nkind: Community\nmetadata:\n  name: scale-%03d\n  namespace: %s\nspec:\n  communities:\n' "$c" "$NS"
    for (( a = 0; a < 10; a++ )); do
      i=$(( c * 10 + a ))
      printf '    - name: alias-%04d\n      value: "64512:%d"\n' "$i" "$(( i + 1 ))"
    done
  done >"$dir/communities.yaml"
  for (( i = 0; i < 1000; i++ )); do   # 4 files of 250
    printf -- '---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: scale-%04d\n  namespace: %s\nspec:\n  ipAddressPools: [scale-pool-%04d]\n  communities: [alias-%04d, alias-%04d, "large:64512:1:%d"]\n' \
      "$i" "$NS" "$i" "$i" "$(( (i + 1) % 1000 ))" "$i" >>"$dir/advertisements-$(( i / 250 )).yaml"
  done

  k get --raw /metrics >"$dir/metrics.before"
  local t0=$SECONDS
  run k apply --server-side -f "$dir/communities.yaml"
  assert_success
  refute_output --partial denied
  for f in "$dir"/advertisements-*; do
    run k apply --server-side -f "$f"
    assert_success
    refute_output --partial denied
  done
  echo "# applied 100 Communities and 1000 BGPAdvertisements in $(( SECONDS - t0 )) s" >&3

  run bash -c "'$KUBECTL' get communities -n $NS -o name | wc -l"
  assert_output 100
  run bash -c "'$KUBECTL' get bgpadvertisements -n $NS -o name | wc -l"
  assert_output 1000
}

@test "every advertisement stores its resolution" {
  run resolution_of scale-0007
  assert_output '{"from":["alias-0007","alias-0008","large:64512:1:7"],"communities":["64512:8","64512:9","large:64512:1:7"]}'
  run resolution_of scale-0999
  assert_output '{"from":["alias-0999","alias-0000","large:64512:1:999"],"communities":["64512:1000","64512:1","large:64512:1:999"]}'
  k get bgpadvertisements -n "$NS" \
    -o jsonpath='{range .items[*]}{.metadata.annotations.bgpcomm\.io/resolved-communities}{"\n"}{end}' \
    >"$BATS_TEST_TMPDIR/resolutions"
  run grep -c '"communities":\["64512:[0-9]*","64512:[0-9]*","large:64512:1:[0-9]*"\]}$' \
    "$BATS_TEST_TMPDIR/resolutions"
  assert_output 1000
}

@test "admission latency of bgpcomm's webhooks (apiserver histogram)" {
  local out=${BGPCOMM_E2E_RESULTS:-$BATS_RUN_TMPDIR/admission-latency.txt}
  run "$BATS_TEST_DIRNAME/lib/admission-latency.sh" "$BATS_FILE_TMPDIR/metrics.before"
  assert_success
  assert_output --partial 'validate-bgpadvertisement.bgpcomm.io validating count=1000 '
  assert_output --partial 'mutate-bgpadvertisement.bgpcomm.io admit count=1000 '
  printf '%s\n' "$output" >"$out"
  sed 's/^/# /' <<<"$output" >&3
}
