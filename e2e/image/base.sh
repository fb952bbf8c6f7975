#!/usr/bin/env bash
# Makes sure the Docker engine at DOCKER_HOST (client: $DOCKER) holds debian:bookworm-slim,
# the base of bgpcomm's image (Dockerfile) and of the kind images (e2e/kind/): present;
# else pulled where Docker Hub resolves; else made here with
# `debootstrap --variant=minbase bookworm`, once, kept as a tarball in the cache and
# imported. The Debian mirror is the one this host's apt is configured with.
#
# Env: BGPCOMM_CACHE (default /var/cache/bgpcomm).
set -euo pipefail
cache=${BGPCOMM_CACHE:-/var/cache/bgpcomm}
docker=${DOCKER:-docker}
base=debian:bookworm-slim
log() { echo "base: $*" >&2; }
die() { log "$*"; exit 1; }

"$docker" image inspect "$base" >/dev/null 2>&1 && exit 0
if timeout 5 getent hosts registry-1.docker.io >/dev/null 2>&1 &&
   timeout 120 "$docker" pull -q "$base" >/dev/null 2>&1; then
  exit 0
fi

# The Debian mirror of this host's apt sources (sources.list or deb822 .sources).
debian_mirror() {
  local uri
  uri=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 'Origin: Debian' \
          'Component: main' 'Codename: bookworm' 2>/dev/null | head -n1)
  [[ -n $uri ]] || uri=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' \
          'Origin: Debian' 'Component: main' 2>/dev/null | grep -v -- '-security' | head -n1)
  [[ -n $uri ]] || return 1
  echo "$uri"
}

tarball=$cache/images/bookworm-minbase.tar
mkdir -p "$cache/images"
exec 9>"$cache/images/.base.lock"
flock 9  # one debootstrap at a time per cache
if [[ ! -s $tarball ]]; then
  command -v debootstrap >/dev/null || die "debootstrap not found (make deps installs it)"
  mirror=$(debian_mirror) ||
    die "no Debian mirror in this host's apt configuration (apt-get indextargets; run apt-get update)"
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  t0=$SECONDS
  log "debootstrap --variant=minbase bookworm from $mirror (once; cached as $tarball)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -20 "$cache/debootstrap.log" >&2
    rm -rf "$rootfs"
    die "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . >"$tarball.tmp" && mv "$tarball.tmp" "$tarball"
  rm -rf "$rootfs"
  log "debootstrap took $(( SECONDS - t0 )) s"
fi
log "importing $tarball as $base"
"$docker" import "$tarball" "$base" >/dev/null
