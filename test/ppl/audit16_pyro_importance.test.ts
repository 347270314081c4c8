/**
 * Pyro's `Importance` + `EmpiricalMarginal` on a conjugate Normal-Normal model: the evidence and
 * posterior mean against closed forms, within the Monte Carlo standard error (seeded), with a
 * guide and with the prior as proposal; and a second-order HMM under `markov({history: 2})`
 * summed by `TraceEnumELBO` against the float64 forward algorithm over pairs of states.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { clearSeed, distributions as D, ppl, setSeed } from '../../src/index.js';

const LOG_2PI = Math.log(2 * Math.PI);
const nlp = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;

afterEach(() => {
  clearSeed();
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

// mu ~ N(0, 1); y_i ~ N(mu, 1), i = 1..2
const Y = [0.8, 1.4];
const model = (yt: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 1));
  ppl.plate('data', 2, () => ppl.sample('y', new D.Normal(mu, 1), { obs: yt }));
};
// closed forms: posterior N(sum y / 3, 1/3); evidence N(y; 0, I + 11^T)
const postMean = (0.8 + 1.4) / 3;
const postSd = Math.sqrt(1 / 3);
const logEvidence = (() => {
  // Sigma = [[2, 1], [1, 2]], det 3, inverse [[2, -1], [-1, 2]] / 3
  const [a, b] = Y as [number, number];
  const quad = (2 * a * a - 2 * a * b + 2 * b * b) / 3;
  return -LOG_2PI - 0.5 * Math.log(3) - 0.5 * quad;
})();

describe('Importance', () => {
  it('prior proposal: logEvidence and the posterior mean within their MC error', () => {
    setSeed(1);
    const yt = tf.tensor1d(Y);
    const res = new ppl.Importance(model, { numSamples: 4000 }).run(yt);
    expect(Math.abs(res.logEvidence - logEvidence)).toBeLessThan(4 * res.logEvidenceStdErr + 0.01);
    const m = res.marginal('mu');
    const mean = m.mean();
    // self-normalized IS: SE ~ postSd / sqrt(ESS); ESS here is well above 1000
    expect(Math.abs(num(mean) - postMean)).toBeLessThan(4 * (postSd / Math.sqrt(1000)));
    mean.dispose();
    res.dispose();
    yt.dispose();
  });
  it('the exact posterior as guide: every weight equal, logEvidence exact', () => {
    setSeed(2);
    const yt = tf.tensor1d(Y);
    const guide = (): void => {
      ppl.sample('mu', new D.Normal(postMean, postSd));
    };
    const before = tf.memory().numTensors;
    const res = new ppl.Importance(model, { guide, numSamples: 50 }).run(yt);
    expect(res.logEvidence).toBeCloseTo(logEvidence, 3);
    res.dispose();
    expect(tf.memory().numTensors).toBe(before);
    yt.dispose();
  });
});

describe('markov with history 2 (second-order HMM)', () => {
  it('TraceEnumELBO with an empty guide is -log p(y) by the forward algorithm over pairs', () => {
    const y = [0.2, 1.8, 2.1, 0.3, -0.2, 1.9];
    const init = [0.5, 0.5];
    // p(x_t = 1 | x_{t-2}, x_{t-1}) for the pairs (0,0), (0,1), (1,0), (1,1)
    const p1 = [0.1, 0.7, 0.4, 0.9];
    const locs = [0, 2];
    const hmm2 = (): void => {
      const table = tf.tensor2d(p1.map((p) => [1 - p, p]));
      const locT = tf.tensor1d(locs);
      const xs: tf.Tensor[] = [];
      for (const t of ppl.markov(y.length, { history: 2 })) {
        let probs: tf.Tensor;
        if (t === 0) probs = tf.tensor1d(init);
        else if (t === 1)
          probs = tf.gather(
            table,
            tf.mul(tf.cast(xs[0] as tf.Tensor, 'int32'), tf.scalar(2, 'int32')),
          );
        else {
          const idx = tf.add(
            tf.mul(tf.cast(xs[t - 2] as tf.Tensor, 'int32'), tf.scalar(2, 'int32')),
            tf.cast(xs[t - 1] as tf.Tensor, 'int32'),
          );
          probs = tf.gather(table, idx);
        }
        const x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), {
          infer: { enumerate: 'parallel' },
        });
        xs.push(x);
        ppl.sample(`y_${t}`, new D.Normal(tf.gather(locT, tf.cast(x, 'int32')), 1), {
          obs: tf.scalar(y[t] as number),
        });
      }
    };
    const before = tf.memory().numTensors;
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(hmm2, () => undefined);
    expect(tf.memory().numTensors).toBe(before);
    // float64 forward algorithm; step 1 uses the pair (x_0, x_0 = 0 row): as the model, (2 x_0)
    const e = (t: number, k: number): number => Math.exp(nlp(y[t] as number, locs[k] as number, 1));
    const pr = (a: number, b: number, c: number): number => {
      const p = p1[2 * a + b] as number;
      return c === 1 ? p : 1 - p;
    };
    // alpha over (x_{t-1}, x_t)
    let alpha: number[][] = [0, 1].map((a) =>
      [0, 1].map((b) => (init[a] as number) * e(0, a) * pr(a, 0, b) * e(1, b)),
    );
    for (let t = 2; t < y.length; t++) {
      const next = [0, 1].map((b) =>
        [0, 1].map(
          (c) => [0, 1].reduce((s, a) => s + (alpha[a] as number[])[b]! * pr(a, b, c), 0) * e(t, c),
        ),
      );
      alpha = next;
    }
    const z = alpha.flat().reduce((s, v) => s + v, 0);
    expect(loss).toBeCloseTo(-Math.log(z), 3);
  });
});
