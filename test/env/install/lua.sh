#!/usr/bin/env bash
# Builds argocd-health (test/argocd/health-runner: gopher-lua, the Lua that Argo CD embeds) into the sluice cache, for the health check tests.
set -euo pipefail

# Pinned version, the one Argo CD's go.mod requires; test/argocd/lua.ts reads this line to find the binary.
GOPHER_LUA_VERSION=v1.1.1

here=$(cd "$(dirname "$0")" && pwd)
SOURCE=$here/../../argocd/health-runner
CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=$CACHE/argocd-health/$GOPHER_LUA_VERSION
BIN=$DIR/bin
# The stamp names the runner's source too, so an edit of main.go rebuilds it.
STAMP="gopher-lua $GOPHER_LUA_VERSION $(cat "$SOURCE/main.go" "$SOURCE/go.mod" | sha256sum | cut -c1-16)"

warm() {
  [[ -x $BIN/argocd-health && -f $BIN/.stamp && $(<"$BIN/.stamp") == "$STAMP" ]]
}

if warm; then
  echo "lua: argocd-health ($STAMP) already built in $BIN"
  exit 0
fi

# packages.sh accepts a Go unpacked in /usr/local/go that is not on PATH.
PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "lua: Go >= 1.25 is not installed; bash test/env/install/packages.sh says how to install it" >&2; exit 1; }
mkdir -p "$BIN"
exec 9>"$DIR/.lock"
flock 9
if warm; then
  echo "lua: argocd-health built by a concurrent install in $BIN"
  exit 0
fi

# Built from a copy, so go.sum is written in the cache and not in the working tree.
rm -rf "$DIR/src"
mkdir -p "$DIR/src"
cp "$SOURCE/main.go" "$SOURCE/go.mod" "$DIR/src/"
sed -i "s#^require github.com/yuin/gopher-lua .*#require github.com/yuin/gopher-lua $GOPHER_LUA_VERSION#" "$DIR/src/go.mod"
start=$(date +%s)
(cd "$DIR/src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$BIN/argocd-health.tmp" .)
mv "$BIN/argocd-health.tmp" "$BIN/argocd-health"
echo "$STAMP" >"$BIN/.stamp"
echo "lua: built argocd-health with gopher-lua $GOPHER_LUA_VERSION in $(($(date +%s) - start)) s"
