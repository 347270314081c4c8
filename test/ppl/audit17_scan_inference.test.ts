/**
 * Audit 17 (NumPyro parity): inference on scanned models. A local-level model (Gaussian random
 * walk + noise, known scales) has an exact Gaussian posterior of its latent path (precision
 * `Q = DᵀD / τ² + I / σ²`, mean `Q⁻¹ y / σ²`, computed in float64 here): NUTS (compiled potential)
 * and SVI with AutoNormal (mean-field on a Gaussian posterior: exact means, variances `1 / Q_tt`)
 * against it; `Predictive` forecasting beyond the data (NumPyro's pattern: the latent path given
 * for the first T steps, the rest drawn) against the random walk's predictive moments.
 */
import * as tf from '@tensorflow/tfjs';
import { inverse, Matrix, CholeskyDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { setSeed } from '../../src/utils/seed.js';

const TAU = 0.7;
const SIG = 0.5;
const obs = [0.3, -0.4, 0.9, 1.7, 1.1, 2.0];
const T = obs.length;

/** x_t ~ N(x_{t-1}, τ), y_t ~ N(x_t, σ), x_{-1} = 0; `future` steps past the data are drawn. */
function localLevel(y: tf.Tensor | null, future = 0): void {
  const n = (y?.shape[0] ?? 0) + future;
  const body = (x: tf.Tensor): readonly [tf.Tensor, null] => {
    const xt = ppl.sample('x', new D.Normal(x, TAU));
    ppl.sample('y', new D.Normal(xt, SIG));
    return [xt, null];
  };
  if (y === null) {
    ppl.scan(body, tf.scalar(0), null, { length: n });
    return;
  }
  // NumPyro's forecasting pattern: condition on the first T observations, draw the rest
  ppl.condition(() => ppl.scan(body, tf.scalar(0), null, { length: n }), { y })();
}

/** The exact posterior of the path given `obs`: mean and covariance (float64). */
function exactPosterior(): { mean: number[]; cov: Matrix } {
  const Q = Matrix.zeros(T, T);
  for (let t = 0; t < T; t++) {
    Q.set(t, t, Q.get(t, t) + 1 / (TAU * TAU) + 1 / (SIG * SIG));
    if (t + 1 < T) {
      Q.set(t, t, Q.get(t, t) + 1 / (TAU * TAU));
      Q.set(t, t + 1, -1 / (TAU * TAU));
      Q.set(t + 1, t, -1 / (TAU * TAU));
    }
  }
  const inv = inverse(Q);
  const cov = inv.add(inv.transpose()).mul(0.5);
  const b = Matrix.columnVector(obs.map((v) => v / (SIG * SIG)));
  return { mean: cov.mmul(b).to1DArray(), cov };
}

/** Seeded standard normals (float64 Box-Muller on a 32-bit LCG). */
function normals(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out: number[] = [];
  while (out.length < n) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const a = 2 * Math.PI * u();
    out.push(r * Math.cos(a), r * Math.sin(a));
  }
  return out.slice(0, n);
}

describe('scan: inference against the exact local-level posterior', { timeout: 120_000 }, () => {
  const { mean, cov } = exactPosterior();

  it('NUTS (compiled potential) on one latent site x of shape [T]: means within MC SE', async () => {
    const y = tf.tensor1d(obs);
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(new ppl.NUTS(localLevel, { compile: true }), {
      numSamples: 300,
      warmupSteps: 200,
      seed: 3,
      progressBar: false,
    });
    await m.run(y);
    const s = m.getSamples();
    expect(Object.keys(s)).toEqual(['x']);
    expect(s.x?.shape).toEqual([300, T]);
    const draws = s.x?.arraySync() as number[][];
    for (let t = 0; t < T; t++) {
      const col = draws.map((r) => r[t] as number);
      const e = ppl.mcmc.ess([col]);
      const sd = Math.sqrt(cov.get(t, t));
      const avg = col.reduce((a, v) => a + v, 0) / col.length;
      expect(Math.abs(avg - (mean[t] as number))).toBeLessThan(4 * (sd / Math.sqrt(e)));
      const v = col.reduce((a, x) => a + (x - avg) ** 2, 0) / (col.length - 1);
      // the sd within 4 SE of a variance estimate (sd * sqrt(2 / ess) / 2 for the sd)
      expect(Math.abs(Math.sqrt(v) - sd)).toBeLessThan(4 * sd * Math.sqrt(1 / (2 * e)));
    }
    tf.dispose(Object.values(s));
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('a positive scanned latent: the NUTS potential counts the log-Jacobian once per element', async () => {
    // U(z) = -(log p(y, s) + sum_t log s_t), s = exp(z): one Jacobian term per step, not T per step
    const vol = (y: tf.Tensor): void => {
      ppl.scan(
        (c: null, yt: tf.Tensor) => {
          const s = ppl.sample('s', new D.Gamma(2, 2));
          ppl.sample('y', new D.Normal(0, s), { obs: yt });
          return [c, null] as const;
        },
        null,
        y,
      );
    };
    const y = tf.tensor1d(obs);
    const m = new ppl.MCMC(new ppl.NUTS(vol), {
      numSamples: 4,
      warmupSteps: 10,
      seed: 2,
      progressBar: false,
    });
    await m.run(y);
    const s = m.getSamples();
    expect(s.s?.shape).toEqual([4, T]);
    const pe = m.getExtraFields()[0]?.potentialEnergy as ArrayLike<number>;
    const rows = s.s?.arraySync() as number[][];
    rows.forEach((row, i) => {
      // float64 reference: Gamma(2, 2) prior and N(0, s_t) likelihood
      let ref = 0;
      row.forEach((st, t) => {
        ref += Math.log(4) + Math.log(st) - 2 * st; // Gamma(2, rate 2): 4 s e^{-2s}
        ref +=
          -0.5 * Math.log(2 * Math.PI) - Math.log(st) - (obs[t] as number) ** 2 / (2 * st * st);
        ref += Math.log(st); // log|dT/dz| of exp
      });
      expect(pe[i] as number).toBeCloseTo(-ref, 2);
    });
    tf.dispose([y, ...Object.values(s)]);
  });

  it('SVI with AutoNormal: one [T] latent; the means and sds of the exact posterior', () => {
    setSeed(11);
    ppl.clearParamStore();
    const y = tf.tensor1d(obs);
    const guide = new ppl.AutoNormal(localLevel);
    const opt = tf.train.adam(0.05);
    const svi = new ppl.SVI(localLevel, guide, opt, new ppl.TraceELBO({ numParticles: 2 }));
    for (let i = 0; i < 500; i++) svi.step(y);
    // a smaller step to settle (the stochastic gradient's noise scales with it)
    const fine = tf.train.adam(0.005);
    const svi2 = new ppl.SVI(localLevel, guide, fine, new ppl.TraceELBO({ numParticles: 2 }));
    for (let i = 0; i < 200; i++) svi2.step(y);
    fine.dispose();
    const gtr = ppl.trace(guide).getTrace(y);
    expect([...gtr.nodes.values()].filter((s) => s.type === 'sample').map((s) => s.name)).toEqual([
      'x',
    ]);
    expect(gtr.get('x')?.value?.shape).toEqual([T]);
    gtr.dispose();
    const med = guide.median();
    const q = guide.quantiles([0.8413447460685429]);
    const loc = Array.from(med.x?.dataSync() ?? []);
    const hi = Array.from(q.x?.dataSync() ?? []);
    for (let t = 0; t < T; t++) {
      expect(Math.abs((loc[t] as number) - (mean[t] as number))).toBeLessThan(0.07);
      // mean-field on a Gaussian: q's variance is 1 / Q_tt
      const Qinv = inverse(cov);
      const sdMF = 1 / Math.sqrt(Qinv.get(t, t));
      expect(Math.abs((hi[t] as number) - (loc[t] as number) - sdMF)).toBeLessThan(0.2 * sdMF);
    }
    tf.dispose([...Object.values(med), ...Object.values(q)]);
    opt.dispose();
    y.dispose();
    ppl.clearParamStore();
  });

  it('Predictive forecasts F steps past the data: y of shape [S, T + F], random-walk moments', () => {
    const S = 400;
    const F = 3;
    // exact posterior draws of the path: mean + L z
    const L = new CholeskyDecomposition(cov).lowerTriangularMatrix;
    const z = normals(S * T, 5);
    const paths = Array.from({ length: S }, (_, i) => {
      const zi = Matrix.columnVector(z.slice(i * T, (i + 1) * T));
      const d = L.mmul(zi).to1DArray();
      return d.map((v, t) => v + (mean[t] as number));
    });
    const x = tf.tensor2d(paths);
    const y = tf.tensor1d(obs);
    const before = tf.memory().numTensors;
    setSeed(4);
    const out = new ppl.Predictive(localLevel, { posteriorSamples: { x } }).call(y, F);
    expect(out.y?.shape).toEqual([S, T + F]);
    const ys = out.y?.arraySync() as number[][];
    // the first T are the data
    for (const row of ys.slice(0, 3))
      expect(row.slice(0, T)).toEqual(obs.map((v) => Math.fround(v)));
    const last = paths.map((p) => p[T - 1] as number);
    const mLast = last.reduce((a, v) => a + v, 0) / S;
    const vLast = last.reduce((a, v) => a + (v - mLast) ** 2, 0) / (S - 1);
    for (let k = 0; k < F; k++) {
      const col = ys.map((r) => r[T + k] as number);
      const avg = col.reduce((a, v) => a + v, 0) / S;
      const v = col.reduce((a, c) => a + (c - avg) ** 2, 0) / (S - 1);
      const vRef = vLast + (k + 1) * TAU * TAU + SIG * SIG;
      expect(Math.abs(avg - mLast)).toBeLessThan(4 * Math.sqrt((vRef - vLast) / S));
      expect(Math.abs(v - vRef)).toBeLessThan(4 * vRef * Math.sqrt(2 / S));
    }
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});

describe('scan: TraceEnumELBO with a global enumerated site used inside the body', () => {
  it('the loss is -(log p(s) + log Σ_z p(z) Π_t N(y_t | 2z - 1 + s, 1)) at a point-mass guide', () => {
    const ys = [0.5, 1.4, -0.2, 0.9];
    const model = (y: tf.Tensor): void => {
      const s = ppl.sample('s', new D.Normal(0, 1));
      const z = ppl.sample('z', new D.Bernoulli({ probs: 0.3 }), {
        infer: { enumerate: 'parallel' },
      });
      const mu = tf.add(tf.sub(tf.mul(z, 2), 1), s);
      ppl.scan(
        (c: null, yt: tf.Tensor) => {
          ppl.sample('y', new D.Normal(mu, 1), { obs: yt });
          return [c, null] as const;
        },
        null,
        y,
      );
    };
    const guide = (): void => {
      ppl.sample('s', new ppl.Delta(tf.scalar(0.2)));
    };
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    const loss = new ppl.TraceEnumELBO().loss(model, guide, y);
    expect(tf.memory().numTensors).toBe(before);
    const s = 0.2;
    const logN = (v: number, m: number): number => -0.5 * Math.log(2 * Math.PI) - (v - m) ** 2 / 2;
    const lik = (z: number): number => ys.reduce((a, v) => a + logN(v, 2 * z - 1 + s), 0);
    const a = Math.log(0.3) + lik(1);
    const b = Math.log(0.7) + lik(0);
    const mx = Math.max(a, b);
    const ref = -(logN(s, 0) + mx + Math.log(Math.exp(a - mx) + Math.exp(b - mx)));
    expect(loss).toBeCloseTo(ref, 3);
    y.dispose();
  });
});

describe('scan: NUTS with a discrete site summed out outside the body', { timeout: 60_000 }, () => {
  it('the posterior mean and sd of s match a float64 grid (MC SE tolerance)', async () => {
    const ys = [0.5, 1.4, -0.2, 0.9];
    const model = (y: tf.Tensor): void => {
      const s = ppl.sample('s', new D.Normal(0, 1));
      const z = ppl.sample('z', new D.Bernoulli({ probs: 0.3 }), {
        infer: { enumerate: 'parallel' },
      });
      const mu = tf.add(tf.sub(tf.mul(z, 2), 1), s);
      ppl.scan(
        (c: null, yt: tf.Tensor) => {
          ppl.sample('y', new D.Normal(mu, 1), { obs: yt });
          return [c, null] as const;
        },
        null,
        y,
      );
    };
    // grid: p(s | y) ∝ N(s; 0, 1) Σ_z p(z) Π_t N(y_t; 2z - 1 + s, 1)
    const logN = (v: number, m: number): number => -0.5 * Math.log(2 * Math.PI) - (v - m) ** 2 / 2;
    let w0 = 0;
    let w1 = 0;
    let w2 = 0;
    for (let s = -6; s <= 6; s += 1e-3) {
      const a = Math.log(0.3) + ys.reduce((acc, v) => acc + logN(v, 1 + s), 0);
      const b = Math.log(0.7) + ys.reduce((acc, v) => acc + logN(v, -1 + s), 0);
      const w = Math.exp(logN(s, 0)) * (Math.exp(a) + Math.exp(b));
      w0 += w;
      w1 += w * s;
      w2 += w * s * s;
    }
    const mean = w1 / w0;
    const sd = Math.sqrt(w2 / w0 - mean * mean);
    const y = tf.tensor1d(ys);
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 300,
      warmupSteps: 200,
      seed: 5,
      progressBar: false,
    });
    await m.run(y);
    const s = m.getSamples();
    const draws = Array.from(s.s?.dataSync() ?? []);
    const e = ppl.mcmc.ess([draws]);
    const avg = draws.reduce((a, v) => a + v, 0) / draws.length;
    expect(Math.abs(avg - mean)).toBeLessThan(4 * (sd / Math.sqrt(e)));
    tf.dispose([y, ...Object.values(s)]);
  });
});
