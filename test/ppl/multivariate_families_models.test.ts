/**
 * OrderedLogistic, LKJ, Wishart and InverseWishart as sites of ppl models: NUTS on an ordinal
 * regression (recovers the simulated slope within its posterior sd band), an LKJ prior on a 3x3
 * correlation with MVN observations (posterior mean near the truth), a Wishart prior on a
 * precision (against the exact conjugate posterior mean); AutoNormal SVI on the ordinal and the
 * Wishart models; plates and Predictive.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ImproperUniform,
  InverseWishart,
  LKJ,
  MultivariateNormal,
  Normal,
  OrderedLogistic,
  TransformedDistribution,
  Wishart,
  constraints,
} from '../../src/distributions/index.js';
import { bijectors, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const { sample, plate, MCMC, NUTS, SVI, AutoNormal, TraceELBO, Predictive, clearParamStore } = ppl;

afterEach(() => {
  clearSeed();
  clearParamStore();
});

/** Deterministic standard normals (Box-Muller on an LCG). */
function normals(n: number, seed0: number): number[] {
  let s = seed0;
  const u = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s + 0.5) / 2147483648;
  };
  return Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  );
}
const meanSd = (v: number[]): [number, number] => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1))];
};
const column = (t: tf.Tensor, k: number, width: number): number[] =>
  Array.from(t.dataSync()).filter((_, i) => i % width === k);

// ---- ordinal regression: y ~ OrderedLogistic(beta x, c) -------------------------------------
const N_ORD = 250;
const TRUE_BETA = 1.5;
const TRUE_CUTS = [-1, 0.5, 2];
function ordinalData(): { x: tf.Tensor; y: tf.Tensor } {
  const xs = normals(N_ORD, 11);
  let st = 977;
  const uniform = (): number => {
    st = (st * 1103515245 + 12345) % 2147483648;
    return (st + 0.5) / 2147483648;
  };
  // the latent z = beta x + logistic noise, y = #{k : z > c_k}
  const ys = xs.map((x) => {
    const u = uniform();
    const z = TRUE_BETA * x + Math.log(u / (1 - u));
    return TRUE_CUTS.filter((c) => z > c).length;
  });
  return { x: tf.tensor1d(xs), y: tf.tensor1d(ys) };
}
/**
 * The ordinal model; the cutpoints' prior is NumPyro's `ImproperUniform(ordered_vector)` (for
 * NUTS) or, for the autoguide, whose prototype draws each site from its prior, Pyro's
 * `TransformedDistribution(Normal(0, 5).to_event(1), OrderedTransform())`.
 */
function ordinalModel(improper: boolean) {
  return (x: tf.Tensor, y?: tf.Tensor): void => {
    const beta = sample('beta', new Normal(0, 5));
    const c = sample(
      'c',
      improper
        ? new ImproperUniform(constraints.ordered, [], [3])
        : new TransformedDistribution(
            new Normal(tf.zeros([3]), 5).toEvent(1),
            new bijectors.OrderedTransform(),
          ),
    );
    plate('data', x.shape[0] as number, () =>
      sample('y', new OrderedLogistic(tf.mul(beta, x), c), y === undefined ? {} : { obs: y }),
    );
  };
}

describe('OrderedLogistic in models', () => {
  it('NUTS recovers the simulated slope (within 3 posterior sds) with ordered cutpoints; Predictive gives labels in {0..3}; AutoNormal SVI agrees with NUTS', async () => {
    const { x, y } = ordinalData();
    const mcmc = new MCMC(new NUTS(ordinalModel(true)), {
      numSamples: 300,
      warmupSteps: 300,
      progressBar: false,
      seed: 1,
    });
    await mcmc.run(x, y);
    const s = mcmc.getSamples();
    const [bMean, bSd] = meanSd(Array.from((s.beta as tf.Tensor).dataSync()));
    const cuts = s.c as tf.Tensor;
    expect(cuts.shape).toEqual([300, 3]);
    expect(constraints.ordered.checkAll(cuts)).toBe(true);
    expect(bSd).toBeGreaterThan(0.05);
    expect(bSd).toBeLessThan(0.5);
    expect(Math.abs(bMean - TRUE_BETA)).toBeLessThan(3 * bSd);
    const cMeans = [0, 1, 2].map((k) => meanSd(column(cuts, k, 3)));
    cMeans.forEach(([m, sd], k) =>
      expect(Math.abs(m - (TRUE_CUTS[k] as number))).toBeLessThan(3 * sd),
    );
    // Predictive from the posterior draws
    const pred = new Predictive(ordinalModel(true), { posteriorSamples: s, returnSites: ['y'] });
    const out = pred.call(x);
    expect(out.y?.shape).toEqual([300, N_ORD]);
    expect(Array.from(out.y?.dataSync() ?? []).every((v) => [0, 1, 2, 3].includes(v))).toBe(true);
    tf.dispose(Object.values(out));
    // AutoNormal SVI: the slope's loc within 2 NUTS posterior sds of the NUTS mean
    setSeed(4);
    const model = ordinalModel(false);
    const guide = new AutoNormal(model);
    const svi = new SVI(model, guide, tf.train.adam(0.08), new TraceELBO());
    for (let i = 0; i < 300; i++) svi.step(x, y);
    const med = guide.median();
    const bSvi = (med.beta as tf.Tensor).dataSync()[0] as number;
    expect(Math.abs(bSvi - bMean)).toBeLessThan(2 * bSd);
    expect(constraints.ordered.checkAll(med.c as tf.Tensor)).toBe(true);
    tf.dispose(Object.values(med));
    tf.dispose(Object.values(s));
    tf.dispose([x, y]);
  }, 300_000);
});

// ---- LKJ prior on a correlation matrix --------------------------------------------------------
describe('LKJ in models', () => {
  it('NUTS: the posterior mean correlation of 3-D MVN data is near the truth (4 posterior sds); plates batch the site', async () => {
    const truth = [
      [1, 0.6, -0.3],
      [0.6, 1, 0.2],
      [-0.3, 0.2, 1],
    ];
    const n = 300;
    const truthD = new MultivariateNormal([0, 0, 0], { covarianceMatrix: truth });
    const obs = truthD.sample([n], 21);
    truthD.dispose();
    const model = (data: tf.Tensor): void => {
      const c = sample('C', new LKJ(3, 2));
      plate('data', n, () =>
        sample('y', new MultivariateNormal(tf.zeros([3]), { covarianceMatrix: c }), { obs: data }),
      );
    };
    const mcmc = new MCMC(new NUTS(model), {
      numSamples: 200,
      warmupSteps: 200,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run(obs);
    const s = mcmc.getSamples();
    const c = s.C as tf.Tensor;
    expect(c.shape).toEqual([200, 3, 3]);
    expect(constraints.corrMatrix.checkAll(c)).toBe(true);
    // the sample correlation of the data is what the posterior concentrates on
    for (const [i, j] of [
      [1, 0],
      [2, 0],
      [2, 1],
    ] as const) {
      const [m, sd] = meanSd(column(c, i * 3 + j, 9));
      expect(sd).toBeLessThan(0.1);
      expect(Math.abs(m - (truth[i]?.[j] as number))).toBeLessThan(4 * sd + 0.05);
    }
    tf.dispose(Object.values(s));
    obs.dispose();
    // a plate of LKJ sites: one correlation matrix per member
    expectNoLeak(() => {
      const tr = ppl.trace(() => plate('g', 4, () => sample('R', new LKJ(3, 1.5)))).getTrace();
      expect(tr.value('R').shape).toEqual([4, 3, 3]);
      const lp = tr.logProbSum();
      expect(Number.isFinite(lp.dataSync()[0])).toBe(true);
      lp.dispose();
      tr.dispose();
    });
  }, 300_000);
});

// ---- Wishart prior on a precision: conjugate, exact posterior ----------------------------------
describe('Wishart / InverseWishart in models', () => {
  const n = 60;
  const nu0 = 4;
  const v0 = [
    [0.5, 0],
    [0, 0.5],
  ];
  function data(): { y: tf.Tensor; post: number[]; postSd: number[] } {
    const z = normals(2 * n, 5);
    const rows = Array.from({ length: n }, (_, i) => [
      1.2 * (z[2 * i] as number),
      0.5 * (z[2 * i] as number) + 0.8 * (z[2 * i + 1] as number),
    ]);
    // posterior Lambda | y ~ Wishart(nu0 + n, (V0^{-1} + S)^{-1}), S = sum y y^T
    const a = [
      [1 / 0.5, 0],
      [0, 1 / 0.5],
    ];
    for (const r of rows)
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) a[i]![j] = a[i]![j]! + r[i]! * r[j]!;
    const det = (a[0]![0]! * a[1]![1]! - a[0]![1]! * a[1]![0]!) as number;
    const vn = [
      [a[1]![1]! / det, -a[0]![1]! / det],
      [-a[1]![0]! / det, a[0]![0]! / det],
    ];
    const nun = nu0 + n;
    const post = vn.flat().map((v) => nun * v);
    const postSd = [0, 1, 2, 3].map((k) => {
      const [i, j] = [Math.floor(k / 2), k % 2];
      return Math.sqrt(nun * (vn[i]![j]! ** 2 + vn[i]![i]! * vn[j]![j]!));
    });
    return { y: tf.tensor2d(rows), post, postSd };
  }
  const model = (y: tf.Tensor): void => {
    const lam = sample('Lam', new Wishart(nu0, { covarianceMatrix: v0 }));
    plate('data', n, () =>
      sample('y', new MultivariateNormal(tf.zeros([2]), { precisionMatrix: lam }), { obs: y }),
    );
  };

  it('NUTS: the posterior mean of a Wishart-prior precision matches the exact conjugate mean (5 MC standard errors)', async () => {
    const { y, post, postSd } = data();
    const ns = 300;
    const mcmc = new MCMC(new NUTS(model), {
      numSamples: ns,
      warmupSteps: 250,
      progressBar: false,
      seed: 3,
    });
    await mcmc.run(y);
    const s = mcmc.getSamples();
    const lam = s.Lam as tf.Tensor;
    expect(lam.shape).toEqual([ns, 2, 2]);
    for (let k = 0; k < 4; k++) {
      const [m] = meanSd(column(lam, k, 4));
      // effective sample size of NUTS here is at least ns / 4
      expect(Math.abs(m - (post[k] as number))).toBeLessThan(
        5 * ((postSd[k] as number) / Math.sqrt(ns / 4)),
      );
    }
    tf.dispose(Object.values(s));
    y.dispose();
  }, 300_000);

  it('AutoNormal SVI on the Wishart model: the guide median near the exact posterior mean (1.5 posterior sds); InverseWishart as a covariance prior runs in Predictive', () => {
    const { y, post, postSd } = data();
    setSeed(6);
    const guide = new AutoNormal(model);
    const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceELBO());
    for (let i = 0; i < 300; i++) svi.step(y);
    const med = guide.median();
    const lam = Array.from((med.Lam as tf.Tensor).dataSync());
    lam.forEach((v, k) =>
      expect(Math.abs(v - (post[k] as number))).toBeLessThan(1.5 * (postSd[k] as number)),
    );
    tf.dispose(Object.values(med));
    y.dispose();
    // InverseWishart prior on a covariance, prior predictive draws
    const iwModel = (): void => {
      const cov = sample(
        'Sigma',
        new InverseWishart(5, [
          [1, 0.3],
          [0.3, 1],
        ]),
      );
      plate('data', 7, () =>
        sample('y', new MultivariateNormal(tf.zeros([2]), { covarianceMatrix: cov })),
      );
    };
    const out = new Predictive(iwModel, { numSamples: 5 }).call();
    expect(out.Sigma?.shape).toEqual([5, 2, 2]);
    expect(out.y?.shape).toEqual([5, 7, 2]);
    expect(constraints.positiveDefinite.checkAll(out.Sigma as tf.Tensor)).toBe(true);
    tf.dispose(Object.values(out));
  }, 300_000);
});

describe('corrMatrix parameters', () => {
  it('a param constrained to corrMatrix lives on correlation matrices and save()/load() round-trips it', () => {
    const store = ppl.getParamStore();
    const baseline = tf.memory().numTensors;
    const init = [
      [1, 0.4, -0.2],
      [0.4, 1, 0.1],
      [-0.2, 0.1, 1],
    ];
    store.set('C', init, constraints.corrMatrix);
    const saved = store.save();
    const json = JSON.parse(JSON.stringify(saved.spec)) as ppl.ParamStoreSpec;
    store.clear();
    store.load({ spec: json, weights: saved.weights });
    const t = store.value('C');
    expect(t).toBeAllclose(init.flat(), { atol: 1e-5 });
    expect(store.constraintOf('C').name).toBe('corrMatrix');
    t.dispose();
    store.clear();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
