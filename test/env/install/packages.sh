#!/usr/bin/env bash
# System prerequisites of the test environment (Debian 12): Redis, PostgreSQL, OpenSSL, Java 17 and Maven, and a check for Go.
set -euo pipefail

# Each needed program, and the Debian package that provides it.
declare -A needs=(
  [redis-server]=redis-server
  [openssl]=openssl
  [java]=openjdk-17-jre-headless
  [mvn]=maven
  [setpriv]=util-linux
)

missing=()
for program in "${!needs[@]}"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("${needs[$program]}")
done
# PostgreSQL's server binaries are not on PATH on Debian; they live in /usr/lib/postgresql/<major>/bin.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
# Go fetches modules over HTTPS and trusts the system's CA bundle; minimal images lack it.
dpkg -s ca-certificates >/dev/null 2>&1 || missing+=(ca-certificates)

if ((${#missing[@]} > 0)); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "packages.sh: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
    exit 1
  fi
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "packages.sh: missing ${missing[*]}; run this script as root (or install sudo)" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "packages.sh: installing ${missing[*]}"
  # Other jobs on the machine may hold the apt/dpkg locks for a while: wait for them instead of failing.
  apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go builds the S3 server and the Kubernetes control plane; it is not a Debian package here
# (bookworm's golang is 1.19, too old for these modules).
go_bin=$(command -v go || { [[ -x /usr/local/go/bin/go ]] && echo /usr/local/go/bin/go; } || true)
if [[ -z $go_bin ]]; then
  echo "packages.sh: Go 1.25 or newer is required but not installed. Unpack go1.26.x linux-amd64 into /usr/local/go (the go.dev tarball, or the same tree from the Go module proxy: golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64), or put a go >= 1.25 on PATH, then rerun." >&2
  exit 1
fi
go_version=$("$go_bin" env GOVERSION)
if [[ $(printf '%s\n' go1.25 "$go_version" | sort -V | head -n1) != go1.25 ]]; then
  echo "packages.sh: $go_bin is $go_version; Go 1.25 or newer is required. Install a newer Go into /usr/local/go, then rerun." >&2
  exit 1
fi
