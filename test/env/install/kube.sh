#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from the Go module proxy into the sluice cache.
set -euo pipefail

# Pinned versions; test/env/src/kube.ts reads these two lines to find the binaries.
KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.16

CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=$CACHE/kube/$KUBE_VERSION
BIN=$DIR/bin
STAMP="kubernetes $KUBE_VERSION etcd $ETCD_VERSION"

warm() {
  [[ -x $BIN/kube-apiserver && -x $BIN/kube-controller-manager && -x $BIN/etcd ]] &&
    [[ -f $BIN/.stamp && $(<"$BIN/.stamp") == "$STAMP" ]]
}

if warm; then
  echo "kube: $STAMP already built in $BIN"
  exit 0
fi

# packages.sh accepts a Go unpacked in /usr/local/go that is not on PATH.
PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "kube: Go >= 1.25 is not installed; bash test/env/install/packages.sh says how to install it" >&2; exit 1; }
mkdir -p "$BIN"
# Two concurrent installs would race on the wrapper modules and the binaries.
exec 9>"$DIR/.lock"
flock 9
if warm; then
  echo "kube: $STAMP built by a concurrent install in $BIN"
  exit 0
fi

export GOFLAGS=-mod=mod
MINOR=${KUBE_VERSION#v1.}
MINOR=${MINOR%%.*}
STAGING_VERSION=v0.${KUBE_VERSION#v1.}

# k8s.io/kubernetes replaces its staging modules with ./staging/...; a wrapper module points each at its published release.
kube_wrapper() {
  local dir=$DIR/kubernetes-wrapper
  mkdir -p "$dir"
  echo "kube: reading the staging modules from k8s.io/kubernetes@$KUBE_VERSION's go.mod"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || { echo "kube: could not download k8s.io/kubernetes@$KUBE_VERSION's go.mod from the module proxy (GOPROXY=$(go env GOPROXY))" >&2; exit 1; }
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/.*#\1#p' "$gomod")
  [[ -n $staging ]] || { echo "kube: found no staging replace directives in $gomod" >&2; exit 1; }
  {
    echo "module sluice.local/kube-wrapper"
    echo
    # The same go and godebug lines as upstream, so the binaries keep the release's runtime behaviour.
    grep -E '^(go|godebug) ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    local module
    for module in $staging; do echo "	$module => $module $STAGING_VERSION"; done
    echo ")"
  } >"$dir/go.mod"
  echo "kube: wrapper module with $(wc -w <<<"$staging") staging replacements at $STAGING_VERSION in $dir"
}

etcd_wrapper() {
  local dir=$DIR/etcd-wrapper
  mkdir -p "$dir"
  printf 'module sluice.local/etcd-wrapper\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$dir/go.mod"
}

# Same version stamps as hack/lib/version.sh, so /version and the compatibility checks see the real release.
kube_ldflags() {
  local flags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

build() {
  local dir=$1 pkg=$2 out=$3 ldflags=$4 start
  start=$(date +%s)
  echo "kube: building $out from $pkg (cold builds take many minutes on 2 cores)"
  (cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$BIN/$out.tmp" "$pkg")
  mv "$BIN/$out.tmp" "$BIN/$out"
  echo "kube: built $out in $(($(date +%s) - start)) s ($(du -h "$BIN/$out" | cut -f1))"
}

rm -f "$BIN/.stamp"
etcd_wrapper
build "$DIR/etcd-wrapper" go.etcd.io/etcd/server/v3 etcd "-s -w"
kube_wrapper
build "$DIR/kubernetes-wrapper" k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$(kube_ldflags)"
build "$DIR/kubernetes-wrapper" k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$(kube_ldflags)"
echo "$STAMP" >"$BIN/.stamp"
echo "kube: $STAMP ready in $BIN"
