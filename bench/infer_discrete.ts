/**
 * `inferDiscrete` on a 3-state Gaussian HMM written with `markov` (one sequence, `T` steps):
 * seconds per call at temperature 0 (Viterbi) and 1 (a posterior path), for `T = 60` and
 * `T = 500`, the median of a few calls after one warm-up call.
 *
 * Usage: `npx tsx bench/infer_discrete.ts [T ...]` prints one markdown row per `T` on the
 * default Node backend (`REPS=n` timed calls per figure; default 5 below 100 steps, else 3).
 */
import * as tf from '@tensorflow/tfjs';
import { ready, distributions as D, ppl } from '../src/index.js';

const INIT = [0.5, 0.3, 0.2];
const TRANS = [
  [0.8, 0.1, 0.1],
  [0.2, 0.7, 0.1],
  [0.15, 0.15, 0.7],
];
const LOCS = [-2, 0, 2.5];

/** `T` observations of a sticky 3-state chain with unit Gaussian noise (a fixed LCG stream). */
function simulate(T: number): number[] {
  let st = 7;
  const u = (): number => (st = (st * 1103515245 + 12345) % 2147483648) / 2147483648;
  const ys: number[] = [];
  let x = 0;
  for (let t = 0; t < T; t++) {
    const row = t === 0 ? INIT : (TRANS[x] as number[]);
    const r = u();
    x = r < row[0]! ? 0 : r < row[0]! + row[1]! ? 1 : 2;
    ys.push(LOCS[x]! + Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()));
  }
  return ys;
}

/** The HMM over `ys`, each state enumerated, the chain declared with `markov`. */
function hmm(ys: number[]): () => void {
  return () => {
    const trans = tf.tensor2d(TRANS);
    const locs = tf.tensor1d(LOCS);
    let x: tf.Tensor | null = null;
    for (const t of ppl.markov(ys.length)) {
      const probs = x === null ? tf.tensor1d(INIT) : tf.gather(trans, tf.cast(x, 'int32'));
      x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), {
        infer: { enumerate: 'parallel' },
      });
      ppl.sample(`y_${t}`, new D.Normal(tf.gather(locs, tf.cast(x, 'int32')), 1), {
        obs: tf.scalar(ys[t]!),
      });
    }
  };
}

/** Median seconds of `reps` calls of `inferDiscrete(model, {temperature})` after one warm-up. */
function time(model: () => void, temperature: 0 | 1, reps: number): number {
  const run = (): void =>
    tf.tidy(() => ppl.trace(ppl.inferDiscrete(model, { temperature })).getTrace().dispose());
  run();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    run();
    ts.push((performance.now() - t0) / 1000);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

await ready();
const lengths = process.argv.slice(2).map(Number);
console.log(`backend ${tf.getBackend()}`);
console.log('| T | temperature 0 (s) | temperature 1 (s) |');
console.log('|---|---|---|');
for (const T of lengths.length > 0 ? lengths : [60, 500]) {
  const model = hmm(simulate(T));
  const reps = Number(process.env['REPS'] ?? (T > 100 ? 3 : 5));
  console.log(`| ${T} | ${time(model, 0, reps).toFixed(3)} | ${time(model, 1, reps).toFixed(3)} |`);
}
