/**
 * NeuTraReparam (Pyro's and NumPyro's neural transport): the reparameterized model's density
 * against the guide's map written out independently, NUTS in the guide's base space against
 * closed-form posteriors (a conjugate hierarchical model with a plate; Neal's funnel with the
 * exact transport built into an IAF), divergences against plain NUTS, errors before any work.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// a conjugate hierarchical model: mu ~ N(0, 2^2), theta_j ~ N(mu, 1), y_j ~ N(theta_j, 0.5^2)
const ys = [1.2, 0.4, 2.0];
const hier = (): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 2));
  ppl.plate('J', ys.length, () => {
    const theta = ppl.sample('theta', new D.Normal(mu, 1));
    ppl.sample('y', new D.Normal(theta, 0.5), { obs: tf.tensor1d(ys) });
  });
};

/** The exact Gaussian posterior of (mu, theta) by the information form, in float64. */
function hierPosterior(): { mean: number[]; sd: number[] } {
  const n = ys.length;
  const d = n + 1;
  // precision matrix P and P m = b
  const P = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const b = new Array<number>(d).fill(0);
  P[0]![0] = 1 / 4 + n;
  for (let j = 0; j < n; j++) {
    P[0]![j + 1] = -1;
    P[j + 1]![0] = -1;
    P[j + 1]![j + 1] = 1 + 4;
    b[j + 1] = 4 * (ys[j] as number);
  }
  // invert by Gauss-Jordan
  const A = P.map((r, i) => [...r, ...Array.from({ length: d }, (_, k) => (k === i ? 1 : 0))]);
  for (let c = 0; c < d; c++) {
    const piv = A[c]![c]!;
    for (let k = 0; k < 2 * d; k++) A[c]![k]! /= piv;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = A[r]![c]!;
      for (let k = 0; k < 2 * d; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  const S = A.map((r) => r.slice(d));
  const mean = S.map((r) => r.reduce((a, v, k) => a + v * (b[k] as number), 0));
  return { mean, sd: S.map((r, i) => Math.sqrt(r[i] as number)) };
}

function fitHier(): ppl.AutoMultivariateNormal<[]> {
  setSeed(0);
  const guide = new ppl.AutoMultivariateNormal(hier);
  const svi = new ppl.SVI(hier, guide, tf.train.adam(0.05), new ppl.TraceELBO());
  for (let i = 0; i < 150; i++) svi.step();
  return guide;
}

describe('NeuTraReparam', () => {
  it('the trace: one shared latent z outside the plate; the log joint is log p(T(z)) + log|det dT/dz|', () => {
    const guide = fitHier();
    const neutra = new ppl.NeuTraReparam(guide);
    expect(neutra.dim).toBe(4);
    expect(neutra.sharedLatentName).toBe('mu_shared_latent');
    const zv = [0.3, -1.2, 0.5, 2.0];
    const z = tf.tensor1d(zv);
    const model = neutra.reparam(hier);
    const tr = ppl.trace(ppl.condition(model, { mu_shared_latent: z })).getTrace();
    expect(tr.get('mu_shared_latent')?.cond).toEqual([]); // not broadcast by plate J
    expect(tr.get('mu')?.isObserved).toBe(true);
    expect(tr.get('theta')?.isObserved).toBe(true);
    // independent map: u = loc + L z with the guide's parameters
    const loc = Array.from(ppl.getParamStore().value('AutoMultivariateNormal.loc').dataSync());
    const L = ppl
      .getParamStore()
      .value('AutoMultivariateNormal.scale_tril')
      .arraySync() as number[][];
    const u = loc.map(
      (l, i) => l + zv.reduce((a, zk, k) => a + (k <= i ? (L[i]![k] as number) * zk : 0), 0),
    );
    expect(tr.value('mu')).toBeAllclose(u[0] as number, { atol: 1e-5 });
    expect(tr.value('theta')).toBeAllclose(u.slice(1), { atol: 1e-5 });
    const logDetL = L.reduce((a, r, i) => a + Math.log(r[i] as number), 0);
    let want = normalRef.logpdf(u[0] as number, 0, 2) + logDetL;
    ys.forEach((y, j) => {
      want += normalRef.logpdf(u[j + 1] as number, u[0] as number, 1);
      want += normalRef.logpdf(y, u[j + 1] as number, 0.5);
    });
    expect(tr.logProbSum().dataSync()[0] as number).toBeCloseTo(want, 3);
    // transformSample maps batches of z to the sites
    const zs = tf.stack([z, tf.zerosLike(z)]);
    expectNoLeak(() => Object.values(neutra.transformSample(zs)));
    const ts = neutra.transformSample(zs);
    expect(ts.theta?.shape).toEqual([2, 3]);
    expect(ts.mu?.shape).toEqual([2]);
    expect(ts.mu).toBeAllclose([u[0] as number, loc[0] as number], { atol: 1e-5 });
    tf.dispose([z, zs, ...Object.values(ts)]);
    tr.dispose();
    neutra.dispose();
    guide.dispose();
  });

  it('NUTS on the NeuTra model (fitted AutoMultivariateNormal, a plate) matches the exact posterior', async () => {
    const guide = fitHier();
    const neutra = new ppl.NeuTraReparam(guide);
    const before = tf.memory().numTensors;
    const mcmc = new ppl.MCMC(new ppl.NUTS(neutra.reparam(hier)), {
      numSamples: 800,
      warmupSteps: 300,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run();
    const s = mcmc.getSamples();
    expect(Object.keys(s).sort()).toEqual(['mu', 'mu_shared_latent', 'theta']);
    const { mean, sd } = hierPosterior();
    const sum = mcmc.summary();
    const ess = Math.min(...(sum.mu_shared_latent?.elements.map((e) => e.essBulk) ?? []));
    expect(ess).toBeGreaterThan(150);
    const got = [sum.mu?.elements[0], ...(sum.theta?.elements ?? [])];
    got.forEach((e, i) => {
      const se = (sd[i] as number) / Math.sqrt(ess);
      expect(Math.abs((e?.mean as number) - (mean[i] as number))).toBeLessThan(4.5 * se);
      expect(Math.abs((e?.sd as number) / (sd[i] as number) - 1)).toBeLessThan(0.15);
    });
    // transformSample of the shared latent's draws gives the recorded sites
    const ts = neutra.transformSample(s.mu_shared_latent as tf.Tensor);
    expect(ts.theta).toBeAllclose(s.theta as tf.Tensor, { atol: 1e-4 });
    tf.dispose([...Object.values(s), ...Object.values(ts)]);
    expect(tf.memory().numTensors).toBe(before);
    neutra.dispose();
    guide.dispose();
  });

  it("Neal's funnel: NUTS through the exact transport (set in an AutoIAFNormal) recovers y ~ N(0, 3²) with fewer divergences than plain NUTS", async () => {
    const dim = 9;
    const funnel = (): void => {
      const y = ppl.sample('y', new D.Normal(0, 3));
      ppl.plate('dim', dim, () => ppl.sample('x', new D.Normal(0, tf.exp(tf.div(y, 2)))));
    };
    const opts = { numSamples: 800, warmupSteps: 400, progressBar: false, seed: 5 };
    const plain = new ppl.MCMC(new ppl.NUTS(funnel), opts);
    await plain.run();
    // one IAF step, u = f(z): y = 3 z_0, x_i = exp(s(z_0)) z_i with s = 1.5 z_0 = y / 2 (the
    // non-centring map): hidden units relu(z_0), relu(-z_0) (degree 1: seen by every x output)
    setSeed(1);
    const hidden = 2 * dim;
    const guide = new ppl.AutoIAFNormal(funnel, { numTransforms: 1, hiddenDims: [hidden] });
    const svi = new ppl.SVI(funnel, guide, tf.train.adam(1e-6), new ppl.TraceELBO());
    svi.step(); // creates the parameters
    const d = dim + 1;
    const w0 = tf.buffer([d, hidden]);
    w0.set(1, 0, 0);
    w0.set(-1, 0, dim); // unit `dim` has degree 1 too (degrees cycle through 1..d-1)
    const sw = tf.buffer([hidden, d]);
    for (let k = 1; k < d; k++) {
      sw.set(1.5, 0, k);
      sw.set(-1.5, dim, k);
    }
    const sb = tf.buffer([d]);
    sb.set(Math.log(3), 0);
    const store = ppl.getParamStore();
    const p = 'AutoIAFNormal.flows.0';
    const set: [string, tf.Tensor][] = [
      [`${p}.w0`, w0.toTensor()],
      [`${p}.b0`, tf.zeros([hidden])],
      [`${p}.shift_w`, tf.zeros([hidden, d])],
      [`${p}.shift_b`, tf.zeros([d])],
      [`${p}.scale_w`, sw.toTensor()],
      [`${p}.scale_b`, sb.toTensor()],
      ['AutoIAFNormal.loc', tf.zeros([d])],
    ];
    for (const [n, v] of set) store.set(n, v);
    tf.dispose(set.map((e) => e[1]));
    const neutra = new ppl.NeuTraReparam(guide);
    const mcmc = new ppl.MCMC(new ppl.NUTS(neutra.reparam(funnel)), opts);
    await mcmc.run();
    const s = mcmc.getSamples();
    const y = Array.from((s.y as tf.Tensor).dataSync());
    const ess = mcmc.summary().y?.elements[0]?.essBulk as number;
    const mean = y.reduce((a, v) => a + v, 0) / y.length;
    const sd = Math.sqrt(y.reduce((a, v) => a + (v - mean) ** 2, 0) / (y.length - 1));
    expect(Math.abs(mean)).toBeLessThan((4 * 3) / Math.sqrt(ess));
    expect(Math.abs(sd - 3)).toBeLessThan(0.3);
    expect(mcmc.numDivergences).toBeLessThan(plain.numDivergences);
    expect(mcmc.numDivergences).toBeLessThanOrEqual(2);
    tf.dispose([...Object.values(s), ...Object.values(plain.getSamples())]);
    neutra.dispose();
    guide.dispose();
  });

  it('a banana (x ~ N(0, 1), y ~ N(x², 0.5²)): NUTS through a fitted AutoIAFNormal (two flows) matches the closed-form moments, with a larger ESS than plain NUTS', async () => {
    const banana = (): void => {
      const x = ppl.sample('x', new D.Normal(0, 1));
      ppl.sample('y', new D.Normal(tf.square(x), 0.5));
    };
    const opts = { numSamples: 1000, warmupSteps: 400, progressBar: false, seed: 8 };
    const plain = new ppl.MCMC(new ppl.NUTS(banana), opts);
    await plain.run();
    const plainEss = Math.min(
      ...['x', 'y'].map((k) => plain.summary()[k]?.elements[0]?.essBulk as number),
    );
    setSeed(6);
    const guide = new ppl.AutoIAFNormal(banana, { hiddenDims: [16] });
    const svi = new ppl.SVI(banana, guide, tf.train.adam(0.01), new ppl.TraceELBO());
    for (let i = 0; i < 1000; i++) svi.step();
    const neutra = new ppl.NeuTraReparam(guide);
    const mcmc = new ppl.MCMC(new ppl.NUTS(neutra.reparam(banana)), opts);
    await mcmc.run();
    const sum = mcmc.summary();
    const ess = Math.min(...['x', 'y'].map((k) => sum[k]?.elements[0]?.essBulk as number));
    expect(ess).toBeGreaterThan(1.5 * plainEss);
    // E x = 0, sd x = 1; E y = E x² = 1, sd y = sqrt(Var x² + 0.25) = 1.5
    const x = sum.x?.elements[0];
    const y = sum.y?.elements[0];
    expect(Math.abs(x?.mean as number)).toBeLessThan(4 / Math.sqrt(ess));
    expect(Math.abs((y?.mean as number) - 1)).toBeLessThan((4 * 1.5) / Math.sqrt(ess));
    expect(Math.abs((x?.sd as number) - 1)).toBeLessThan(0.15);
    expect(Math.abs((y?.sd as number) - 1.5)).toBeLessThan(0.35);
    tf.dispose([...Object.values(mcmc.getSamples()), ...Object.values(plain.getSamples())]);
    neutra.dispose();
    guide.dispose();
  });

  it('getTransform of every Gaussian/flow guide: log q(T(z)) = log N(z; 0, I) - log|det dT/dz|', () => {
    const makers: [string, () => ppl.AutoContinuous<[]>][] = [
      ['AutoDiagonalNormal', () => new ppl.AutoDiagonalNormal(hier)],
      ['AutoMultivariateNormal', () => new ppl.AutoMultivariateNormal(hier)],
      [
        'AutoLowRankMultivariateNormal',
        () => new ppl.AutoLowRankMultivariateNormal(hier, { rank: 2 }),
      ],
      ['AutoIAFNormal', () => new ppl.AutoIAFNormal(hier, { hiddenDims: [8] })],
    ];
    for (const [name, make] of makers) {
      setSeed(4);
      const guide = make();
      const svi = new ppl.SVI(hier, guide, tf.train.adam(0.05), new ppl.TraceELBO());
      for (let i = 0; i < 20; i++) svi.step();
      const t = guide.getTransform();
      const q = guide.getPosterior();
      const z = tf.randomNormal([6, 4], 0, 1, 'float32', 9);
      const { u, logDet } = t.forwardAndLogDet(z);
      const lq = q.logProb(u);
      const want = tf.tidy(() =>
        tf.sub(tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), -1)), 2 * Math.log(2 * Math.PI)), logDet),
      );
      expect(lq, name).toBeAllclose(want, { atol: 2e-3 });
      tf.dispose([z, u, logDet, lq, want]);
      t.dispose();
      q.dispose();
      guide.dispose();
      ppl.clearParamStore();
    }
  });

  it('errors name the guide (not AutoContinuous, never run, no base map) or the site, before any work', () => {
    const before = tf.memory().numTensors;
    expect(() => new ppl.NeuTraReparam(new ppl.AutoNormal(hier) as never)).toThrow(
      /guide.*expected an AutoContinuous guide.*got AutoNormal/,
    );
    expect(() => new ppl.NeuTraReparam(new ppl.AutoMultivariateNormal(hier))).toThrow(
      /has not been run: fit it to the model with SVI first/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const lap = new ppl.AutoLaplaceApproximation(hier);
    const svi = new ppl.SVI(hier, lap, tf.train.adam(0.01), new ppl.TraceELBO());
    svi.step();
    expect(() => new ppl.NeuTraReparam(lap)).toThrow(/guide.*getTransform/);
    const guide = fitHier();
    const neutra = new ppl.NeuTraReparam(guide);
    expect(() => neutra.transformSample(tf.zeros([5, 3]))).toThrow(/latent.*\[\.\.\., 4\]/);
    // an observed site that the guide saw latent
    const observedMu = (): void => {
      ppl.sample('mu', new D.Normal(0, 2), { obs: 1 });
    };
    expect(() => ppl.trace(ppl.reparam(observedMu, { mu: neutra })).getTrace()).toThrow(
      /NeuTraReparam: site 'mu' is observed/,
    );
    neutra.dispose();
    expect(() => neutra.transformSample(tf.zeros([4]))).toThrow(/disposed/);
    guide.dispose();
    lap.dispose();
  });
});
