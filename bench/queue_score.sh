#!/usr/bin/env bash
# Scoring throughput through the job queue (issue 21): one trained Bayesian LeNet-5 scores N images
# of MNIST's training split with S Monte Carlo passes each: in one process with 1 shard (the
# reference), in-process with K shards, and through BullMQ with K shards and 1 or 2 worker
# processes (a redis-server on a free port). Prints wall times, images/s, load averages and the
# largest difference of the aggregate metrics from the reference.
#   bash bench/queue_score.sh [N=60000] [S=20] [K=8]
# RUNS="ref local q1 q2" (default) picks the runs: ref = in-process 1 shard, local = in-process K
# shards, q1 / q2 = the queue with 1 / 2 workers.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-60000}; S=${2:-20}; K=${3:-8}
W=$(mktemp -d); export DEEPPROB_BACKEND=${DEEPPROB_BACKEND:-wasm}
dp() { node --import tsx test/queue/cli_entry.ts "$@"; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
dp train --model bayes-lenet5 --epochs 1 --limit 10000 --kl-weight 0.1 --rho-init -5 --out "$W/bnn" --quiet >/dev/null 2>&1
score() { dp score --checkpoint "$W/bnn" --data mnist --split train --limit "$N" --mc-samples "$S" --quiet --json "$@" 2>/dev/null | tail -1; }
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$W" --save '' --daemonize no >/dev/null & RPID=$!
trap 'kill "${WPIDS[@]}" $RPID 2>/dev/null; rm -rf "$W"' EXIT
sleep 0.5
run() { # label, args...
  local label=$1; shift
  local t0; t0=$(date +%s.%N)
  local out; out=$(score "$@")
  local t1; t1=$(date +%s.%N)
  echo "$out" > "$W/$label.json"
  printf '%-26s %7.1f s  %6.0f images/s  load %s\n' "$label" "$(echo "$t1 - $t0" | bc)" "$(echo "$N / ($t1 - $t0)" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}
RUNS=${RUNS:-ref local q1 q2}
has() { [[ " $RUNS " == *" $1 "* ]]; }
has ref && run "in-process, 1 shard" --shards 1 --store "$W/s1"
has local && run "in-process, $K shards" --shards "$K" --store "$W/s2"
WPIDS=()
workers() { for _ in $(seq 1 "$1"); do
  node --import tsx test/queue/cli_entry.ts worker --redis "redis://127.0.0.1:$PORT" >/dev/null 2>&1 &
  WPIDS+=($!); done; sleep 3; }
if has q1; then
  workers 1
  run "queue, 1 worker, $K shards" --shards "$K" --store "$W/s3" --redis "redis://127.0.0.1:$PORT"
fi
if has q2; then
  workers $((2 - ${#WPIDS[@]}))
  run "queue, 2 workers, $K shards" --shards "$K" --store "$W/s4" --redis "redis://127.0.0.1:$PORT"
fi
node -e '
const fs = require("fs"); const dir = process.argv[1];
const names = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
const m = Object.fromEntries(names.map((f) => [f, JSON.parse(fs.readFileSync(dir + "/" + f, "utf8")).metrics]));
const ref = m["in-process, 1 shard.json"] ?? Object.values(m)[0];
console.log("reference:", JSON.stringify({count: ref.count, accuracy: ref.accuracy, nll: ref.nll, ece: ref.ece, mutualInformation: ref.mutualInformation}));
for (const [f, x] of Object.entries(m)) {
  let d = 0; for (const k of ["accuracy","nll","brier","ece","mce","predictiveEntropy","expectedEntropy","mutualInformation","variance"]) d = Math.max(d, Math.abs(x[k] - ref[k]));
  console.log(f.replace(".json",""), "max |metric - reference| =", d);
}' "$W"
