/**
 * Pyro's DiscreteCosineReparam and HaarReparam (UnitJacobianReparam): the rewritten trace against
 * float64 inverse transforms and the original density, NUTS on a Gaussian random walk with noisy
 * observations against its exact Gaussian posterior (float64 in the test), and bad sites named.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bijectors, distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const LOG_2PI = Math.log(2 * Math.PI);
const normLog = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;
/** log GRW(x; sigma) in float64: increments from x_0 = 0. */
const grwLog = (x: number[], sigma: number): number =>
  x.reduce((a, v, t) => a + normLog(v - (t === 0 ? 0 : x[t - 1]!), 0, sigma), 0);

/** The inverse orthonormal DCT-II (smooth weights divided out) of a float64 vector. */
function idct64(y: number[], smooth: number): number[] {
  const n = y.length;
  const logW = Array.from({ length: n }, (_, k) => smooth * Math.log(k + 0.5));
  const mean = logW.reduce((a, b) => a + b, 0) / n;
  return Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let k = 0; k < n; k++) {
      const c = Math.sqrt((k === 0 ? 1 : 2) / n) * Math.cos((Math.PI * (j + 0.5) * k) / n);
      s += (c * y[k]!) / Math.exp(logW[k]! - mean);
    }
    return s;
  });
}

/** Pyro's inverse_haar_transform of a float64 vector ([lo, hi, end]). */
function ihaar64(y: number[]): number[] {
  const m = Math.floor(y.length / 2);
  if (m === 0) return [...y];
  const lo = m >= 2 ? ihaar64(y.slice(0, m)) : y.slice(0, m);
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    out.push((lo[i]! + y[m + i]!) / Math.SQRT2, (lo[i]! - y[m + i]!) / Math.SQRT2);
  }
  return [...out, ...y.slice(2 * m)];
}

/** Inverse of a small SPD matrix by Gauss-Jordan (float64). */
function inv(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let k = 0; k < n; k++) {
    const p = m[k]![k]!;
    for (let j = 0; j < 2 * n; j++) m[k]![j] = m[k]![j]! / p;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = m[i]![k]!;
      for (let j = 0; j < 2 * n; j++) m[i]![j] = m[i]![j]! - f * m[k]![j]!;
    }
  }
  return m.map((r) => r.slice(n));
}

describe('DiscreteCosineReparam / HaarReparam: the rewritten trace', () => {
  const T = 6;
  const sigma = 0.7;
  const model = (): void => {
    ppl.sample('x', new D.GaussianRandomWalk(sigma, T));
  };
  const v = [0.3, -1.2, 0.8, 0.1, -0.4, 1.5];

  for (const [label, make, suffix, invRef] of [
    ['DCT smooth 0', () => new ppl.DiscreteCosineReparam(), 'dct', (y: number[]) => idct64(y, 0)],
    [
      'DCT smooth 1',
      () => new ppl.DiscreteCosineReparam(-1, 1),
      'dct',
      (y: number[]) => idct64(y, 1),
    ],
    ['Haar', () => new ppl.HaarReparam(), 'haar', ihaar64],
  ] as const) {
    it(`${label}: x = T^-1(x_${suffix}) and the log joint is the random walk's at x`, () => {
      const rm = ppl.reparam(model, { x: make() });
      const y = tf.tensor1d(v);
      const before = tf.memory().numTensors;
      const tr = ppl.trace(ppl.condition(rm, { [`x_${suffix}`]: y })).getTrace();
      const x = invRef(v);
      expect(tr.value('x')).toBeAllclose(x, { atol: 1e-5 });
      expect(tr.get('x')?.isObserved).toBe(true);
      const lpT = tr.logProbSum();
      expect(lpT.dataSync()[0]).toBeCloseTo(grwLog(x, sigma), 4);
      tf.dispose([lpT]);
      tr.dispose();
      expect(tf.memory().numTensors).toBe(before);
      y.dispose();
    });
  }

  it('a positive site is transformed in log space: log p(x_dct) = log p(x) + Σ log x', () => {
    const m = (): void => {
      ppl.sample('s', new D.LogNormal(0.2, 0.9).expand([5]).toEvent(1));
    };
    const rm = ppl.reparam(m, { s: new ppl.DiscreteCosineReparam(-1, 0.5) });
    const yv = [0.4, -0.3, 1.1, 0.05, -0.6];
    const y = tf.tensor1d(yv);
    const tr = ppl.trace(ppl.condition(rm, { s_dct: y })).getTrace();
    const u = idct64(yv, 0.5);
    expect(tr.value('s')).toBeAllclose(
      u.map((a) => Math.exp(a)),
      { rtol: 1e-5 },
    );
    // LogNormal(x) dx = Normal(log x) d log x: the density of u = log x is the Normal's
    const want = u.reduce((a, b) => a + normLog(b, 0.2, 0.9), 0);
    expect(tr.logProbSum().dataSync()[0]).toBeCloseTo(want, 4);
    tr.dispose();
    y.dispose();
  });

  it('an observed site is observed in the new coordinates, with the same density', () => {
    const obs = tf.tensor1d(v);
    const m = (): void => {
      ppl.sample('x', new D.GaussianRandomWalk(sigma, T), { obs });
    };
    const tr = ppl.trace(ppl.reparam(m, { x: new ppl.HaarReparam(-1, true) })).getTrace();
    expect(tr.get('x_haar')?.isObserved).toBe(true);
    expect(tr.value('x')).toBeAllclose(v);
    expect(tr.logProbSum().dataSync()[0]).toBeCloseTo(grwLog(v, sigma), 4);
    tr.dispose();
    obs.dispose();
  });

  it('a time dim of a matrix event (dim -2) and a plate outside it', () => {
    const m = (): void => {
      ppl.plate('B', 2, () => ppl.sample('z', new D.Normal(0, 1).expand([2, 4, 3]).toEvent(2)));
    };
    const rm = ppl.reparam(m, { z: new ppl.DiscreteCosineReparam(-2, 1) });
    const tr = ppl.trace(rm).getTrace();
    const zt = tr.value('z_dct');
    const b = new bijectors.DiscreteCosineTransform(-2, 1);
    const back = b.inverse(zt);
    expect(tr.value('z').shape).toEqual([2, 4, 3]);
    expect(tr.value('z')).toBeAllclose(Array.from(back.dataSync()), { atol: 1e-5 });
    // an orthonormal map of iid N(0, 1) entries: the density of z_dct is that of z
    const want = Array.from(tr.value('z').dataSync()).reduce((a, x) => a + normLog(x, 0, 1), 0);
    expect(tr.logProbSum().dataSync()[0]).toBeCloseTo(want, 3);
    tf.dispose([back]);
    tr.dispose();
  });

  it('runs without leaking tensors', () => {
    const rm = ppl.reparam(model, { x: new ppl.DiscreteCosineReparam(-1, 1) });
    expectNoLeak(() => {
      const tr = ppl.trace(rm).getTrace();
      const lp = tr.logProbSum();
      tr.dispose();
      return lp;
    });
  });
});

describe('NUTS on a Gaussian random walk with noisy observations: the exact posterior', () => {
  const T = 6;
  const sigma = 1.0;
  const sObs = 0.6;
  const ys = [0.5, 1.4, 0.9, 2.2, 2.6, 1.8];
  const model = (): void => {
    const x = ppl.sample('x', new D.GaussianRandomWalk(sigma, T));
    ppl.sample('y', new D.Normal(x, sObs).toEvent(1), { obs: tf.tensor1d(ys) });
  };
  /** Posterior N(P^-1 y / s², P^-1), P = D^T D / σ² + I / s² (D: first differences). */
  function exact(): { mean: number[]; sd: number[] } {
    const p = Array.from({ length: T }, (_, i) =>
      Array.from({ length: T }, (_, j) => {
        let v = 0;
        for (let t = 0; t < T; t++) {
          const d = (r: number): number => (r === t ? 1 : r === t - 1 ? -1 : 0);
          v += d(i) * d(j);
        }
        return v / sigma ** 2 + (i === j ? 1 / sObs ** 2 : 0);
      }),
    );
    const c = inv(p);
    const mean = c.map((r) => r.reduce((a, v, j) => a + (v * ys[j]!) / sObs ** 2, 0));
    return { mean, sd: c.map((r, i) => Math.sqrt(r[i]!)) };
  }

  for (const [label, make, suffix] of [
    ['DiscreteCosineReparam(smooth 1)', () => new ppl.DiscreteCosineReparam(-1, 1), 'dct'],
    ['HaarReparam', () => new ppl.HaarReparam(), 'haar'],
  ] as const) {
    it(`${label}: posterior means and sds of x within Monte Carlo error`, async () => {
      const rm = ppl.reparam(model, { x: make() });
      const mcmc = new ppl.MCMC(new ppl.NUTS(rm), {
        numSamples: 500,
        warmupSteps: 250,
        progressBar: false,
        seed: 11,
      });
      await mcmc.run();
      const s = mcmc.getSamples();
      expect(Object.keys(s).sort()).toEqual(['x', `x_${suffix}`]);
      const ess = Math.min(
        ...(mcmc.summary()[`x_${suffix}`]?.elements ?? []).map((e) => e.essBulk),
      );
      expect(ess).toBeGreaterThan(80);
      const xs = s.x as tf.Tensor;
      const m = Array.from(tf.tidy(() => tf.mean(xs, 0)).dataSync());
      const sdv = Array.from(tf.tidy(() => tf.sqrt(tf.moments(xs, 0).variance)).dataSync());
      const want = exact();
      m.forEach((v, i) => {
        expect(Math.abs(v - want.mean[i]!)).toBeLessThan((4.5 * want.sd[i]!) / Math.sqrt(ess));
        // sd of a sample sd ≈ sd / sqrt(2 ess)
        expect(Math.abs(sdv[i]! - want.sd[i]!)).toBeLessThan(
          (5 * want.sd[i]!) / Math.sqrt(2 * ess),
        );
      });
      tf.dispose(Object.values(s));
    });
  }
});

describe('SVI on the frequency-domain site', () => {
  it('AutoNormal on x_dct recovers the exact posterior mean of a Gaussian random walk', () => {
    // mean-field VI on a Gaussian posterior has the exact means, in any linear coordinates
    setSeed(8);
    const T = 5;
    const ys = [0.4, 1.1, 0.7, 1.9, 2.3];
    const model = (): void => {
      const x = ppl.sample('x', new D.GaussianRandomWalk(1, T));
      ppl.sample('y', new D.Normal(x, 0.6).toEvent(1), { obs: tf.tensor1d(ys) });
    };
    const rm = ppl.reparam(model, { x: new ppl.DiscreteCosineReparam(-1, 1) });
    const guide = new ppl.AutoNormal(rm);
    const svi = new ppl.SVI(rm, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 150; i++) svi.step();
    // Polyak average of the guide's median over the next 150 steps (the SGD noise averaged out)
    const b = new bijectors.DiscreteCosineTransform(-1, 1);
    const avg = new Array<number>(T).fill(0);
    for (let i = 0; i < 150; i++) {
      svi.step();
      const med = guide.median();
      const xi = b.inverse(med.x_dct as tf.Tensor);
      xi.dataSync().forEach((v, j) => (avg[j] = avg[j]! + v / 150));
      tf.dispose([xi, ...Object.values(med)]);
    }
    expectNoLeak(() => {
      svi.step();
    });
    // exact posterior mean: P^-1 y / s², P = D^T D + I / s²
    const p = Array.from({ length: T }, (_, i) =>
      Array.from({ length: T }, (_, j) => {
        let v = 0;
        for (let t = 0; t < T; t++) {
          const d = (r: number): number => (r === t ? 1 : r === t - 1 ? -1 : 0);
          v += d(i) * d(j);
        }
        return v + (i === j ? 1 / 0.36 : 0);
      }),
    );
    const c = inv(p);
    const want = c.map((r) => r.reduce((a, v, j) => a + (v * ys[j]!) / 0.36, 0));
    expect(avg).toBeAllclose(want, { atol: 0.08 });
  });
});

describe('bad sites and arguments are named before any work', () => {
  const run = (fn: () => void): unknown => {
    const before = tf.memory().numTensors;
    try {
      fn();
    } catch (e) {
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 0);
      return e;
    }
    return null;
  };
  it('a time dim that is a batch (plate) dim', () => {
    const m = (): void => {
      ppl.plate('T', 5, () => ppl.sample('x', new D.Normal(0, 1)));
    };
    const e = run(() =>
      ppl.trace(ppl.reparam(m, { x: new ppl.DiscreteCosineReparam() })).getTrace(),
    );
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as ArgumentError).message).toMatch(/'x'.*batch/s);
  });
  it('a discrete site', () => {
    const m = (): void => {
      ppl.sample('k', new D.Poisson(tf.ones([4])).toEvent(1));
    };
    const e = run(() => ppl.trace(ppl.reparam(m, { k: new ppl.HaarReparam() })).getTrace());
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as ArgumentError).message).toMatch(/'k'.*discrete/s);
  });
  it("Pyro's keywords as an options object; unknown keys refused", () => {
    const a = new ppl.DiscreteCosineReparam({ dim: -2, smooth: 1 });
    expect((a.transform as bijectors.DiscreteCosineTransform).dim).toBe(-2);
    expect((a.transform as bijectors.DiscreteCosineTransform).smooth).toBe(1);
    const h = new ppl.HaarReparam({ flip: true });
    expect((h.transform as bijectors.HaarTransform).flip).toBe(true);
    expect((h.transform as bijectors.HaarTransform).dim).toBe(-1);
    expect(() => new ppl.DiscreteCosineReparam({ smoth: 1 } as never)).toThrow(/smoth/);
    expect(() => new ppl.HaarReparam({ experimental_allow_batch: true } as never)).toThrow(
      /experimental_allow_batch/,
    );
  });
  it('bad constructor arguments', () => {
    expect(() => new ppl.DiscreteCosineReparam(0)).toThrow(/dim/);
    expect(() => new ppl.DiscreteCosineReparam(-1, Infinity)).toThrow(/smooth/);
    expect(() => new ppl.HaarReparam(-1, 1 as unknown as boolean)).toThrow(/flip/);
    expect(() => new ppl.UnitJacobianReparam({} as bijectors.Bijector)).toThrow(/transform/);
  });
});
