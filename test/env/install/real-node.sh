#!/usr/bin/env bash
# Installs what the real test node needs: Debian's containerd, runc, CNI plugins, iptables and conntrack,
# and kubelet, kube-scheduler, kube-proxy, kubectl and crictl built from the Go module proxy into the sluice cache.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The same pinned Kubernetes version as the API server: kube.sh is the one place it is written.
KUBE_VERSION=$(sed -n 's/^KUBE_VERSION=//p' "$HERE/kube.sh")
# cri-tools v1.35.0 is not on the module proxy; crictl v1.34 speaks the same CRI v1 API.
CRICTL_VERSION=v1.34.0

CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=$CACHE/kube/$KUBE_VERSION
BIN=$DIR/bin
TOOLS=(kubelet kube-scheduler kube-proxy kubectl crictl)
STAMP="real node kubernetes $KUBE_VERSION crictl $CRICTL_VERSION"
STAMP_FILE=$BIN/.real-node-stamp
PACKAGES=(containerd runc containernetworking-plugins iptables conntrack)

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    echo "real-node: Debian packages ${PACKAGES[*]} already installed"
    return
  fi
  ((EUID == 0)) || { echo "real-node: installing ${missing[*]} needs root; run this script as root or apt-get install them" >&2; exit 1; }
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
  echo "real-node: installing ${missing[*]}"
  "${apt[@]}" update -qq
  # Debian's containerd package would start a daemon only under systemd; the test env starts its own.
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "real-node: installed ${missing[*]}"
}

warm() {
  local tool
  for tool in "${TOOLS[@]}"; do [[ -x $BIN/$tool ]] || return 1; done
  [[ -f $STAMP_FILE && $(<"$STAMP_FILE") == "$STAMP" ]]
}

install_packages
if warm; then
  echo "real-node: $STAMP already built in $BIN"
  exit 0
fi

# packages.sh accepts a Go unpacked in /usr/local/go that is not on PATH.
PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "real-node: Go >= 1.25 is not installed; bash test/env/install/packages.sh says how to install it" >&2; exit 1; }
# The wrapper module that points k8s.io/kubernetes' staging modules at their releases is kube.sh's.
bash "$HERE/kube.sh"
mkdir -p "$BIN"
# Shares kube.sh's lock: both write into the same wrapper module and bin directory.
exec 9>"$DIR/.lock"
flock 9
if warm; then
  echo "real-node: $STAMP built by a concurrent install in $BIN"
  exit 0
fi

export GOFLAGS=-mod=mod
MINOR=${KUBE_VERSION#v1.}
MINOR=${MINOR%%.*}

# Same version stamps as kube.sh (and hack/lib/version.sh): the kubelet reports them to the API server.
kube_ldflags() {
  local flags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

build() {
  local dir=$1 pkg=$2 out=$3 ldflags=$4 start
  if [[ -x $BIN/$out && -f $BIN/.$out.version && $(<"$BIN/.$out.version") == "$5" ]]; then
    echo "real-node: $out $5 already built"
    return
  fi
  start=$(date +%s)
  echo "real-node: building $out from $pkg (cold builds take many minutes on 2 cores)"
  (cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$BIN/$out.tmp" "$pkg")
  mv "$BIN/$out.tmp" "$BIN/$out"
  echo "$5" >"$BIN/.$out.version"
  echo "real-node: built $out in $(($(date +%s) - start)) s ($(du -h "$BIN/$out" | cut -f1))"
}

crictl_wrapper() {
  local dir=$DIR/crictl-wrapper
  mkdir -p "$dir"
  printf 'module sluice.local/crictl-wrapper\n\ngo 1.26.0\n\nrequire sigs.k8s.io/cri-tools %s\n' "$CRICTL_VERSION" >"$dir/go.mod"
}

rm -f "$STAMP_FILE"
for tool in kubelet kube-scheduler kube-proxy kubectl; do
  build "$DIR/kubernetes-wrapper" "k8s.io/kubernetes/cmd/$tool" "$tool" "$(kube_ldflags)" "$KUBE_VERSION"
done
crictl_wrapper
build "$DIR/crictl-wrapper" sigs.k8s.io/cri-tools/cmd/crictl crictl "-s -w" "$CRICTL_VERSION"
echo "$STAMP" >"$STAMP_FILE"
echo "real-node: $STAMP ready in $BIN"
