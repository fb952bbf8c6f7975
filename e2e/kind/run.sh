#!/usr/bin/env bash
# `make e2e-kind`: the end-to-end suites (e2e/suites/) against a kind cluster, with
# bgpcomm's images built from the Dockerfile and installed with the Helm chart.
#
# Needs Docker and kind, which this project's development machine does not have
# (see shared/TESTING.md), so it is not run by `make test`; there the same image is
# built and run in-cluster-style by the chart tests (e2e/image/, e2e/chart/).
# The suites are provider-agnostic: they read KUBECONFIG and stop/start the webhook
# through e2e/suites/provider/kind.bash (scale the Deployment).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cluster=${BGPCOMM_KIND_CLUSTER:-bgpcomm-e2e}

missing=()
command -v docker >/dev/null || missing+=(docker)
command -v kind >/dev/null || missing+=(kind)
if (( ${#missing[@]} )); then
  echo "e2e-kind: ${missing[*]} not found; this target needs Docker and kind." >&2
  echo "e2e-kind: on machines without them, run the same suites against the local control plane: ctest -L e2e" >&2
  exit 2
fi
if ! docker info >/dev/null 2>&1; then
  echo "e2e-kind: the Docker daemon is not reachable (docker info failed)." >&2
  exit 2
fi
. "$repo/e2e/tools/paths.sh"
image=bgpcomm:e2e
kubeconfig=$(mktemp)
cleanup() { kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; rm -f "$kubeconfig"; }
trap cleanup EXIT

IMAGE=$image "$repo/e2e/image/build.sh"  # build and check, as `make image` does
kind create cluster --name "$cluster" --kubeconfig "$kubeconfig" --wait 120s
kind load docker-image "$image" --name "$cluster"
export KUBECONFIG=$kubeconfig
"$HELM" install bgpcomm "$repo/charts/bgpcomm" --namespace metallb-system --create-namespace \
  --set image.repository=bgpcomm --set image.tag=e2e --wait --timeout 5m

export BGPCOMM_E2E_PROVIDER=kind
bats --formatter tap "$repo"/e2e/suites/*.bats
