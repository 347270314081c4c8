import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Normal } from '../../src/distributions/normal.js';
import {
  AutoDelta,
  AutoDiagonalNormal,
  AutoNormal,
  clearParamStore,
  constraints,
  getParamStore,
  param,
  plate,
  Predictive,
  sample,
  SVI,
  TraceELBO,
  TraceMeanFieldELBO,
  deterministic,
  scale,
  type ELBOLoss,
} from '../../src/ppl/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  clearParamStore();
  clearSeed();
});

/** Run SVI: `steps` at `lr`, then `steps` at `lr / 10` averaging the named params (Polyak). */
function fit<A extends unknown[]>(
  model: (...a: A) => void,
  guide: ((...a: A) => void) | { call(...a: A): unknown },
  loss: ELBOLoss,
  args: A,
  names: () => string[],
  steps: number,
  lr: number,
): Record<string, number[]> {
  const svi1 = new SVI(model, guide, tf.train.adam(lr), loss);
  for (let i = 0; i < steps; i++) svi1.step(...args);
  const svi2 = new SVI(model, guide, tf.train.adam(lr / 10), loss);
  const sums: Record<string, number[]> = {};
  for (let i = 0; i < steps; i++) {
    svi2.step(...args);
    for (const n of names()) {
      const v = getParamStore().value(n);
      const vals = Array.from(v.dataSync());
      v.dispose();
      const s = (sums[n] ??= vals.map(() => 0));
      vals.forEach((x, j) => (s[j] = (s[j] as number) + x / steps));
    }
  }
  return sums;
}

/**
 * `P` vectorized particles: the latent gets a leading batch of `P` draws and `scale(1/P)` turns
 * the summed ELBO into the particle average (Pyro's `vectorize_particles`), so each step's
 * gradient has 1/sqrt(P) of the single-sample noise. Parameters are broadcast with `zeros + x`
 * (tfjs's `broadcastTo` gradient costs one slice and one add per repetition).
 */
const P = 1024;
const particles = <A extends unknown[]>(fn: (...a: A) => void) => scale(fn, 1 / P);

describe('SVI', () => {
  it('recovers the exact posterior of a conjugate Normal-Normal model within 2%', () => {
    setSeed(0);
    // mu ~ N(1, 2^2), y_i ~ N(mu, 1.5^2), n = 20
    const yv = Array.from({ length: 20 }, (_, i) => 2.5 + Math.sin(i * 1.7) * 1.5);
    const y = tf.tensor2d(yv, [20, 1]);
    const prec = 1 / 4 + 20 / 2.25;
    const postMean = (1 / 4 + yv.reduce((a, b) => a + b, 0) / 2.25) / prec;
    const postSd = Math.sqrt(1 / prec);
    const model = particles((obs: tf.Tensor): void => {
      const mu = sample('mu', new Normal(tf.fill([P], 1), 2));
      // the particles occupy dim -1, the data plate dim -2
      plate('data', 20, { dim: -2 }, () =>
        sample('y', new Normal(tf.reshape(mu, [1, P]), 1.5), { obs }),
      );
    });
    const guide = particles((): void => {
      const loc = param('loc', 0);
      const sd = param('scale', 1, { constraint: constraints.positive });
      sample('mu', new Normal(tf.add(tf.zeros([P]), loc), tf.add(tf.zeros([P]), sd)));
    });
    const got = fit(model, guide, new TraceMeanFieldELBO(), [y], () => ['loc', 'scale'], 80, 0.1);
    expect((got.loc as number[])[0]).toBeAllclose(postMean, { rtol: 0.02 });
    expect((got.scale as number[])[0]).toBeAllclose(postSd, { rtol: 0.02 });
    y.dispose();
  });

  it('does not leak tensors per step (TraceELBO and TraceMeanFieldELBO, plates, autoguide)', () => {
    const x = tf.randomNormal([16, 3]);
    const y = tf.randomNormal([16]);
    const model = (xs: tf.Tensor, ys: tf.Tensor): void => {
      const w = sample('w', new Normal(tf.zeros([3]), 1));
      const mean = tf.squeeze(tf.matMul(xs, tf.reshape(w, [3, 1])), [1]);
      plate('data', 100, { subsampleSize: 16 }, (idx) => {
        void idx;
        sample('y', new Normal(mean, 1), { obs: ys });
      });
    };
    for (const loss of [new TraceELBO(), new TraceMeanFieldELBO()]) {
      const guide = new AutoNormal(model);
      const svi = new SVI(model, guide, tf.train.adam(0.01), loss);
      svi.step(x, y); // creates the params and the optimizer's slots
      svi.step(x, y);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) svi.step(x, y);
      expect(tf.memory().numTensors).toBe(before);
      clearParamStore();
    }
    tf.dispose([x, y]);
  });

  it('rejects a non-optimizer', () => {
    expect(
      () =>
        new SVI(
          () => 0,
          () => 0,
          {} as tf.Optimizer,
          new TraceELBO(),
        ),
    ).toThrow(/optimizer/);
  });
});

describe('Bayesian linear regression', () => {
  // y = X w + noise, noise sd 0.5, prior w ~ N(0, I); X has orthogonal columns, so the exact
  // posterior covariance is diagonal and the mean-field optimum equals the closed form.
  const n = 40;
  const xs: number[][] = Array.from({ length: n }, (_, i) => [
    Math.cos((2 * Math.PI * i) / n),
    Math.sin((2 * Math.PI * i) / n),
  ]);
  // true weights [1.5, -0.7] plus a deterministic wiggle
  const ys = xs.map(
    ([a, b], i) => (a as number) * 1.5 + (b as number) * -0.7 + 0.3 * Math.sin(7 * i),
  );
  const closedForm = (): { mean: number[]; sd: number[] } => {
    // precision = I + X^T X / s^2 (diagonal here), mean = precision^{-1} X^T y / s^2
    const s2 = 0.25;
    return {
      mean: [0, 1].map((j) => {
        const xtx = xs.reduce((a, r) => a + (r[j] as number) ** 2, 0);
        const xty = xs.reduce((a, r, i) => a + (r[j] as number) * (ys[i] as number), 0);
        return xty / s2 / (1 + xtx / s2);
      }),
      sd: [0, 1].map(
        (j) => 1 / Math.sqrt(1 + xs.reduce((a, r) => a + (r[j] as number) ** 2, 0) / s2),
      ),
    };
  };
  const model = (x: tf.Tensor, y: tf.Tensor): void => {
    const w = sample('w', new Normal(tf.zeros([2]), 1));
    const mean = deterministic('mean', tf.squeeze(tf.matMul(x, tf.reshape(w, [2, 1])), [1]));
    plate('data', n, () => sample('y', new Normal(mean, 0.5), { obs: y }));
  };

  it('the mean-field SVI posterior matches the closed form (mean and sd within 2%)', () => {
    setSeed(1);
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys, [n, 1]);
    const vmodel = particles((xx: tf.Tensor, yy: tf.Tensor): void => {
      const w = sample('w', new Normal(tf.zeros([P, 2]), 1)); // [P, 2]
      plate('data', n, { dim: -2 }, () =>
        sample('y', new Normal(tf.matMul(xx, w, false, true), 0.5), { obs: yy }),
      );
    });
    const vguide = particles((): void => {
      const loc = param('w_loc', tf.zeros([2]));
      const sd = param('w_scale', tf.fill([2], 0.5), { constraint: constraints.positive });
      sample('w', new Normal(tf.add(tf.zeros([P, 2]), loc), tf.add(tf.zeros([P, 2]), sd)));
    });
    const got = fit(vmodel, vguide, new TraceELBO(), [x, y], () => ['w_loc', 'w_scale'], 80, 0.1);
    const cf = closedForm();
    expect(got.w_loc).toBeAllclose(cf.mean, { rtol: 0.02 });
    expect(got.w_scale).toBeAllclose(cf.sd, { rtol: 0.02 });
    tf.dispose([x, y]);
  });

  it('AutoNormal approaches the closed form', () => {
    setSeed(1);
    const x = tf.tensor2d(xs);
    const y = tf.tensor1d(ys);
    const guide = new AutoNormal(model);
    const got = fit(
      model,
      guide,
      new TraceMeanFieldELBO(),
      [x, y],
      () => [guide.locName('w'), guide.scaleName('w')],
      200,
      0.1,
    );
    const cf = closedForm();
    expect(got[guide.locName('w')]).toBeAllclose(cf.mean, { rtol: 0.05 });
    expect(got[guide.scaleName('w')]).toBeAllclose(cf.sd, { rtol: 0.2 });
    tf.dispose([x, y]);
  });

  it('AutoDiagonalNormal and AutoDelta (MAP) find the posterior mode', () => {
    setSeed(2);
    const x = tf.tensor2d(xs);
    const y = tf.tensor1d(ys);
    const cf = closedForm();
    const diag = new AutoDiagonalNormal(model);
    const svi = new SVI(model, diag, tf.train.adam(0.05), new TraceMeanFieldELBO());
    for (let i = 0; i < 150; i++) svi.step(x, y);
    const med = diag.median();
    expect(med.w).toBeAllclose(cf.mean, { rtol: 0.15 });
    tf.dispose(Object.values(med));
    clearParamStore();
    const delta = new AutoDelta(model);
    const svi2 = new SVI(model, delta, tf.train.adam(0.05), new TraceELBO());
    for (let i = 0; i < 200; i++) svi2.step(x, y);
    const map = delta.median();
    // Gaussian posterior: the MAP is the posterior mean; AutoDelta is deterministic
    expect(map.w).toBeAllclose(cf.mean, { rtol: 0.01 });
    tf.dispose(Object.values(map));
    tf.dispose([x, y]);
  });

  it('Predictive returns posterior draws of latent and deterministic sites', () => {
    setSeed(3);
    const x = tf.tensor2d(xs);
    const y = tf.tensor1d(ys);
    const guide = new AutoNormal(model);
    const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceMeanFieldELBO());
    for (let i = 0; i < 50; i++) svi.step(x, y);
    const before = tf.memory().numTensors;
    const pred = new Predictive(model, { guide, numSamples: 400, returnSites: ['w', 'mean'] });
    const out = pred.call(x, y);
    expect(out.w?.shape).toEqual([400, 2]);
    expect(out.mean?.shape).toEqual([400, n]);
    // the draws follow the guide: mean within 4 standard errors, sd within 15%
    const loc = guide.median().w as tf.Tensor;
    const sd = guide.scales().w as tf.Tensor;
    const m = tf.tidy(() => tf.mean(out.w as tf.Tensor, 0));
    const s = tf.tidy(() => tf.sqrt(tf.moments(out.w as tf.Tensor, 0).variance));
    const se = Array.from(sd.dataSync()).map((v) => (4 * v) / Math.sqrt(400));
    Array.from(m.dataSync()).forEach((v, j) =>
      expect(Math.abs(v - (loc.dataSync()[j] as number))).toBeLessThan(se[j] as number),
    );
    expect(s).toBeAllclose(sd, { rtol: 0.15 });
    // deterministic site = x w for each draw
    const mean0 = tf.tidy(() =>
      tf.squeeze(
        tf.matMul(x, tf.reshape(tf.slice(out.w as tf.Tensor, [0, 0], [1, 2]), [2, 1])),
        [1],
      ),
    );
    const first = tf.slice(out.mean as tf.Tensor, [0, 0], [1, n]);
    expect(first).toBeAllclose(mean0, { rtol: 1e-4, atol: 1e-5 });
    tf.dispose([m, s, loc, sd, mean0, first, ...Object.values(out)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
