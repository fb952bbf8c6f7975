#!/usr/bin/env bash
# Small queries about the kind cluster of up.sh, for the suites (e2e/suites/provider/kind.bash):
#
#   kind.sh nodes            the nodes' names, one a line
#   kind.sh control-plane    the control-plane node's name
#   kind.sh workers          the workers' names, one a line
#   kind.sh ip NODE          the node's IPv4 address on the kind network
# (all from Docker: they answer while kube-apiserver is away)
#   kind.sh docker ARGS...   the kind engine's docker client (e.g. docker exec NODE ...)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cmd=${1:-}; shift || true
case $cmd in
  nodes) kind_ get nodes --name "$KIND_CLUSTER" | sort ;;
  control-plane) kind_ get nodes --name "$KIND_CLUSTER" | grep -- '-control-plane$' ;;
  workers) kind_ get nodes --name "$KIND_CLUSTER" | grep -v -- '-control-plane$' | sort ;;
  ip) docker inspect -f "{{(index .NetworkSettings.Networks \"$KIND_NETWORK\").IPAddress}}" "${1:?NODE}" ;;
  docker) docker "$@" ;;
  *) kdie "usage: kind.sh nodes|control-plane|workers|ip NODE|docker ARGS..." ;;
esac
