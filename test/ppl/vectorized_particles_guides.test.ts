import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

type Model = () => void;
type Guide = { call(): Record<string, tf.Tensor> };

// models written to broadcast over the batch dims left of their plates (Pyro's rule)
const MODELS: Record<string, Model> = {
  // a Dirichlet global and a plate of 3 observations of it
  dirichlet: () => {
    const p = ppl.sample('p', new D.Dirichlet(tf.tensor1d([1, 2, 3])));
    ppl.plate('N', 3, () => {
      ppl.sample('y', new D.Categorical({ probs: p }), { obs: tf.tensor1d([0, 2, 2], 'int32') });
    });
  },
  // a Dirichlet per plate member, with a positive global scaling its concentration
  dirichletInPlate: () => {
    const c = ppl.sample('c', new D.Gamma(2, 1));
    ppl.plate('N', 3, () => {
      const alpha = tf.mul(tf.expandDims(c, -1), tf.tensor1d([1, 2, 3]));
      const p = ppl.sample('p', new D.Dirichlet(alpha));
      ppl.sample('y', new D.Categorical({ probs: p }), { obs: tf.tensor1d([0, 2, 2], 'int32') });
    });
  },
  // a correlated MVN global; its coordinates' sum is the location of a plate of 3
  mvn: () => {
    const cov = tf.tensor2d([
      [1, 0.5],
      [0.5, 2],
    ]);
    const m = ppl.sample('m', new D.MultivariateNormal(tf.zeros([2]), { covarianceMatrix: cov }));
    const s = ppl.sample('s', new D.HalfNormal(1));
    ppl.plate('N', 3, () => {
      ppl.sample('x', new D.Normal(tf.sum(m, -1), s), { obs: tf.tensor1d([0.5, -1, 2]) });
    });
  },
  // a global and a local latent in nested plates (dims -1 and -2)
  nested: () => {
    const mu = ppl.sample('mu', new D.Normal(0, 1));
    ppl.plate('A', 2, () => {
      ppl.plate('B', 3, { dim: -2 }, () => {
        const z = ppl.sample('z', new D.Normal(mu, 1));
        ppl.sample('x', new D.Normal(z, 0.5), {
          obs: tf.tensor2d([
            [1, 0.5],
            [2, -1],
            [0, 1],
          ]),
        });
      });
    });
  },
};

/** `-ELBO` of `guide` with `n` particles, vectorized or one by one, at seed `seed`. */
function loss(model: Model, guide: Guide, n: number, vectorize: boolean, seed: number): number {
  setSeed(seed);
  const elbo = new ppl.TraceELBO({ numParticles: n, vectorizeParticles: vectorize });
  return elbo.loss(model, guide);
}

/** Mean and standard error of `-ELBO` from `n` particles drawn one by one. */
function sequentialStats(model: Model, guide: Guide, n: number): { mean: number; sd: number } {
  const xs = Array.from({ length: n }, (_, i) => loss(model, guide, 1, false, 1000 + i));
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, sd };
}

describe('vectorized particles: the loss of the particles drawn one by one', () => {
  for (const [name, model] of Object.entries(MODELS)) {
    it(`${name === 'nested' ? 'AutoLaplaceApproximation' : 'AutoDelta'}, ${name}: equal to 1e-5 (a point mass)`, () => {
      const guide =
        name === 'nested'
          ? new ppl.AutoLaplaceApproximation(model, { initLoc: 'median' }) // a MAP point too
          : new ppl.AutoDelta(model, { initLoc: 'median' });
      setSeed(7);
      tf.dispose(Object.values(guide.call()));
      const seq = loss(model, guide, 4, false, 1);
      const before = tf.memory().numTensors;
      const vec = loss(model, guide, 4, true, 1);
      expect(tf.memory().numTensors).toBe(before);
      expect(Number.isFinite(seq)).toBe(true);
      expect(Math.abs(vec - seq)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(seq)));
    });
  }

  // the stochastic guides: the vectorized mean of 300 particles against the mean of 60 drawn
  // one by one, within 4.5 standard errors of their difference
  const guides: Record<string, (m: Model) => Guide> = {
    AutoNormal: (m) => new ppl.AutoNormal(m, { initScale: 0.3 }),
    AutoDiagonalNormal: (m) => new ppl.AutoDiagonalNormal(m, { initScale: 0.3 }),
    AutoMultivariateNormal: (m) => new ppl.AutoMultivariateNormal(m, { initScale: 0.3 }),
    AutoLowRankMultivariateNormal: (m) =>
      new ppl.AutoLowRankMultivariateNormal(m, { initScale: 0.3, rank: 1 }),
    AutoIAFNormal: (m) => new ppl.AutoIAFNormal(m, { hiddenDims: [6] }),
    AutoNormalMessenger: (m) => new ppl.AutoNormalMessenger(m, { initScale: 0.3 }),
    AutoHierarchicalNormalMessenger: (m) =>
      new ppl.AutoHierarchicalNormalMessenger(m, { initScale: 0.3 }),
    AutoRegressiveMessenger: (m) => new ppl.AutoRegressiveMessenger(m),
    AutoStructured: (m) => new ppl.AutoStructured(m),
    AutoBNAFNormal: (m) => new ppl.AutoBNAFNormal(m, { hiddenFactors: [2] }),
    AutoNormalizingFlow: (m) =>
      new ppl.AutoNormalizingFlow(m, {
        initTransformFn: ppl.affineCouplingFlow({ hiddenDims: [4] }),
      }),
  };
  const cases: [string, string][] = [
    ['AutoNormal', 'dirichlet'],
    ['AutoNormal', 'nested'],
    ['AutoDiagonalNormal', 'mvn'],
    ['AutoMultivariateNormal', 'dirichletInPlate'],
    ['AutoLowRankMultivariateNormal', 'nested'],
    ['AutoIAFNormal', 'dirichlet'],
    ['AutoNormalMessenger', 'mvn'],
    ['AutoHierarchicalNormalMessenger', 'nested'],
    ['AutoRegressiveMessenger', 'dirichlet'],
    ['AutoStructured', 'mvn'],
    ['AutoBNAFNormal', 'nested'],
    ['AutoNormalizingFlow', 'mvn'],
  ];
  for (const [g, m] of cases) {
    it(`${g}, ${m}: within Monte Carlo error`, () => {
      const model = MODELS[m] as Model;
      const guide = (guides[g] as (m: Model) => Guide)(model);
      setSeed(11);
      tf.dispose(Object.values(guide.call()));
      const seq = sequentialStats(model, guide, 60);
      const vec = loss(model, guide, 300, true, 5);
      const se = seq.sd * Math.sqrt(1 / 60 + 1 / 300);
      expect(seq.sd).toBeGreaterThan(0);
      expect(Math.abs(vec - seq.mean)).toBeLessThan(4.5 * se);
    });
  }
});

describe('vectorized particles: a model that does not broadcast over them is refused', () => {
  // p ~ Dirichlet([3]) used elementwise by a plate of 3: p is [P, 1, 3] under the particles, so
  // the plate site's batch shape would be [P, P, 3] and its log-density counted P times
  const bad: Model = () => {
    const p = ppl.sample('p', new D.Dirichlet(tf.tensor1d([1, 2, 3])));
    ppl.plate('N', 3, () => {
      ppl.sample('y', new D.Normal(p, 1), { obs: tf.tensor1d([0, 2, 2]) });
    });
  };

  it('names the site and the option, and leaks nothing', () => {
    const guide = new ppl.AutoDelta(bad, { initLoc: 'median' });
    setSeed(3);
    tf.dispose(Object.values(guide.call()));
    const seq = loss(bad, guide, 4, false, 1);
    expect(Number.isFinite(seq)).toBe(true);
    const before = tf.memory().numTensors;
    expect(() => loss(bad, guide, 4, true, 1)).toThrow(
      /y: model site 'y': under vectorizeParticles .* batch shape \[4,4,3\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
