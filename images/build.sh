#!/usr/bin/env bash
# `npm run images`: builds the runtime, controller and registry images from the Dockerfile without a Docker daemon
# (buildah --isolation chroot, FROM the locally made base of base-image.sh), exports each as an OCI archive, and
# imports them into the test node's containerd when one is running.
#   bash images/build.sh                 # all three
#   bash images/build.sh runtime         # one (runtime, controller or registry)
# Environment: SLUICE_CACHE (base image and archives, default ~/.cache/sluice), BASE (a base image instead of the
# local one), CONTAINERD_ADDRESS (default /run/containerd/containerd.sock), SLUICE_IMAGES_REVISION (build that commit,
# for example HEAD, from `git archive` instead of the working tree: a tree with edits in progress may not build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOURCE=$ROOT
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)
if [[ -n ${SLUICE_IMAGES_REVISION:-} ]]; then
  REVISION=$(git -C "$ROOT" rev-parse --verify "$SLUICE_IMAGES_REVISION^{commit}")
  SOURCE=$(mktemp -d)
  trap 'rm -rf "$SOURCE"' EXIT
  git -C "$ROOT" archive "$REVISION" | tar -x -C "$SOURCE"
fi
VERSION=$(node -p "require('$SOURCE/package.json').version")
CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}/images
ARCHIVES=$CACHE/archives
CONTAINERD_ADDRESS=${CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}
# The chart's and the controller's default image names (charts/sluice/values.yaml, controller/src/manager.ts)...
PUBLISHED=ghcr.io/sluice
# ...and the local names, for a StreamJob's spec.image or --set controller.image.repository.
LOCAL=localhost
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(runtime controller registry)

log() { echo "images: $*"; }

for target in "${TARGETS[@]}"; do
  case $target in
    runtime | controller | registry) ;;
    *) echo "images: no image named '$target': name runtime, controller or registry (or none for all three)" >&2; exit 2 ;;
  esac
done
command -v buildah >/dev/null || { echo "images: buildah is missing: run bash test/env/install/container-packages.sh" >&2; exit 1; }

started=$(date +%s)
if [[ -z ${BASE:-} ]]; then
  BASE=$(bash "$ROOT/images/base-image.sh")
fi

build_args=(--build-arg "BASE=$BASE" --build-arg "VERSION=$VERSION"
  --label "org.opencontainers.image.revision=$REVISION"
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" --label "org.opencontainers.image.base.name=$BASE")
# Where the egress re-signs TLS, npm ci inside the build trusts the host's CA bundle: mounted for the RUN steps
# only, never copied into an image.
if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -f $NODE_EXTRA_CA_CERTS ]]; then
  build_args+=(-v "$NODE_EXTRA_CA_CERTS:/run/sluice-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/sluice-build-ca.crt)
fi

# The test node's containerd comes and goes with env:up/env:down: asked before each import.
containerd_up() { command -v ctr >/dev/null && ctr --address "$CONTAINERD_ADDRESS" version >/dev/null 2>&1; }
imported=0
import_failed=()

mkdir -p "$ARCHIVES"
for target in "${TARGETS[@]}"; do
  published=$PUBLISHED/sluice-$target:$VERSION
  local_name=$LOCAL/sluice-$target:$VERSION
  t0=$(date +%s)
  # --layers: the stages the three targets share (dependencies, build) are built once and reused by the next run.
  buildah bud --isolation chroot --layers --quiet "${build_args[@]}" --target "$target" \
    -t "$local_name" -t "$published" -f "$SOURCE/Dockerfile" "$SOURCE" >/dev/null
  archive=$ARCHIVES/sluice-$target-$VERSION.tar
  rm -f "$archive"
  buildah push -q "$published" "oci-archive:$archive:$published"
  log "$local_name and $published built in $(($(date +%s) - t0)) s; OCI archive $archive"
  containerd_up || continue
  if ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images import "$archive" >/dev/null &&
    ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images tag --force "$published" "$local_name" >/dev/null; then
    log "imported into containerd (k8s.io) as $published and $local_name"
    imported=$((imported + 1))
  else
    import_failed+=("$archive")
  fi
done
log "done in $(($(date +%s) - started)) s"
if ((${#import_failed[@]})); then
  echo "images: containerd on $CONTAINERD_ADDRESS stopped answering during the import: import again with ctr -n k8s.io images import ${import_failed[*]}" >&2
  exit 1
fi
((imported == ${#TARGETS[@]})) || log "not all imported (no containerd answered on $CONTAINERD_ADDRESS): import with ctr -n k8s.io images import $ARCHIVES/<image>.tar"
