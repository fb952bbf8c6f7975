#!/usr/bin/env bash
# Compares the chart's CRDs with MetalLB's (config/crd/bases of the Go module
# go.universe.tf/metallb at METALLB_VERSION, e2e/tools/versions.sh) and fails on any field
# of a kind bgpcomm serves that the chart lacks. The module comes from the Go module
# proxy through `go mod download`, as e2e/tools fetch theirs, into the module cache.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$repo/e2e/tools/versions.sh"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
command -v go >/dev/null || { echo "crd-parity: 'go' not found (make deps installs it)" >&2; exit 1; }
dir=$(cd "${TMPDIR:-/tmp}" && go mod download -json "go.universe.tf/metallb@${METALLB_VERSION}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin).get("Dir", ""))')
[[ -d $dir/config/crd/bases ]] ||
  { echo "crd-parity: go.universe.tf/metallb@${METALLB_VERSION} has no config/crd/bases" >&2; exit 1; }
exec python3 "$repo/scripts/crd_fields.py" "$dir/config/crd/bases" "$repo/charts/bgpcomm/crds"
