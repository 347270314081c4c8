#!/usr/bin/env bash
# Smoke run of every example (issue 18): each imports `deepprob` / `deepprob/node` exactly as a
# user's program does (tsconfig.json maps them to src/ for tsc and tsx) and runs briefly here
# (few images, one epoch), writing its figures and logs to a temporary directory. The full runs
# and their figures are in examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d -t deepprob-examples-XXXXXX)"
trap 'rm -rf "$out"' EXIT
tsx=node_modules/.bin/tsx
run() {
  local t0=$SECONDS
  if ! timeout 300 "$tsx" "$@" >"$out/log" 2>&1; then
    cat "$out/log"
    echo "FAILED: example $*"
    exit 1
  fi
  echo "example ok ($((SECONDS - t0)) s): $*"
}
run examples/quickstart.ts
run examples/bayesian_regression.ts
run examples/pyro_ports.ts regression
run examples/uncertainty_regression.ts --epochs 5 --out "$out/unc"
run examples/bnn.ts --epochs 1 --limit 512 --eval-images 200 --out "$out"
run examples/vae.ts --epochs 1 --limit 512 --out "$out"
run examples/conditional_vae.ts --epochs 1 --limit 512 --out "$out"
run examples/vae_gan.ts --epochs 1 --limit 512 --out "$out"
run examples/transform_lenet.ts --epochs 1 --finetune-epochs 1 --limit 512 --samples 2 --test-limit 500 --out "$out/transform.json"
