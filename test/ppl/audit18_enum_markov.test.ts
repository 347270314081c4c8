/**
 * Audit 18: more of Pyro's enumeration idioms against float64 references (these passed): a plate
 * inside each `markov` step (a batch of HMMs, forward algorithm per sequence), the recursive
 * `markov` function form, `mask` on the likelihood of an enumerated local (masked members drop
 * out: inside the sum over its values), `configEnumerate(..., {expand: true})`.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

afterEach(() => ppl.clearParamStore());
const LOG_2PI = Math.log(2 * Math.PI);
const nlp = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const lse = (a: number[]): number => {
  const m = Math.max(...a);
  return m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0));
};
const noGuide = (): void => undefined;
const ENUM = { infer: { enumerate: 'parallel' as const } };
const init = [0.6, 0.4];
const trans = [
  [0.8, 0.2],
  [0.3, 0.7],
];
const locs = [0, 2];
const Ys = [
  [0.1, 1.9, 2.2, -0.3],
  [1.2, 2.8, 0.6, 2.5],
  [0.3, -0.2, 0.4, 1.8],
];
function fwd(ys: number[]): number {
  let a = init.map((p, k) => p * Math.exp(nlp(ys[0] as number, locs[k] as number, 1)));
  for (let t = 1; t < ys.length; t++) {
    a = [0, 1].map(
      (j) =>
        a.reduce((s, v, i) => s + v * trans[i]![j]!, 0) *
        Math.exp(nlp(ys[t] as number, locs[j] as number, 1)),
    );
  }
  return Math.log(a[0]! + a[1]!);
}
describe('enumeration idioms', () => {
  it('plate inside each markov step', () => {
    const y = tf.tensor2d(Ys); // [N=3, T=4]
    const model = (): void => {
      const tr = tf.tensor2d(trans);
      const lc = tf.tensor1d(locs);
      let x: tf.Tensor | null = null;
      for (const t of ppl.markov(4)) {
        ppl.plate('seqs', 3, () => {
          const probs: tf.Tensor =
            x === null ? tf.tensor1d(init) : tf.gather(tr, tf.cast(x, 'int32'));
          x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
          ppl.sample(`y_${t}`, new D.Normal(tf.gather(lc, tf.cast(x, 'int32')), 1), {
            obs: tf.squeeze(tf.slice(y, [0, t], [3, 1]), [1]),
          });
        });
      }
    };
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide);
    expect(loss).toBeCloseTo(-Ys.reduce((s, ys) => s + fwd(ys), 0), 3);
  });
  it('recursive markov function form', () => {
    const ys = Ys[0] as number[];
    const tr = tf.tensor2d(trans);
    const lc = tf.tensor1d(locs);
    const step = ppl.markov((t: number, x: tf.Tensor | null): void => {
      if (t >= ys.length) return;
      const probs: tf.Tensor = x === null ? tf.tensor1d(init) : tf.gather(tr, tf.cast(x, 'int32'));
      const xt = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
      ppl.sample(`y_${t}`, new D.Normal(tf.gather(lc, tf.cast(xt, 'int32')), 1), {
        obs: tf.scalar(ys[t] as number),
      });
      step(t + 1, xt);
    });
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(() => step(0, null), noGuide);
    expect(loss).toBeCloseTo(-fwd(ys), 3);
  });
  it('mask on the likelihood of an enumerated local: inside the logsumexp', () => {
    const ys = [0.3, 2.2, 1.9];
    const m = tf.tensor1d([true, false, true], 'bool');
    const model = (): void => {
      ppl.plate('d', 3, () => {
        const z = ppl.sample('z', new D.Bernoulli(0.3), ENUM);
        ppl.mask(
          () => ppl.sample('y', new D.Normal(tf.mul(z, 2), 1), { obs: tf.tensor1d(ys) }),
          m,
        )();
      });
    };
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide);
    // masked member: sum_z p(z) = 1 -> 0
    const want = -[0, 2].reduce(
      (s, i) =>
        s + lse([0, 1].map((z) => Math.log(z ? 0.3 : 0.7) + nlp(ys[i] as number, 2 * z, 1))),
      0,
    );
    expect(loss).toBeCloseTo(want, 3);
  });
  it('configEnumerate expand: true gives the same loss', () => {
    const ys = [0.3, 2.2, 1.9];
    const model = (): void => {
      ppl.plate('d', 3, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: tf.tensor1d([0.2, 0.5, 0.3]) }));
        ppl.sample('y', new D.Normal(z, 1), { obs: tf.tensor1d(ys) });
      });
    };
    const a = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(
      ppl.configEnumerate(model),
      noGuide,
    );
    const b = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(
      ppl.configEnumerate(model, 'parallel', { expand: true }),
      noGuide,
    );
    const want = -ys.reduce(
      (s, v) => s + lse([0.2, 0.5, 0.3].map((w, k) => Math.log(w) + nlp(v, k, 1))),
      0,
    );
    expect(a).toBeCloseTo(want, 3);
    expect(b).toBeCloseTo(want, 3);
  });
});
