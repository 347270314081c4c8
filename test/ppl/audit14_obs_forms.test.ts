/**
 * Audit (issue 14): observed values given as numbers, nested arrays or int32 tensors (counts)
 * behave as float tensors; `deterministic` sites in plates have the plate shape and come back from
 * `Predictive`; `factor` with a scalar number. Log-densities against float64 sums; no leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const LN2PI = Math.log(2 * Math.PI);
const normLp = (x: number, m = 0, s = 1): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LN2PI;

function logp(model: () => void): number {
  const before = tf.memory().numTensors;
  const tr = ppl.trace(model).getTrace();
  const lp = tr.logProbSum();
  const v = lp.dataSync()[0]!;
  lp.dispose();
  tr.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return v;
}

describe('audit14: observed value forms', () => {
  it('a number, a nested array and a tensor give the same log-density', () => {
    const a = logp(() => ppl.sample('y', new D.Normal(0.5, 2), { obs: 1.5 as never }));
    expect(a).toBeCloseTo(normLp(1.5, 0.5, 2), 5);
    const b = logp(() =>
      ppl.plate('d', 3, () => ppl.sample('y', new D.Normal(0.5, 2), { obs: [1, 2, 3] as never })),
    );
    expect(b).toBeCloseTo(normLp(1, 0.5, 2) + normLp(2, 0.5, 2) + normLp(3, 0.5, 2), 4);
  });

  it('int32 counts observed by Poisson and Binomial', () => {
    const k = tf.tensor1d([0, 2, 5], 'int32');
    const v = logp(() =>
      ppl.plate('d', 3, () => {
        ppl.sample('k', new D.Poisson(2), { obs: k });
        ppl.sample('b', new D.Binomial(5, 0.4), { obs: k });
      }),
    );
    const lf = (n: number): number => (n <= 1 ? 0 : Math.log(n) + lf(n - 1));
    const pois = [0, 2, 5].reduce((s, x) => s + x * Math.log(2) - 2 - lf(x), 0);
    const bin = [0, 2, 5].reduce(
      (s, x) => s + lf(5) - lf(x) - lf(5 - x) + x * Math.log(0.4) + (5 - x) * Math.log(0.6),
      0,
    );
    expect(v).toBeCloseTo(pois + bin, 3);
    k.dispose();
  });

  it('deterministic sites in a plate have the plate shape and come back from Predictive', () => {
    const model = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('J', 4, () => {
        const eta = ppl.sample('eta', new D.Normal(0, 1));
        ppl.deterministic('theta', tf.add(mu, eta));
      });
    };
    setSeed(3);
    const before = tf.memory().numTensors;
    const out = new ppl.Predictive(model, {
      numSamples: 5,
      returnSites: ['theta', 'mu', 'eta'],
    }).call();
    expect(out.theta!.shape).toEqual([5, 4]);
    const th = out.theta!.arraySync() as number[][];
    const mu = out.mu!.dataSync();
    const eta = out.eta!.arraySync() as number[][];
    th.forEach((row, i) => row.forEach((t, j) => expect(t).toBeCloseTo(mu[i]! + eta[i]![j]!, 5)));
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('factor with a plain number adds it once', () => {
    const v = logp(() => {
      ppl.sample('x', new D.Normal(0, 1), { obs: tf.scalar(0) });
      ppl.factor('f', -2.5);
    });
    expect(v).toBeCloseTo(normLp(0) - 2.5, 5);
  });
});
