#!/usr/bin/env bash
# Builds the helm CLI from the Go module proxy into the sluice cache, for the chart tests (helm lint, helm template).
set -euo pipefail

# Pinned version; test/env/src/helm.ts reads this line to find the binary.
HELM_VERSION=v3.22.0

CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=$CACHE/helm/$HELM_VERSION
BIN=$DIR/bin

warm() {
  [[ -x $BIN/helm && -f $BIN/.stamp && $(<"$BIN/.stamp") == "helm $HELM_VERSION" ]]
}

if warm; then
  echo "helm: $HELM_VERSION already built in $BIN"
  exit 0
fi

# packages.sh accepts a Go unpacked in /usr/local/go that is not on PATH.
PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "helm: Go >= 1.26 is not installed; bash test/env/install/packages.sh says how to install it" >&2; exit 1; }
mkdir -p "$BIN"
# Two concurrent installs would race on the binary.
exec 9>"$DIR/.lock"
flock 9
if warm; then
  echo "helm: $HELM_VERSION built by a concurrent install in $BIN"
  exit 0
fi

# The same version stamps as helm's Makefile: `helm version` names the release, and the default
# Kubernetes version (.Capabilities.KubeVersion, lint's deprecation checks) follows its client-go.
helm_ldflags() {
  local gomod client_go major minor
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || { echo "helm: could not download helm.sh/helm/v3@$HELM_VERSION's go.mod from the module proxy (GOPROXY=$(go env GOPROXY))" >&2; exit 1; }
  client_go=$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$gomod")
  [[ -n $client_go ]] || { echo "helm: found no k8s.io/client-go requirement in $gomod" >&2; exit 1; }
  major=1 minor=$client_go
  local flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  local pkg
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    flags+=" -X $pkg.k8sVersionMajor=$major -X $pkg.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

rm -f "$BIN/.stamp"
start=$(date +%s)
echo "helm: building helm $HELM_VERSION from helm.sh/helm/v3/cmd/helm (a cold build takes a few minutes on 2 cores)"
ldflags=$(helm_ldflags)
rm -rf "$DIR/gobin.tmp"
GOFLAGS=-mod=mod GOBIN=$DIR/gobin.tmp CGO_ENABLED=0 go install -trimpath -ldflags="$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mv "$DIR/gobin.tmp/helm" "$BIN/helm"
rm -rf "$DIR/gobin.tmp"
echo "helm $HELM_VERSION" >"$BIN/.stamp"
echo "helm: built helm in $(($(date +%s) - start)) s ($(du -h "$BIN/helm" | cut -f1)); $("$BIN/helm" version --short)"
