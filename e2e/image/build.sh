#!/usr/bin/env bash
# `make image`: builds bgpcomm's image from the Dockerfile and checks it, on a machine
# with Debian's docker.io installed but no Docker engine running and no registry.
#
#   - uses the Docker engine at DOCKER_HOST when one answers; otherwise starts a private
#     one (dockerd.sh: its own data root in the cache, so layers survive between runs) and
#     stops it on exit unless KEEP_DOCKERD=1;
#   - uses the base image the Dockerfile's FROM names (debian:bookworm-slim) if present or
#     pullable, else makes it with `debootstrap --variant=minbase` from the host's Debian
#     mirror, once, and keeps its tarball in the cache (base.sh);
#   - builds with --network host (the build installs Debian packages);
#   - checks the image: a numeric non-root USER, both daemons and the CLI present, and
#     `bgpcomm-webhook --help`, `bgpcomm-speaker --help`, `bgpcomm --help` run inside it
#     as that user with no network.
#
# Environment: IMAGE (default bgpcomm:dev), BGPCOMM_VERSION (default from the chart),
# BUILD_JOBS (default nproc), BGPCOMM_CACHE (default /var/cache/bgpcomm),
# KEEP_DOCKERD=1 leaves a dockerd this script started running.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${BGPCOMM_CACHE:-/var/cache/bgpcomm}
version=${BGPCOMM_VERSION:-$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' "$repo/charts/bgpcomm/Chart.yaml")}
image=${IMAGE:-bgpcomm:dev}
jobs=${BUILD_JOBS:-$(nproc)}
base=debian:bookworm-slim

log() { echo "image: $*" >&2; }
die() { log "$*"; exit 1; }

here=$(dirname "${BASH_SOURCE[0]}")
started=0
if ! { [[ -n ${DOCKER_HOST:-} ]] && "${DOCKER:-docker}" info >/dev/null 2>&1; }; then
  eval "$("$here/dockerd.sh" env)"
  export DOCKER_HOST
  if ! "$DOCKER" info >/dev/null 2>&1; then
    "$here/dockerd.sh" start
    started=1
  fi
fi
docker=${DOCKER:-docker}
stop_dockerd() { (( started )) && [[ ${KEEP_DOCKERD:-0} != 1 ]] && "$here/dockerd.sh" stop || true; }
trap stop_dockerd EXIT

# The base image: present, pulled (where a registry resolves), else made here (base.sh).
DOCKER=$docker "$here/base.sh"

log "building $image (version $version, $jobs jobs)"
"$docker" build --network host --build-arg BGPCOMM_VERSION="$version" --build-arg BUILD_JOBS="$jobs" \
  -t "$image" "$repo"

# The previous build of this tag is now dangling; keep the cache from growing.
"$docker" image prune -f >/dev/null

user=$("$docker" image inspect -f '{{.Config.User}}' "$image")
[[ $user =~ ^[0-9]+(:[0-9]+)?$ ]] || die "USER is '$user', expected a numeric uid[:gid]"
[[ ${user%%:*} != 0 ]] || die "USER is root"
run() { "$docker" run --rm --network none "$@"; }
uid=$(run --entrypoint /usr/bin/id "$image" -u)
[[ $uid == "${user%%:*}" && $uid != 0 ]] || die "the container runs as uid $uid"
for binary in bgpcomm-webhook bgpcomm-speaker bgpcomm; do
  run --entrypoint "/usr/local/bin/$binary" "$image" --help >/dev/null ||
    die "$binary --help failed inside $image"
done
label=$("$docker" image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image")
[[ $label == "$version" ]] || die "image version label is '$label', expected $version"
size=$("$docker" image inspect -f '{{.Size}}' "$image")
log "ok: $image runs as uid $uid, holds bgpcomm-webhook, bgpcomm-speaker and bgpcomm, $((size / 1048576)) MiB"
