import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

const logpdf = normalRef.logpdf as (x: number, m: number, s: number) => number;

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const ys = [1, 2, 100, 3]; // entry 2 is a placeholder for a missing value
const observedAt = [true, true, false, true];

// before: obsMask was ignored (log-joint -5010.7, the placeholder scored) and any unknown key
// of sample's options (a typo such as `observed`) left the site latent without a word
describe("sample's obsMask (Pyro's obs_mask)", { timeout: 300_000 }, () => {
  it('scores the observed entries and makes the missing ones a latent site', () => {
    const y = tf.tensor1d(ys);
    const m = tf.tensor1d(observedAt, 'bool');
    const model = (): void => {
      ppl.plate('N', 4, () => ppl.sample('y', new D.Normal(0, 1), { obs: y, obsMask: m }));
    };
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.seed(model, 3)).getTrace();
    expect(tr.sites().map((s) => s.name)).toEqual(['N', 'y_observed', 'y_unobserved', 'y']);
    expect(tr.get('y_observed')?.isObserved).toBe(true);
    expect(tr.get('y_unobserved')?.isObserved).toBe(false);
    const u = Array.from(tr.value('y_unobserved').dataSync());
    const value = Array.from(tr.value('y').dataSync());
    expect(value).toEqual([1, 2, u[2], 3]);
    const hand = logpdf(1, 0, 1) + logpdf(2, 0, 1) + logpdf(3, 0, 1) + logpdf(u[2] as number, 0, 1);
    const lp = tf.tidy(() => tr.logProbSum().dataSync()[0] as number);
    expect(lp).toBeCloseTo(hand, 4); // -5010.7 before (the placeholder 100 scored)
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // outside any handler: the combined value, nothing else kept
    const d = new D.Normal(0, 1);
    const withD = tf.memory().numTensors;
    const v = ppl.sample('y', d, { obs: y, obsMask: [true, true, false, true] });
    expect(v.shape).toEqual([4]);
    v.dispose();
    expect(tf.memory().numTensors).toBe(withD);
    d.dispose();
    tf.dispose([y, m]);
  });

  it('lets SVI impute the missing entry: the exact mean-field optimum', () => {
    // mu ~ N(0, 1), y_i ~ N(mu, 1), y_3 missing: the posterior precision of (mu, y_3) is
    // [[5, -1], [-1, 1]] with mean (1.5, 1.5); the mean-field optimum has those means and
    // standard deviations 1/sqrt(5) and 1
    setSeed(0);
    const y = tf.tensor1d(ys);
    const m = tf.tensor1d(observedAt, 'bool');
    const model = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('N', 4, () => ppl.sample('y', new D.Normal(mu, 1), { obs, obsMask: m }));
    };
    const guide = new ppl.AutoNormal(model);
    const elbo = new ppl.TraceELBO({ numParticles: 16, vectorizeParticles: true });
    for (const [lr, k] of [
      [0.05, 600],
      [0.005, 400],
    ] as const) {
      const svi = new ppl.SVI(model, guide, tf.train.adam(lr), elbo);
      for (let i = 0; i < k; i++) svi.step(y);
    }
    const store = ppl.getParamStore();
    const read = (n: string): number[] => {
      const t = store.value(`AutoNormal.${n}`);
      const a = Array.from(t.dataSync());
      t.dispose();
      return a;
    };
    expect(read('locs.mu')[0]).toBeCloseTo(1.5, 1);
    expect(read('scales.mu')[0]).toBeCloseTo(1 / Math.sqrt(5), 1);
    expect(read('locs.y_unobserved')[2]).toBeCloseTo(1.5, 1);
    expect(read('scales.y_unobserved')[2]).toBeCloseTo(1, 1);
    guide.dispose();
    tf.dispose([y, m]);
  });

  it('rejects a bad obsMask and unknown option keys, naming the site and the key', () => {
    const y = tf.tensor1d(ys);
    const d = new D.Normal(0, 1);
    const run =
      (f: () => void): (() => void) =>
      () =>
        ppl.trace(f).getTrace().dispose();
    const floatMask = tf.ones([4]);
    const before = tf.memory().numTensors;
    expect(run(() => ppl.sample('x', d, { observed: y } as ppl.SampleOptions))).toThrow(
      /observed: not an option of sample\('x'\)/,
    );
    expect(
      run(() => ppl.sample('x', d, { obs: y, obs_mask: [true] } as ppl.SampleOptions)),
    ).toThrow(/obs_mask: not an option of sample\('x'\) \(did you mean obsMask\?\)/);
    expect(run(() => ppl.sample('x', d, { obsMask: [true] }))).toThrow(
      /sample\('x'\): obsMask needs obs/,
    );
    const want = (shape: string, got: string): RegExp =>
      new RegExp(
        `obsMask: sample\\('x'\\): expected a bool mask of the site's batch shape ` +
          `\\[${shape}\\] or one that broadcasts to it .*; got ${got}`,
      );
    expect(run(() => ppl.sample('x', d, { obs: y, obsMask: [true, false] }))).toThrow(
      want('4', 'shape \\[2\\]'),
    );
    expect(run(() => ppl.sample('x', d, { obs: y, obsMask: floatMask }))).toThrow(
      want('4', 'a float32 tensor'),
    );
    expect(run(() => ppl.sample('x', d, { obs: y, obsMask: [1, 0, 1, 1] as never }))).toThrow(
      want('4', 'an array holding number 1'),
    );
    // ragged arrays: tf.tensor would read them with a wrong shape instead of refusing them
    const y2 = [
      [1, 2],
      [3, 4],
    ];
    const n2 = new D.Normal(0, 1);
    const d2 = n2.expand([2, 2]);
    for (const ragged of [
      [[true, false], [true]],
      [[true], [true, false]],
      [true, [true, false]],
    ]) {
      expect(run(() => ppl.sample('x', d2, { obs: y2, obsMask: ragged as never }))).toThrow(
        want('2,2', 'a ragged nested array'),
      );
    }
    // broadcasts with obs [1,4] but not with the distribution's batch shape [3,1]: site [3,4]
    const z3 = tf.zeros([3, 1]);
    const d3 = new D.Normal(z3, 1);
    const m3 = [
      [true, false, true, true],
      [true, true, true, false],
    ];
    expect(run(() => ppl.sample('x', d3, { obs: [[1, 2, 3, 4]], obsMask: m3 }))).toThrow(
      want('3,4', 'shape \\[2,4\\]'),
    );
    d3.dispose();
    n2.dispose();
    z3.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, floatMask]);
  });
});
