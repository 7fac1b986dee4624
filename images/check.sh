#!/usr/bin/env bash
# Runs each exported image once the way a "restricted" pod would (umoci unpack + runc: its own user, read-only root
# filesystem, /tmp and the state folder on tmpfs volumes, tini as PID 1) and checks what it answers. No daemon.
#   npm run images && bash images/check.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=$(node -p "require('$ROOT/package.json').version")
ARCHIVES=${SLUICE_CACHE:-$HOME/.cache/sluice}/images/archives
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-image-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
for program in skopeo umoci runc; do
  command -v $program >/dev/null || { echo "check: $program is missing: run bash test/env/install/container-packages.sh (runc: real-node.sh)" >&2; exit 1; }
done

failures=0
pass() { echo "check: ok   $*"; }
fail() { echo "check: FAIL $*" >&2; failures=$((failures + 1)); }

# unpack IMAGE: an OCI bundle of the exported archive in $WORK/IMAGE, its config made like a restricted pod's.
unpack() {
  local image=$1 archive=$ARCHIVES/sluice-$1-$VERSION.tar
  [[ -f $archive ]] || { echo "check: $archive is missing: run npm run images first" >&2; exit 1; }
  skopeo copy -q "oci-archive:$archive" "oci:$WORK/layout:$image"
  umoci unpack --image "$WORK/layout:$image" "$WORK/$image" >/dev/null
  node - "$WORK/$image/config.json" <<'EOF'
const fs = require('node:fs');
const file = process.argv[2];
const config = JSON.parse(fs.readFileSync(file, 'utf8'));
config.root.readonly = true;
config.process.terminal = false;
config.process.noNewPrivileges = true;
config.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
// The host's network, so the check reaches a server in the container on 127.0.0.1.
config.linux.namespaces = config.linux.namespaces.filter((namespace) => namespace.type !== 'network');
const volume = (destination, options) => ({ destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...options] });
config.mounts.push(volume('/tmp', ['mode=1777']), volume('/var/lib/sluice', ['mode=0755', 'uid=65532', 'gid=65532']));
fs.writeFileSync(file, JSON.stringify(config, null, 2));
EOF
}

# set_args IMAGE ARG...: the process the container runs instead of the image's entrypoint and arguments.
set_args() {
  local image=$1
  shift
  node -e 'const fs = require("node:fs"); const [file, ...args] = process.argv.slice(1);
    const config = JSON.parse(fs.readFileSync(file, "utf8")); config.process.args = args; fs.writeFileSync(file, JSON.stringify(config, null, 2));' \
    "$WORK/$image/config.json" "$@"
}

# entrypoint IMAGE: the image's own ENTRYPOINT + CMD, as the unpacked config holds them.
entrypoint() { node -p "JSON.parse(require('node:fs').readFileSync('$WORK/$1/config.json','utf8')).process.args.join('\n')"; }

# run IMAGE: runs the bundle in the foreground; its output in $WORK/IMAGE.out, its exit code in $status.
run() {
  status=0
  runc run --bundle "$WORK/$1" "sluice-check-$1-$$" >"$WORK/$1.out" 2>&1 </dev/null || status=$?
}

# ---- runtime, in a container named like a StatefulSet's pod (its ordinal comes from the hostname)
unpack runtime
node -e 'const fs = require("node:fs"); const file = process.argv[1]; const config = JSON.parse(fs.readFileSync(file, "utf8"));
  config.hostname = "check-0"; fs.writeFileSync(file, JSON.stringify(config, null, 2));' "$WORK/runtime/config.json"
mapfile -t runtime_entrypoint < <(entrypoint runtime)
run runtime
if [[ $status == 1 ]] && grep -q 'SLUICE_JOB_FILE is not set' "$WORK/runtime.out"; then
  pass "runtime without SLUICE_JOB_FILE exits 1: $(grep -o '"error":"[^"]*"' "$WORK/runtime.out")"
else
  fail "runtime without SLUICE_JOB_FILE: exit $status, output: $(cat "$WORK/runtime.out")"
fi
set_args runtime tini -- node --input-type=module -e "
  import { readFileSync, writeFileSync } from 'node:fs';
  import { tmpdir } from 'node:os';
  const { RocksDbStore } = await import('/app/runtime-image/dist/state/rocksdb-store.js');
  let rootWritable = true;
  try { writeFileSync('/app/probe', 'x'); } catch (error) { rootWritable = error.code !== 'EROFS'; }
  writeFileSync(tmpdir() + '/probe', 'x');
  const store = await RocksDbStore.open(process.env.SLUICE_STATE_DIR + '/probe');
  const namespace = { operatorId: 'probe', partition: 0 };
  store.batch().put(namespace, 'key', Buffer.from('value')).write();
  const value = store.view(namespace).get('key')?.toString();
  await store.close();
  const init = readFileSync('/proc/1/cmdline', 'utf8').split('\\0')[0];
  console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), init, node: process.version, rootWritable, rocksdb: value }));
"
run runtime
expected='{"uid":65532,"gid":65532,"init":"tini","node":"v24.'
if [[ $status == 0 ]] && grep -q "^$expected.*\"rootWritable\":false,\"rocksdb\":\"value\"}" "$WORK/runtime.out"; then
  pass "runtime as uid 65532 with tini as PID 1, read-only root, RocksDB state on the volume: $(cat "$WORK/runtime.out")"
else
  fail "runtime user, read-only root and RocksDB: exit $status, output: $(cat "$WORK/runtime.out")"
fi

# ---- controller
unpack controller
set_args controller streamctl --version
run controller
[[ $status == 0 && $(cat "$WORK/controller.out") == "$VERSION" ]] && pass "controller: streamctl --version prints $VERSION" ||
  fail "controller: streamctl --version: exit $status, output: $(cat "$WORK/controller.out")"
mapfile -t controller_entrypoint < <(entrypoint controller)
set_args controller "${controller_entrypoint[@]}" --version
run controller
[[ $status == 0 && $(cat "$WORK/controller.out") == "$VERSION" ]] && pass "controller: its entrypoint with --version prints $VERSION" ||
  fail "controller: entrypoint --version: exit $status, output: $(cat "$WORK/controller.out")"
# The engine end to end on the image's Node: the README's example over its sample, RocksDB state in TMPDIR.
node -e 'const fs = require("node:fs"); const [file, examples] = process.argv.slice(1); const config = JSON.parse(fs.readFileSync(file, "utf8"));
  config.mounts.push({ destination: "/examples", type: "bind", source: examples, options: ["rbind", "ro"] }); fs.writeFileSync(file, JSON.stringify(config, null, 2));' \
  "$WORK/controller/config.json" "$ROOT/examples/fraud-velocity"
set_args controller streamctl run /examples/job.yaml --input /examples/sample.jsonl
run controller
if [[ $status == 0 ]] && grep '^{' "$WORK/controller.out" | diff -q - "$ROOT/examples/fraud-velocity/expected.jsonl" >/dev/null; then
  pass "controller: streamctl run of examples/fraud-velocity gives expected.jsonl: $(grep 'records in' "$WORK/controller.out")"
else
  fail "controller: streamctl run of examples/fraud-velocity: exit $status, output: $(cat "$WORK/controller.out")"
fi
set_args controller tini -- node -e "require('@nxtedition/rocksdb'); console.log(process.getuid())"
run controller
[[ $status == 0 && $(cat "$WORK/controller.out") == 65532 ]] && pass "controller: RocksDB loads, uid 65532" ||
  fail "controller: RocksDB and uid: exit $status, output: $(cat "$WORK/controller.out")"

# ---- registry: answers on its port, and stops on SIGTERM through tini.
unpack registry
mapfile -t registry_entrypoint < <(entrypoint registry)
port=$((20000 + RANDOM % 20000))
# The image's ENTRYPOINT with its own arguments, as the chart passes them (a file store on the volume here).
set_args registry "${registry_entrypoint[@]:0:4}" --host=127.0.0.1 "--port=$port" --store=file:/var/lib/sluice/schemas
runc run --bundle "$WORK/registry" "sluice-check-registry-$$" >"$WORK/registry.out" 2>&1 </dev/null &
runner=$!
answer=
for _ in $(seq 100); do
  answer=$(curl -fsS "http://127.0.0.1:$port/subjects" 2>/dev/null) && break
  sleep 0.1
done
if [[ $answer == '[]' ]]; then pass "registry answers GET /subjects on port $port: $answer"; else fail "registry did not answer on port $port: $(cat "$WORK/registry.out")"; fi
runc kill "sluice-check-registry-$$" TERM
stopping=$(date +%s%N)
status=0
wait "$runner" || status=$?
stopped_ms=$((($(date +%s%N) - stopping) / 1000000))
[[ $status == 0 ]] && pass "registry stops on SIGTERM sent to PID 1 (tini) with exit 0 in $stopped_ms ms" ||
  fail "registry on SIGTERM: exit $status after $stopped_ms ms, output: $(tail -5 "$WORK/registry.out")"

for image in runtime controller registry; do runc delete --force "sluice-check-$image-$$" >/dev/null 2>&1 || true; done
((failures == 0)) || { echo "check: $failures check(s) failed" >&2; exit 1; }
echo "check: all images pass"
