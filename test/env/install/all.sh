#!/usr/bin/env bash
# Installs everything the test environment runs, cached under ${SLUICE_CACHE:-~/.cache/sluice}; a warm run takes seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
started=$(date +%s)
for step in packages kafka s3 kube helm lua; do
  step_started=$(date +%s)
  bash "$here/$step.sh"
  echo "[env:install] $step ok ($(( $(date +%s) - step_started ))s)"
done
echo "[env:install] done in $(( $(date +%s) - started ))s"
