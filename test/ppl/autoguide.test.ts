import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// Bayesian linear regression with known noise: w ~ N(0, s0^2 I_2), y = X w + N(0, s^2)
const n = 12;
const xs = Array.from({ length: n }, (_, i) => [1, -1 + (2 * i) / (n - 1) + 0.3]); // correlated columns
const wTrue = [0.7, -1.3];
const ys = xs.map(
  ([a, b], i) =>
    (a as number) * (wTrue[0] as number) +
    (b as number) * (wTrue[1] as number) +
    0.4 * Math.sin(3 * i),
);
const [s0, s] = [2, 0.5];
/** Exact posterior N(m, S): S^-1 = I/s0^2 + X^T X / s^2, m = S X^T y / s^2 (2 x 2, float64). */
function exactPosterior(): { m: number[]; S: number[][] } {
  let [a, b, c] = [1 / s0 ** 2, 0, 1 / s0 ** 2];
  let [r0, r1] = [0, 0];
  xs.forEach(([x0, x1], i) => {
    a += ((x0 as number) * (x0 as number)) / s ** 2;
    b += ((x0 as number) * (x1 as number)) / s ** 2;
    c += ((x1 as number) * (x1 as number)) / s ** 2;
    r0 += ((x0 as number) * (ys[i] as number)) / s ** 2;
    r1 += ((x1 as number) * (ys[i] as number)) / s ** 2;
  });
  const det = a * c - b * b;
  const S = [
    [c / det, -b / det],
    [-b / det, a / det],
  ];
  return {
    m: [
      (S[0]?.[0] as number) * r0 + (S[0]?.[1] as number) * r1,
      (S[1]?.[0] as number) * r0 + (S[1]?.[1] as number) * r1,
    ],
    S,
  };
}
const X = (): tf.Tensor => tf.tensor2d(xs);
const regression = (x: tf.Tensor, y: tf.Tensor): void => {
  const w = ppl.sample('w', new D.Normal(tf.zeros([2]), s0).toEvent(1));
  // w is [2], or [P, 1, 2] under vectorized particles (their plate at dim -2): mean [n] or [P, n]
  const mean = tf.sum(tf.mul(w, x), -1);
  ppl.plate('data', n, () => ppl.sample('y', new D.Normal(mean, s), { obs: y }));
};

function fitVectorized<A extends unknown[]>(
  m: (...a: A) => void,
  g: ppl.AutoGuide<A>,
  args: A,
  steps: number,
  lr: number,
): void {
  const elbo = new ppl.TraceELBO({ numParticles: 32, vectorizeParticles: true });
  for (const [rate, k] of [
    [lr, steps],
    [lr / 10, steps],
  ] as const) {
    const svi = new ppl.SVI(m, g, tf.train.adam(rate), elbo);
    for (let i = 0; i < k; i++) svi.step(...args);
  }
}

// generous: SVI runs are slow on a loaded shared machine
describe('AutoMultivariateNormal', { timeout: 600_000 }, () => {
  it('recovers the exact Gaussian posterior of regression weights, covariance included', () => {
    setSeed(0);
    const x = X();
    const y = tf.tensor1d(ys);
    const guide = new ppl.AutoMultivariateNormal(regression);
    fitVectorized(regression, guide, [x, y], 150, 0.08);
    const { m, S } = exactPosterior();
    const loc = Array.from(ppl.getParamStore().value('AutoMultivariateNormal.loc').dataSync());
    const cov = guide.covariance();
    const c = cov.arraySync() as number[][];
    cov.dispose();
    loc.forEach((v, j) =>
      expect(Math.abs(v - (m[j] as number)) / Math.abs(m[j] as number)).toBeLessThan(0.02),
    );
    for (const j of [0, 1]) {
      const sd = Math.sqrt((S[j] as number[])[j] as number);
      expect(Math.abs(Math.sqrt((c[j] as number[])[j] as number) - sd) / sd).toBeLessThan(0.1);
    }
    // the correlation (strongly negative for this design) is recovered too
    const rho = (S[0]?.[1] as number) / Math.sqrt((S[0]?.[0] as number) * (S[1]?.[1] as number));
    const rhoQ = (c[0]?.[1] as number) / Math.sqrt((c[0]?.[0] as number) * (c[1]?.[1] as number));
    expect(Math.abs(rhoQ - rho)).toBeLessThan(0.05);
    guide.dispose();
    tf.dispose([x, y]);
  });
});

// generous: SVI runs are slow on a loaded shared machine
describe('AutoLaplaceApproximation', { timeout: 600_000 }, () => {
  it('MAP then the inverse Hessian: exact for a Gaussian posterior', () => {
    setSeed(1);
    const x = X();
    const y = tf.tensor1d(ys);
    const guide = new ppl.AutoLaplaceApproximation(regression);
    const svi = new ppl.SVI(regression, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 250; i++) svi.step(x, y);
    const laplace = guide.laplaceApproximation(x, y);
    const { m, S } = exactPosterior();
    const loc = Array.from(ppl.getParamStore().value(`${laplace.prefix}.loc`).dataSync());
    const c = laplace.covariance();
    loc.forEach((v, j) => expect(v).toBeCloseTo(m[j] as number, 2));
    expect(c).toBeAllclose(S, { rtol: 0.02, atol: 1e-4 });
    c.dispose();
    const q = laplace.quantiles([0.5]);
    expect((q.w as tf.Tensor).shape).toEqual([1, 2]);
    tf.dispose(Object.values(q));
    laplace.dispose();
    guide.dispose();
    tf.dispose([x, y]);
  });
});

// generous: SVI runs are slow on a loaded shared machine
describe('guides respect supports', { timeout: 600_000 }, () => {
  const model = (): void => {
    ppl.sample('tau', new D.HalfNormal(2));
    ppl.sample('p', new D.Beta(2, 3));
    ppl.sample('u', new D.Uniform(-1, 4));
  };
  const kinds: [string, (m: () => void) => ppl.AutoGuide<[]>][] = [
    ['AutoNormal', (m) => new ppl.AutoNormal(m)],
    ['AutoDiagonalNormal', (m) => new ppl.AutoDiagonalNormal(m)],
    ['AutoMultivariateNormal', (m) => new ppl.AutoMultivariateNormal(m)],
    ['AutoLowRankMultivariateNormal', (m) => new ppl.AutoLowRankMultivariateNormal(m, { rank: 1 })],
    ['AutoIAFNormal', (m) => new ppl.AutoIAFNormal(m, { numTransforms: 2, hiddenDims: [6] })],
    ['AutoDelta', (m) => new ppl.AutoDelta(m)],
    ['AutoLaplaceApproximation', (m) => new ppl.AutoLaplaceApproximation(m)],
  ];
  it.each(kinds)('%s draws in the support, has a finite loss, and does not leak', (_, make) => {
    setSeed(2);
    const guide = make(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 3; i++) expect(Number.isFinite(svi.step())).toBe(true);
    expectNoLeak(() => {
      svi.step();
    });
    const draws = guide.samplePosterior(500);
    const tau = Array.from((draws.tau as tf.Tensor).dataSync());
    const p = Array.from((draws.p as tf.Tensor).dataSync());
    const u = Array.from((draws.u as tf.Tensor).dataSync());
    expect(tau.every((v) => v > 0)).toBe(true);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    expect(u.every((v) => v > -1 && v < 4)).toBe(true);
    tf.dispose(Object.values(draws));
    const med = guide.median();
    expect((med.tau as tf.Tensor).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose(Object.values(med));
    const q = guide.quantiles([0.1, 0.9]);
    const qt = Array.from((q.tau as tf.Tensor).dataSync());
    expect(qt[0]).toBeLessThanOrEqual(qt[1] as number);
    tf.dispose(Object.values(q));
    guide.dispose();
  });

  it('AutoNormal quantiles are T(loc + scale * z_q) per site', () => {
    setSeed(3);
    const guide = new ppl.AutoNormal(model, { initScale: 0.3 });
    tf.tidy(() => {
      guide.call();
    });
    const q = guide.quantiles([0.05, 0.5, 0.95]);
    // tau = exp(u), u ~ N(0, 0.3): quantiles exp(±1.6449 * 0.3), 1
    expect(q.tau).toBeAllclose(
      [[Math.exp(-1.6448536 * 0.3)], [1], [Math.exp(1.6448536 * 0.3)]].map((r) => r[0] as number),
      { rtol: 1e-4 },
    );
    tf.dispose(Object.values(q));
    guide.dispose();
  });
});

describe('site errors name the site', () => {
  it('a discrete latent for a continuous autoguide', () => {
    const m = (): void => {
      ppl.sample('k', new D.Poisson(2));
    };
    expect(() => tf.tidy(() => new ppl.AutoNormal(m).call())).toThrow(/'k'.*discrete/);
  });

  it('a model site missing from the guide, and a guide site absent from the model', () => {
    const m = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(0, 1));
    };
    const g1 = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
    };
    const g2 = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(0, 1));
      ppl.sample('c', new D.Normal(0, 1));
    };
    expect(() => new ppl.TraceELBO().loss(m, g1)).toThrow(/'b'.*missing from the guide/);
    expect(() => new ppl.TraceELBO().loss(m, g2)).toThrow(/'c'.*does not appear in the model/);
  });

  it('a value outside the support, and a shape that does not broadcast with its plate', () => {
    const m = (y: tf.Tensor): void => {
      ppl.sample('rate', new D.Gamma(2, 1));
      ppl.plate('data', 3, () => ppl.sample('count', new D.Poisson(2), { obs: y }));
    };
    const bad = tf.tensor1d([1, -1, 2]);
    expect(() => ppl.trace(m).getTrace(bad)).toThrow(/'count'.*outside the support/);
    const inPlate = (): void => {
      ppl.plate('J', 8, () => ppl.sample('eta', new D.Normal(tf.zeros([3]), 1)));
    };
    expect(() => ppl.trace(inPlate).getTrace()).toThrow(/'eta'.*plate 'J'.*\[3\]/);
    bad.dispose();
  });

  it('plates broadcast sites: plate J of 8 gives eta of shape [8]; nested plates allocate dims', () => {
    const m = (): void => {
      ppl.plate('J', 8, () => ppl.sample('eta', new D.Normal(0, 1)));
      ppl.plate('a', 3, () => ppl.plate('b', 2, () => ppl.sample('z', new D.Normal(0, 1))));
    };
    const tr = ppl.trace(m).getTrace();
    expect(tr.value('eta').shape).toEqual([8]);
    expect(tr.value('z').shape).toEqual([2, 3]);
    tr.dispose();
  });
});

describe('factor and the param store', () => {
  it('factor adds its log-weight to the log-joint', () => {
    const m = (): void => {
      const x = ppl.sample('x', new D.Normal(0, 1), { obs: 0.5 });
      ppl.factor('f', tf.mul(x, 3));
    };
    const tr = ppl.trace(m).getTrace();
    expect(tr.logProbSum()).toBeAllclose(-0.5 * Math.log(2 * Math.PI) - 0.125 + 1.5, {
      rtol: 1e-5,
    });
    tr.dispose();
  });

  it('save() and load() round-trip names, constraints and values', () => {
    const store = ppl.getParamStore();
    const baseline = tf.memory().numTensors;
    store.set('a', [1, 2], ppl.constraints.real);
    store.set('b', 0.3, ppl.constraints.positive);
    store.set('c', [0.2, 0.3, 0.5], ppl.constraints.simplex);
    store.set('d', 2.5, ppl.constraints.interval(1, 4));
    store.set('e', 1.5, ppl.constraints.positiveExp);
    const saved = store.save();
    const json = JSON.parse(JSON.stringify(saved.spec)) as ppl.ParamStoreSpec;
    store.clear();
    store.load({ spec: json, weights: saved.weights });
    expect(store.names()).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const [name, v] of [
      ['a', [1, 2]],
      ['b', [0.3]],
      ['c', [0.2, 0.3, 0.5]],
      ['d', [2.5]],
      ['e', [1.5]],
    ] as const) {
      const t = store.value(name);
      expect(t).toBeAllclose(v as unknown as number[], { rtol: 1e-5 });
      t.dispose();
    }
    expect(store.constraintOf('d').name).toBe('interval(1, 4)');
    expect(() => store.load({ spec: json, weights: new Float32Array(2) })).toThrow(/weights/);
    store.clear(); // frees the variables and the transforms' tensors
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
