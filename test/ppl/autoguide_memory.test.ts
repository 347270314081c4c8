/**
 * The autoguides' summaries leave no tensor behind: medians of the flat-latent guides (every
 * bijector's intermediates), AutoNormal's posterior distributions once disposed, and their
 * argument errors.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

afterEach(() => {
  ppl.clearParamStore();
});

// real, positive, simplex and correlation-Cholesky sites: identity, Exp, StickBreaking and
// CorrCholesky bijectors
const model = (): void => {
  ppl.sample('w', new D.Normal(tf.zeros([2]), 1).toEvent(1));
  ppl.sample('sigma', new D.LogNormal(0, 1));
  ppl.sample('p', new D.Dirichlet(tf.ones([3])));
  ppl.sample('L', new D.LKJCholesky(3, 2));
};

function fitted<G extends { call(): unknown }>(make: () => G): G {
  const guide = make();
  tf.dispose(Object.values(guide.call() as Record<string, tf.Tensor>)); // creates the params
  return guide;
}

describe('autoguide summaries', () => {
  it('median() of the flat-latent guides frees the intermediates of every bijector', () => {
    const makers: (() => ppl.AutoContinuous<[]>)[] = [
      () => new ppl.AutoDiagonalNormal(model),
      () => new ppl.AutoMultivariateNormal(model),
      () => new ppl.AutoLowRankMultivariateNormal(model),
    ];
    for (const make of makers) {
      ppl.clearParamStore();
      const guide = fitted(make);
      const ls = guide.locAndScale();
      const loc = Array.from(ls.loc.dataSync());
      tf.dispose([ls.loc, ls.scale]);
      const before = tf.memory().numTensors;
      const med = guide.median();
      expect(Object.keys(med)).toEqual(['w', 'sigma', 'p', 'L']);
      expect(tf.memory().numTensors).toBe(before + 4);
      // the medians are T(loc): sigma = exp(loc[2]); p on the simplex; L a correlation Cholesky
      expect(med.w).toBeAllclose(loc.slice(0, 2), { rtol: 1e-6 });
      expect(med.sigma).toBeAllclose(Math.exp(loc[2] as number), { rtol: 1e-5 });
      tf.tidy(() => {
        expect(tf.sum(med.p as tf.Tensor)).toBeAllclose(1, { atol: 1e-5 });
        expect(tf.sum(tf.square(med.L as tf.Tensor), -1)).toBeAllclose([1, 1, 1], { atol: 1e-5 });
      });
      tf.dispose(Object.values(med));
      expect(tf.memory().numTensors).toBe(before);
      guide.dispose();
    }
  });

  it('median() alone leaves exactly its outputs', () => {
    const guide = fitted(() => new ppl.AutoDiagonalNormal(model));
    const before = tf.memory().numTensors;
    const med = guide.median();
    expect(tf.memory().numTensors).toBe(before + 4);
    tf.dispose(Object.values(med));
    expect(tf.memory().numTensors).toBe(before);
    guide.dispose();
  });

  it("AutoNormal's getPosterior() distributions free their base on dispose()", () => {
    const guide = fitted(() => new ppl.AutoNormal(model));
    const before = tf.memory().numTensors;
    const post = guide.getPosterior();
    const x = post.sigma?.sample([5]) as tf.Tensor;
    expect(x.shape).toEqual([5]);
    x.dispose();
    for (const d of Object.values(post)) d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    guide.dispose();
  });

  it('AutoDelta.quantiles refuses an empty list with an ArgumentError', () => {
    const guide = fitted(() => new ppl.AutoDelta(model));
    const before = tf.memory().numTensors;
    expect(() => guide.quantiles([])).toThrow(/^quantiles: expected a non-empty array/);
    expect(() => guide.quantiles([1])).toThrow(/^quantiles: expected levels in \(0, 1\)/);
    expect(tf.memory().numTensors).toBe(before);
    guide.dispose();
  });
});

describe('an autoguide called on its own (a posterior draw, no handler active)', () => {
  it('leaves exactly its returned values, and still works under SVI afterwards', () => {
    const makers: (() => { call(): Record<string, tf.Tensor>; dispose?: () => void })[] = [
      () => new ppl.AutoNormal(model),
      () => new ppl.AutoDelta(model),
      () => new ppl.AutoDiagonalNormal(model),
      () => new ppl.AutoMultivariateNormal(model),
      () => new ppl.AutoLowRankMultivariateNormal(model),
      () => new ppl.AutoIAFNormal(model),
      () =>
        new ppl.AutoGuideList(model)
          .append(new ppl.AutoDelta(ppl.block(model, { expose: ['w', 'sigma'] })))
          .append(new ppl.AutoNormal(ppl.block(model, { hide: ['w', 'sigma'] }))),
    ];
    for (const make of makers) {
      ppl.clearParamStore();
      const guide = fitted(make);
      const before = tf.memory().numTensors;
      const draw = guide.call();
      // were 4 (AutoNormal) to 18 (AutoMultivariateNormal) tensors more per call
      expect(Object.keys(draw).sort()).toEqual(['L', 'p', 'sigma', 'w']);
      expect(tf.memory().numTensors).toBe(before + 4);
      tf.dispose(Object.values(draw));
      expect(tf.memory().numTensors).toBe(before);
      // the parameters made by the first (standalone) call are live: SVI steps on them
      const svi = new ppl.SVI(model, guide, tf.train.adam(0.01), new ppl.TraceELBO());
      const loss = svi.step();
      expect(Number.isFinite(loss)).toBe(true);
    }
  });
});
