/**
 * Audit (issue 14): autoguides against exact answers off the seed models. AutoDelta's MAP of a
 * Beta–Bernoulli is the posterior mode in the constrained space ((a - 1)/(a + b - 2)); AutoNormal
 * on a positive latent whose log has a Gaussian posterior recovers it exactly (median and 5/95 %
 * quantiles, which only holds with the Exp bijector's log-det in the guide's density); local
 * latents in plates (shapes, a subsampled plate); a joint guide over sites of several event
 * shapes (latent dimension = sum of unconstrained sizes); Predictive (serial and parallel)
 * shapes with plates.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { normalQuantile } from '../../src/utils/normal_quantile.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

function fit(
  m: (...a: never[]) => void,
  g: ppl.AutoGuide<never[]>,
  steps: number,
  lr: number,
  elbo: ppl.ELBOLoss = new ppl.TraceELBO(),
): void {
  for (const rate of [lr, lr / 10]) {
    const opt = tf.train.adam(rate);
    const svi = new ppl.SVI(m, g, opt, elbo);
    for (let i = 0; i < steps; i++) svi.step();
    opt.dispose();
  }
}

describe('audit14: autoguides against exact answers', { timeout: 300_000 }, () => {
  it('AutoDelta on Beta(2, 2)-Bernoulli with 7 of 10: the MAP is the posterior mode 8/12', () => {
    setSeed(1);
    const flips = [1, 1, 0, 1, 1, 1, 0, 1, 0, 1];
    const model = (): void => {
      const p = ppl.sample('p', new D.Beta(2, 2));
      ppl.plate('flips', 10, () =>
        ppl.sample('y', new D.Bernoulli(p), { obs: tf.tensor1d(flips) }),
      );
    };
    const guide = new ppl.AutoDelta(model);
    fit(model as never, guide as never, 120, 0.1);
    const med = guide.median();
    expect(med.p!.dataSync()[0]).toBeCloseTo(8 / 12, 2);
    tf.dispose(Object.values(med));
    guide.dispose();
  });

  it('AutoNormal on s ~ LogNormal(0, 1), y_i ~ N(log s, 1): median and quantiles of s are exact', () => {
    setSeed(2);
    const ys = [0.8, 1.3, 0.2, 1.9, 0.6];
    // log s | y ~ N(m, v): v = 1 / (1 + n), m = v * sum(y)
    const v = 1 / (1 + ys.length);
    const m = v * ys.reduce((a, b) => a + b, 0);
    const model = (): void => {
      const s = ppl.sample('s', new D.LogNormal(0, 1));
      ppl.plate('data', ys.length, () =>
        ppl.sample('y', new D.Normal(tf.log(s), 1), { obs: tf.tensor1d(ys) }),
      );
    };
    const guide = new ppl.AutoNormal(model);
    fit(
      model as never,
      guide as never,
      300,
      0.05,
      new ppl.TraceELBO({ numParticles: 16, vectorizeParticles: true }),
    );
    const med = guide.median();
    const q = guide.quantiles([0.05, 0.95]);
    const [q05, q95] = Array.from(q.s!.dataSync());
    expect(Math.abs(Math.log(med.s!.dataSync()[0]!) - m)).toBeLessThan(0.02 + 0.05 * Math.sqrt(v));
    const z = normalQuantile(0.95);
    // the spread of log s within 10 %
    const sdHat = (Math.log(q95!) - Math.log(q05!)) / (2 * z);
    expect(Math.abs(sdHat - Math.sqrt(v)) / Math.sqrt(v)).toBeLessThan(0.1);
    tf.dispose([...Object.values(med), ...Object.values(q)]);
    guide.dispose();
  });

  it('local latents in a plate: AutoNormal and AutoDiagonalNormal give draws, medians and quantiles of the plate shape', () => {
    const model = (): void => {
      const tau = ppl.sample('tau', new D.HalfCauchy(1));
      ppl.plate('J', 5, () => {
        const eta = ppl.sample('eta', new D.Normal(0, 1));
        const w = ppl.sample('w', new D.Dirichlet([1, 1, 1]));
        ppl.sample('y', new D.Normal(tf.mul(eta, tau), 1), {
          obs: tf.tensor1d([1, 2, -1, 0.5, 0]),
        });
        return w;
      });
    };
    for (const make of [
      (m: () => void) => new ppl.AutoNormal(m),
      (m: () => void) => new ppl.AutoDiagonalNormal(m),
    ]) {
      setSeed(3);
      const guide = make(model);
      const before = tf.memory().numTensors;
      const tr = ppl.trace(() => guide.call()).getTrace();
      expect(tr.value('eta').shape).toEqual([5]);
      expect(tr.value('w').shape).toEqual([5, 3]);
      expect(tr.value('tau').shape).toEqual([]);
      tr.dispose();
      const med = guide.median();
      expect(med.w!.shape).toEqual([5, 3]);
      const sums = tf.sum(med.w!, -1);
      Array.from(sums.dataSync()).forEach((s) => expect(s).toBeCloseTo(1, 5));
      sums.dispose();
      const q = guide.quantiles([0.25, 0.75]);
      expect(q.eta!.shape).toEqual([2, 5]);
      expect(q.tau!.shape).toEqual([2]);
      tf.dispose([...Object.values(med), ...Object.values(q)]);
      if (guide instanceof ppl.AutoDiagonalNormal) {
        // latent dimension: tau 1 + eta 5 + w 5 * (3 - 1)
        expect(guide.latentDim).toBe(1 + 5 + 10);
      }
      guide.dispose();
      ppl.clearParamStore();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('AutoMultivariateNormal over Dirichlet, LKJCholesky, MVN and a scalar: latent dim = sum of unconstrained sizes', () => {
    setSeed(4);
    const model = (): void => {
      ppl.sample('p', new D.Dirichlet([1, 2, 3, 4])); // 3
      ppl.sample('L', new D.LKJCholesky(3, 2)); // 3
      ppl.sample('x', new D.MultivariateNormal(tf.zeros([2]), { scaleTril: tf.eye(2) })); // 2
      ppl.sample('s', new D.Gamma(2, 1)); // 1
    };
    const guide = new ppl.AutoMultivariateNormal(model);
    const opt = tf.train.adam(0.01);
    const svi = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
    for (let i = 0; i < 3; i++) expect(Number.isFinite(svi.step())).toBe(true);
    expect(guide.latentDim).toBe(3 + 3 + 2 + 1);
    const med = guide.median();
    expect(med.p!.shape).toEqual([4]);
    expect(med.L!.shape).toEqual([3, 3]);
    expect(D.constraints.corrCholesky.checkAll(med.L!)).toBe(true);
    expect(D.constraints.simplex.checkAll(med.p!)).toBe(true);
    tf.dispose(Object.values(med));
    guide.dispose();
    opt.dispose();
  });

  it('a plate subsampled by subsampleSize: AutoNormal draws the subsample, its median covers the plate; explicit indices are refused naming the site', () => {
    setSeed(5);
    const model = (): void => {
      ppl.plate('units', 20, { subsampleSize: 3 }, () => ppl.sample('u', new D.Normal(0, 1)));
    };
    const guide = new ppl.AutoNormal(model);
    const tr = ppl.trace(() => guide.call()).getTrace();
    expect(tr.value('u').shape).toEqual([3]);
    tr.dispose();
    const med = guide.median();
    expect(med.u!.shape).toEqual([20]);
    tf.dispose(Object.values(med));
    guide.dispose();
    ppl.clearParamStore();
    const given = (): void => {
      ppl.plate('units', 20, { subsample: [2, 7, 11] }, () => ppl.sample('u', new D.Normal(0, 1)));
    };
    const g2 = new ppl.AutoNormal(given);
    expect(() => g2.call()).toThrow(/'u'/);
    g2.dispose();
  });

  it('Predictive over a guide with plates: serial and parallel give [numSamples, ...site] and agree in law', () => {
    const model = (obs: tf.Tensor | null): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', 4, () => ppl.sample('y', new D.Normal(mu, 0.1), { obs: obs ?? undefined }));
    };
    setSeed(6);
    const yObs = tf.tensor1d([0.2, 0.4, 0.1, 0.3]);
    const guide = new ppl.AutoNormal(model);
    const opt = tf.train.adam(0.01);
    new ppl.SVI(model, guide, opt, new ppl.TraceELBO()).step(yObs);
    const before = tf.memory().numTensors;
    const serial = new ppl.Predictive(model, { guide, numSamples: 300 }).call(null);
    const par = new ppl.Predictive(model, { guide, numSamples: 300, parallel: true }).call(null);
    expect(serial.y!.shape).toEqual([300, 4]);
    expect(par.y!.shape).toEqual([300, 4]);
    expect(Object.keys(serial)).not.toContain('mu');
    // both: y ~ N(mu_q, sd_q^2 + 0.01) with the guide's mu ~ N(0, ~0.1^2 ... ): compare the means
    const [mS, mP, sdS] = tf.tidy(() => [
      tf.mean(serial.y!).dataSync()[0]!,
      tf.mean(par.y!).dataSync()[0]!,
      tf.sqrt(tf.moments(serial.y!).variance).dataSync()[0]!,
    ]);
    expect(Math.abs(mS! - mP!)).toBeLessThan(5 * sdS! * Math.sqrt(2 / 300) + 0.05);
    tf.dispose([...Object.values(serial), ...Object.values(par)]);
    expect(tf.memory().numTensors).toBe(before);
    guide.dispose();
    opt.dispose();
    yObs.dispose();
  });
});
