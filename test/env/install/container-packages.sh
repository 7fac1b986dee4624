#!/usr/bin/env bash
# Installs what `npm run images` needs to build OCI images without a daemon: buildah, skopeo, umoci, debootstrap (Debian 12).
# containerd and runc, which run the images on the real test node, are real-node.sh's.
set -euo pipefail

# buildah builds from the Dockerfile (--isolation chroot: no daemon, no runc); debootstrap makes the base image's
# Debian root; skopeo and umoci inspect and unpack OCI archives; tini is not here: the image installs its own.
PACKAGES=(buildah skopeo umoci debootstrap)

missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]} == 0)); then
  echo "container-packages: ${PACKAGES[*]} already installed"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "container-packages: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2; exit 1; }
((EUID == 0)) || { echo "container-packages: installing ${missing[*]} needs root; run this script as root or apt-get install them" >&2; exit 1; }
# Other helpers' installs may hold the dpkg lock for a while: wait for it instead of failing.
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
echo "container-packages: installing ${missing[*]}"
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "container-packages: installed ${missing[*]}"
