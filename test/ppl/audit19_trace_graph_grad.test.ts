/**
 * `TraceGraphELBO`'s score-function gradient (downstream costs, Rao-Blackwellized by plates)
 * against the exact gradient of the ELBO by brute-force enumeration, on a discrete model:
 *
 * `c ~ Bernoulli(0.3)`, `z_i | c ~ Bernoulli(c ? 0.8 : 0.2)`, `y_i | z_i ~ N(2 z_i - 1, 1)`
 * (`i = 1..3`, a plate), guide `c ~ Bernoulli(σ(a))`, `z_i | c ~ Bernoulli(σ(b_i + d c))`.
 * The ELBO is the sum over the 16 joint values of `q (log p - log q)`; its gradient by central
 * differences in float64. The estimator's mean over draws must match within 5 standard errors,
 * with and without a decaying-average baseline (a baseline changes the variance, not the mean).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  clearSeed();
  ppl.clearParamStore();
});

const ys = [0.7, -1.2, 1.9];
const theta0 = [0.3, -0.4, 0.2, 0.5, 0.8]; // a, b_1..b_3, d
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const lnBern = (v: number, p: number): number => Math.log(v === 1 ? p : 1 - p);
const lnN = (x: number, m: number): number => -0.5 * Math.log(2 * Math.PI) - 0.5 * (x - m) ** 2;

function exactElbo(t: number[]): number {
  let e = 0;
  for (let c = 0; c < 2; c++) {
    for (let code = 0; code < 8; code++) {
      const z = [code & 1, (code >> 1) & 1, (code >> 2) & 1];
      let lq = lnBern(c, sig(t[0]!));
      let lp = lnBern(c, 0.3);
      z.forEach((zi, i) => {
        lq += lnBern(zi, sig(t[1 + i]! + t[4]! * c));
        lp += lnBern(zi, c === 1 ? 0.8 : 0.2) + lnN(ys[i]!, 2 * zi - 1);
      });
      e += Math.exp(lq) * (lp - lq);
    }
  }
  return e;
}

const model = (y: tf.Tensor): void => {
  const c = ppl.sample('c', new D.Bernoulli({ probs: 0.3 }));
  const pz = tf.add(0.2, tf.mul(c, 0.6));
  ppl.plate('data', 3, () => {
    const z = ppl.sample('z', new D.Bernoulli({ probs: tf.broadcastTo(pz, [3]) }));
    ppl.sample('y', new D.Normal(tf.sub(tf.mul(z, 2), 1), 1), { obs: y });
  });
};

function guideWith(baseline: boolean) {
  return (): void => {
    const a = ppl.param('a', tf.scalar(theta0[0]!));
    const b = ppl.param('b', tf.tensor1d(theta0.slice(1, 4)));
    const d = ppl.param('d', tf.scalar(theta0[4]!));
    const opts = baseline ? { infer: { baseline: { useDecayingAvgBaseline: true } } } : {};
    const c = ppl.sample('c', new D.Bernoulli({ logits: a }), opts);
    ppl.plate('data', 3, () => {
      ppl.sample('z', new D.Bernoulli({ logits: tf.add(b, tf.mul(d, c)) }), opts);
    });
  };
}

describe('TraceGraphELBO gradient vs enumeration', () => {
  it('the mean score-function gradient is the exact ELBO gradient (5 SE), with and without a baseline', () => {
    const y = tf.tensor1d(ys);
    const h = 1e-5;
    const exact = theta0.map((_, j) => {
      const p = [...theta0];
      const m = [...theta0];
      p[j]! += h;
      m[j]! -= h;
      return -(exactElbo(p) - exactElbo(m)) / (2 * h); // gradient of the loss -ELBO
    });
    for (const [baseline, M] of [
      [false, 300],
      [true, 150],
    ] as const) {
      ppl.clearParamStore();
      setSeed(baseline ? 5 : 4);
      const est = new ppl.TraceGraphELBO();
      const guide = guideWith(baseline);
      est.loss(model, guide, y);
      const vars = ppl.getParamStore().variables(['a', 'b', 'd']);
      const g: number[][] = [];
      for (let i = 0; i < M; i++) {
        const { value, grads } = tf.variableGrads(
          () => est.differentiableLoss(model, guide, [y]),
          vars,
        );
        g.push(vars.flatMap((v) => Array.from(grads[v.name]!.dataSync())));
        value.dispose();
        tf.dispose(grads);
      }
      exact.forEach((e, j) => {
        const col = g.map((r) => r[j]!);
        const mu = col.reduce((a, v) => a + v, 0) / M;
        const se = Math.sqrt(col.reduce((a, v) => a + (v - mu) ** 2, 0) / (M - 1) / M);
        expect(Math.abs(mu - e)).toBeLessThan(5 * se);
      });
    }
    expectNoLeak(() => {
      new ppl.TraceGraphELBO().loss(model, guideWith(false), y);
    });
    y.dispose();
  });
});
