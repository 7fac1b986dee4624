#!/usr/bin/env bash
# Builds the S3-compatible server of the test environment (versitygw, Apache-2.0) from the Go module proxy into the sluice cache.
set -euo pipefail

# Pinned version; test/env/src/s3.ts reads this line to find the binary. v1.8.0 has no replace directives, so `go install` takes it.
VERSITYGW_VERSION=v1.8.0

CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=$CACHE/s3/$VERSITYGW_VERSION
BIN=$DIR/bin/versitygw

if [[ -x $BIN ]]; then
  echo "s3: versitygw $VERSITYGW_VERSION already in $BIN"
  exit 0
fi

go=$(command -v go || { [[ -x /usr/local/go/bin/go ]] && echo /usr/local/go/bin/go; } || true)
[[ -n $go ]] || { echo "s3: Go is not installed; run test/env/install/packages.sh for what to install" >&2; exit 1; }

mkdir -p "$DIR"
# Two concurrent installs would build twice and race on the binary.
exec 9>"$DIR/.lock"
flock 9
if [[ -x $BIN ]]; then
  echo "s3: versitygw $VERSITYGW_VERSION installed by a concurrent install in $BIN"
  exit 0
fi

echo "s3: building versitygw $VERSITYGW_VERSION with $("$go" env GOVERSION) (a few minutes, once)"
# Built into a scratch folder and moved into place, so an interrupted build never looks installed.
staging=$DIR/bin.tmp
rm -rf "$staging"
GOBIN=$staging "$go" install -trimpath -ldflags="-s -w -X main.Version=$VERSITYGW_VERSION" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
mkdir -p "$DIR/bin"
mv "$staging/versitygw" "$BIN"
rm -rf "$staging"
echo "s3: versitygw $VERSITYGW_VERSION installed in $BIN"
