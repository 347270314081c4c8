/**
 * `DiscreteHMM.logProb` on a 3-state Gaussian HMM: milliseconds per log-likelihood and per
 * log-likelihood with its gradient (in the emission means and the transition logits), for the
 * pairwise tree of log-space matrix products (`ceil(log2 T)` levels, what `DiscreteHMM` runs)
 * against the sequential forward recursion written with the same tfjs ops (`T` steps), and
 * against the `markov` + enumeration model's `TraceEnumELBO` loss (the same number).
 *
 * Usage: `npx tsx bench/hmm.ts [T ...]` (default 100 1000) prints one markdown row per `T` on the
 * default Node backend; medians of `REPS` calls (default 5) after one warm-up call. `ENUM=0`
 * skips the enumerated model (slow at long `T`).
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
    const row = TRANS[x] as number[];
    const r = u();
    x = r < row[0]! ? 0 : r < row[0]! + row[1]! ? 1 : 2;
    ys.push(LOCS[x]! + Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()));
  }
  return ys;
}

/** `log p(y)` by the tree (`DiscreteHMM`). */
function treeLogProb(ys: tf.Tensor, locs: tf.Tensor, trans: tf.Tensor): tf.Scalar {
  return new D.DiscreteHMM(tf.log(tf.tensor1d(INIT)), trans, new D.Normal(locs, 1)).logProb(
    ys,
  ) as tf.Scalar;
}

/** `log p(y)` by the sequential forward recursion, one tfjs step per time step. */
function sequentialLogProb(ys: tf.Tensor, locs: tf.Tensor, trans: tf.Tensor): tf.Scalar {
  const logT = tf.logSoftmax(trans);
  const obs = new D.Normal(locs, 1).logProb(tf.expandDims(ys, -1)); // [T, S]
  const rows = tf.unstack(obs);
  let a = tf.log(tf.tensor1d(INIT));
  for (const r of rows) a = tf.add(tf.logSumExp(tf.add(tf.expandDims(a, -1), logT), 0), r);
  return tf.logSumExp(a) as tf.Scalar;
}

/** The markov + enumeration model of the same HMM (its TraceEnumELBO loss is `-log p(y)`). */
function enumModel(ys: number[]): () => void {
  return () => {
    const trans = tf.tensor2d(TRANS);
    const locs = tf.tensor1d(LOCS);
    let x = ppl.sample('x_init', new D.Categorical({ probs: INIT }), {
      infer: { enumerate: 'parallel' },
    });
    for (const t of ppl.markov(ys.length)) {
      x = ppl.sample(
        `x_${t}`,
        new D.Categorical({ probs: tf.gather(trans, tf.cast(x, 'int32')) }),
        { infer: { enumerate: 'parallel' } },
      );
      ppl.sample(`y_${t}`, new D.Normal(tf.gather(locs, tf.cast(x, 'int32')), 1), {
        obs: tf.scalar(ys[t]!),
      });
    }
  };
}

/** Median milliseconds of `reps` calls of `f` after one warm-up. */
function time(f: () => void, reps: number): number {
  f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

await ready();
const lengths = process.argv.slice(2).map(Number);
const reps = Number(process.env['REPS'] ?? 5);
const withEnum = process.env['ENUM'] !== '0';
console.log(`backend ${tf.getBackend()}`);
console.log(
  '| T | tree logProb (ms) | tree value + gradient (ms) | sequential logProb (ms) | ' +
    'sequential value + gradient (ms) | markov + enumeration TraceEnumELBO loss (ms) |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const T of lengths.length > 0 ? lengths : [100, 1000]) {
  const data = simulate(T);
  const ys = tf.tensor1d(data);
  const locs = tf.tensor1d(LOCS);
  const trans = tf.log(tf.tensor2d(TRANS));
  const val = (fn: typeof treeLogProb) => () => {
    tf.tidy(() => fn(ys, locs, trans).dataSync());
  };
  const grad = (fn: typeof treeLogProb) => () => {
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((l: tf.Tensor, tr: tf.Tensor) => fn(ys, l, tr))([
        locs,
        trans,
      ]);
      value.dataSync();
      grads.forEach((g) => g.dataSync());
    });
  };
  const check = tf.tidy(() => [
    treeLogProb(ys, locs, trans).dataSync()[0]!,
    sequentialLogProb(ys, locs, trans).dataSync()[0]!,
  ]);
  let enumMs = '-';
  if (withEnum) {
    const model = enumModel(data);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 0 });
    const loss = elbo.loss(model, () => undefined);
    enumMs = `${time(() => elbo.loss(model, () => undefined), Math.min(reps, 3)).toFixed(0)} (loss ${loss.toFixed(2)})`;
  }
  console.log(
    `| ${T} | ${time(val(treeLogProb), reps).toFixed(1)} (${check[0]!.toFixed(2)}) | ` +
      `${time(grad(treeLogProb), reps).toFixed(1)} | ` +
      `${time(val(sequentialLogProb), reps).toFixed(1)} (${check[1]!.toFixed(2)}) | ` +
      `${time(grad(sequentialLogProb), reps).toFixed(1)} | ${enumMs} |`,
  );
  tf.dispose([ys, locs, trans]);
}
