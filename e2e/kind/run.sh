#!/usr/bin/env bash
# `make e2e-kind` (and ctest's test `kind`, label kind): up.sh, every e2e/suites/*.bats with
# BGPCOMM_E2E_PROVIDER=kind, the kind-only suites e2e/kind/*.bats, then down.sh, on every
# exit path. One line per step and per suite with its time; on a failure, the failing
# tests, the log to read and the cluster's logs (kind export logs). A skipped test fails
# the run: every check has a kind form.
#
#   e2e/kind/run.sh [SUITE.bats...]    (default: all of them)
#
# BGPCOMM_KIND_KEEP=1 leaves the cluster running afterwards (e2e/kind/down.sh removes it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
t_start=$SECONDS
# One kind cluster per machine (fixed addresses, 2 cores): runs from other work trees wait.
mkdir -p "$BGPCOMM_CACHE/kind"
exec 8>"$BGPCOMM_CACHE/kind/run.lock"
if ! flock -n 8; then
  klog "another e2e-kind run holds $BGPCOMM_CACHE/kind/run.lock; waiting for it"
  flock 8
fi
# A previous run's logs are of no use now.
rm -rf "$KIND_LOGS"
mkdir -p "$KIND_LOGS"
# What this prints is kept too (ctest shows a passing test's output to no one).
exec 2> >(tee -a "$KIND_LOGS/run.log" >&2)

failed=0
finish() {
  local rc=$?
  (( rc == 0 && failed == 0 )) || rc=1
  if (( rc )) && [[ -f $KIND_STATE/kubeconfig ]]; then
    PATH=$KIND_STATE/bin:$PATH kind_ export logs "$KIND_LOGS/kind-export" --name "$KIND_CLUSTER" \
      >/dev/null 2>&1 && klog "cluster logs (journals, pods): $KIND_LOGS/kind-export/"
  fi
  if [[ ${BGPCOMM_KIND_KEEP:-0} == 1 ]]; then
    klog "BGPCOMM_KIND_KEEP=1: cluster left running (export KUBECONFIG=$KIND_STATE/kubeconfig; e2e/kind/down.sh)"
  else
    step down "$here/down.sh" || true
  fi
  klog "e2e-kind: $( (( rc )) && echo FAILED || echo ok ) in $(( SECONDS - t_start )) s"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

"$here/up.sh" >"$KIND_LOGS/up.log" 2>&1 || {
  rc=$?
  grep '^kind: ' "$KIND_LOGS/up.log" >&2 || true
  klog "up.sh failed (exit $rc); log: $KIND_LOGS/up.log"
  exit "$rc"
}
grep '^kind: ' "$KIND_LOGS/up.log" >&2 || true

export KUBECONFIG=$KIND_STATE/kubeconfig BGPCOMM_E2E_PROVIDER=kind
export KUBECTL=$KUBE_BIN_DIR/kubectl
# The speaker suite's node (e2e/suites/provider/kind.bash), asked once.
PROVIDER_SPEAKER_NODE=$("$here/kind.sh" workers | head -n1)
PROVIDER_SPEAKER_IP=$("$here/kind.sh" ip "$PROVIDER_SPEAKER_NODE")
export PROVIDER_SPEAKER_NODE PROVIDER_SPEAKER_IP
command -v bats >/dev/null || kdie "bats is not installed (make deps)"

if (( $# )); then suites=("$@")
else
  # helm.bats last: it uninstalls the release (and installs it again).
  suites=("$BGPCOMM_REPO"/e2e/suites/*.bats)
  for f in "$here"/*.bats; do [[ $f == */helm.bats ]] || suites+=("$f"); done
  suites+=("$here/helm.bats")
fi
passed_total=0 failed_total=0
for suite in "${suites[@]}"; do
  name=$(basename "$suite" .bats)
  [[ $suite == "$here"/* ]] && name=kind-$name
  log=$KIND_LOGS/suite-$name.log
  t0=$SECONDS
  rc=0
  # dual-stack: cases that need Services of both families; the kind cluster is single-stack.
  bats --formatter tap --filter-tags '!dual-stack' "$suite" >"$log" 2>&1 || rc=$?
  ok=$(grep -c '^ok ' "$log" || true)
  skipped=$(grep -c '^ok .* # skip' "$log" || true)
  not_ok=$(grep -c '^not ok ' "$log" || true)
  passed_total=$(( passed_total + ok - skipped ))
  failed_total=$(( failed_total + not_ok + skipped ))
  if (( rc || not_ok || skipped )) || ! grep -q '^1\.\.' "$log"; then
    failed=1
    klog "suite $name: FAILED ($(( ok - skipped )) passed, $not_ok failed, $skipped skipped, $(( SECONDS - t0 )) s); log: $log"
    # Each failing test with the first lines of what it printed (bats' "# " lines), so
    # that a failure is understood from this output alone, where the log is gone.
    awk '/^not ok |^ok .* # skip/ { print; n = 0; keep = /^not ok /; next }
         keep && /^# / && n < 15 { print; n++; next } { keep = keep && /^# / }' "$log" |
      sed 's/^/  | /' >&2 || true
    (( rc == 0 || not_ok || skipped )) || tail -n 15 "$log" | sed 's/^/  | /' >&2
  else
    klog "suite $name: $ok passed ($(( SECONDS - t0 )) s)"
  fi
done
echo "e2e-kind: $passed_total passed, $failed_total failed" | tee -a "$KIND_LOGS/run.log"
