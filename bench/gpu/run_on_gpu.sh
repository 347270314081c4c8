#!/usr/bin/env bash
# Speed of deepprob on a GPU through WebGPU in Node (issue 20): install, bench, print.
#
# Run from the repository root on a Linux machine with an NVIDIA GPU and its Vulkan driver
# (nvidia ICD under /usr/share/vulkan/icd.d or /etc/vulkan/icd.d; `libvulkan1`):
#
#   bash bench/gpu/run_on_gpu.sh            # writes bench/gpu/RESULTS-<gpu>.md and prints it
#
# It checks that the webgpu backend finds a *hardware* adapter (not SwiftShader/llvmpipe), then
# times, on webgpu and on this machine's wasm engine, in the same minutes:
#   - npm run bench -- --backend webgpu      (the LeNet-5 / LeNet workloads of bench/run.ts)
#   - bench/step.ts cifar:bayes-alexnet 64   (Bayes-by-Backprop AlexNet at 32x32x3)
#   - bench/step.ts lenet5 reparam 256       (LeNet-5 BBB at batch 256; PyTorch's CPU figure is in
#                                             bench/RESULTS.md, measured on the 2-core machine)
# Copy the printed figures, with the GPU's name, into bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-$$}"
mkdir -p "$XDG_RUNTIME_DIR"
unset VK_ICD_FILENAMES || true # the system's GPU driver, not SwiftShader

if [ ! -d node_modules/webgpu ]; then
  npm ci --no-audit --no-fund
fi
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1) || true
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true

ADAPTER=$(npx tsx -e "
import { setupWebGPU } from './src/backend/webgpu/index.ts';
const a = await setupWebGPU();
console.log(typeof a === 'string' ? 'NONE: ' + a : (a.software ? 'SOFTWARE: ' : 'GPU: ') + a.description);
process.exit(0);
" 2>/dev/null | tail -1)
echo "adapter: $ADAPTER"
case "$ADAPTER" in
  GPU:*) ;;
  *) echo "no hardware WebGPU adapter: nothing to measure"; exit 2 ;;
esac
NAME=$(echo "${ADAPTER#GPU: }" | tr -c 'A-Za-z0-9\n' '-' | cut -c1-40)
OUT="bench/gpu/RESULTS-${NAME}.md"

run() { echo "\$ $*" | tee -a "$OUT.log"; "$@" 2>&1 | tee -a "$OUT.log"; }
: > "$OUT.log"
run env DEEPPROB_BACKEND=webgpu npx tsx bench/step.ts cifar:bayes-alexnet 64 8
run env DEEPPROB_BACKEND=wasm npx tsx bench/step.ts cifar:bayes-alexnet 64 4
run env DEEPPROB_BACKEND=webgpu npx tsx bench/step.ts lenet5 reparam 256 20
run env DEEPPROB_BACKEND=wasm npx tsx bench/step.ts lenet5 reparam 256 10
run npx tsx bench/run.ts --backend webgpu --no-torch --out "$OUT"
{
  echo
  echo "## Step timings (bench/step.ts), adapter: ${ADAPTER#GPU: }, $(date -u +%FT%TZ)"
  echo
  echo '```'
  grep -v '^\s*$' "$OUT.log"
  echo '```'
} >> "$OUT"
echo "==== $OUT ===="
cat "$OUT"
