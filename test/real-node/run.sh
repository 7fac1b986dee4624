#!/usr/bin/env bash
# `npm run test:real-node`: the suites that run Sluice as containers on a real node (containerd, kubelet, kube-proxy,
# kube-scheduler) beside the test servers — the pod smoke test and `helm install` of the chart with the images built
# from this tree. Installs what the node and the image build need (cached), starts the node, runs the suites, and
# always stops the node and puts back what it changed on the host. Needs root (the kubelet and containerd do).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/env/install/container-packages.sh
bash test/env/install/real-node.sh
stop() { npm run --silent env:down -- --real-node >/dev/null || echo "test:real-node: stopping the real node failed; run npm run env:down -- --real-node" >&2; }
trap stop EXIT
npm run --silent env:up -- --real-node >/dev/null
SLUICE_REAL_NODE=1 node --experimental-vm-modules node_modules/jest/bin/jest.js test/real-node "$@"
