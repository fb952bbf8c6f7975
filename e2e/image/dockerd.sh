#!/usr/bin/env bash
# dockerd.sh start|stop|env: a private Docker engine for building and running bgpcomm's
# image on a machine where Debian's docker.io is installed but no engine runs.
#
#   start  starts dockerd unless one answers on our socket: its own data root under
#          BGPCOMM_CACHE (outside the work tree, so layers and the base image survive
#          between runs), exec root and socket under /run/bgpcomm-docker, no default
#          bridge, no iptables rules and no IP forwarding (nothing a container sends is
#          routed off the machine), and runc-caps as the default runtime (privileged
#          containers on a host whose bounding set lacks a capability). Idempotent.
#   stop   stops the dockerd started here (by pid) and waits for it.
#   env    prints DOCKER_HOST=... and DOCKER=... for eval.
#
# BGPCOMM_DOCKERD=kind selects a second engine for the kind cluster (e2e/kind/), with its
# own data root ($BGPCOMM_CACHE/kind/docker) and run dir (/run/bgpcomm-kind-docker), so
# that building the image and running a cluster never stop each other's engine.
set -euo pipefail
cache=${BGPCOMM_CACHE:-/var/cache/bgpcomm}
case ${BGPCOMM_DOCKERD:-image} in
  image) run_dir=/run/bgpcomm-docker data_root=$cache/docker ;;
  kind) run_dir=/run/bgpcomm-kind-docker data_root=$cache/kind/docker ;;
  *) echo "dockerd: BGPCOMM_DOCKERD must be image or kind" >&2; exit 2 ;;
esac
sock=unix://$run_dir/docker.sock
# Debian's client matches Debian's daemon; another docker on PATH may speak a newer API.
docker=/usr/bin/docker
[[ -x $docker ]] || docker=$(command -v docker || echo docker)
log() { echo "dockerd: $*" >&2; }

answers() { DOCKER_HOST=$sock "$docker" info >/dev/null 2>&1; }

case ${1:-} in
  start)
    command -v dockerd >/dev/null || { log "dockerd not found (make deps installs docker.io)"; exit 1; }
    answers && exit 0
    mkdir -p "$data_root" "$run_dir"
    # The runtime is copied out of the work tree: the engine may outlive a checkout. It
    # must not inherit the callers' lock descriptors (e2e/kind/run.sh's run.lock is fd 8,
    # e2e/tools/install.sh's fd 9): an engine that outlives its run would hold the lock.
    install -m 0755 "$(dirname "${BASH_SOURCE[0]}")/runc-caps" "$run_dir/runc-caps"
    log "starting (data root $data_root, log $run_dir/dockerd.log)"
    setsid dockerd --data-root "$data_root" --exec-root "$run_dir/exec" \
      --pidfile "$run_dir/dockerd.pid" -H "$sock" --bridge=none --iptables=false \
      --ip6tables=false --ip-forward=false \
      --add-runtime "bgpcomm-runc=$run_dir/runc-caps" --default-runtime bgpcomm-runc \
      >"$run_dir/dockerd.log" 2>&1 </dev/null 8>&- 9>&- &
    pid=$!
    for _ in $(seq 1 150); do
      answers && exit 0
      kill -0 "$pid" 2>/dev/null || { tail -20 "$run_dir/dockerd.log" >&2; log "exited"; exit 1; }
      sleep 0.2
    done
    log "no answer within 30 s (see $run_dir/dockerd.log)"
    exit 1
    ;;
  stop)
    pid=$(cat "$run_dir/dockerd.pid" 2>/dev/null || true)
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || exit 0
    kill "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.2; done
    log "pid $pid did not stop within 30 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
    ;;
  env)
    echo "DOCKER_HOST=$sock"
    echo "DOCKER=$docker"
    ;;
  *)
    echo "usage: dockerd.sh start|stop|env" >&2
    exit 2
    ;;
esac
