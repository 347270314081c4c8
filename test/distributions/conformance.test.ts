/**
 * Generic conformance tests over the table in `cases.ts` (NumPyro style): values against
 * independent references, sample moments and empirical CDFs within statistical tolerance,
 * reparameterized gradients against finite differences, seeds, shapes, memory and bad input.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import {
  ArgumentError,
  NotDefinedError,
  clearSeed,
  distributions,
  setSeed,
} from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import { CASES, type Case } from './cases.js';
import './cases_more.js';
import './cases_pyro.js';
import './cases_distb.js';
import './cases_mixtures_censored.js';
import './cases_stable.js';

type Dist = distributions.Distribution;

/** Run `fn` on a fresh distribution and dispose it afterwards. */
function withDist<T>(c: Case, fn: (dist: Dist) => T): T {
  const dist = c.make();
  try {
    return fn(dist);
  } finally {
    dist.dispose();
  }
}

const tol = (c: Case): { rtol: number; atol: number } => ({
  rtol: c.rtol ?? 1e-5,
  atol: c.atol ?? 1e-6,
});

afterEach(() => clearSeed());

describe.each(CASES)('$name', (c) => {
  it('logProb, prob and cdf match the reference', () => {
    withDist(c, (dist) => {
      c.points.forEach((x, j) => {
        expect(expectNoLeak(() => dist.logProb(x))).toBeAllclose(c.logProb[j], tol(c));
        expect(expectNoLeak(() => dist.prob(x))).toBeAllclose(
          (c.logProb[j] as number[]).map(Math.exp),
          tol(c),
        );
        if (c.cdf !== undefined) {
          const ref = c.cdf[j] as number[];
          expect(expectNoLeak(() => dist.cdf(x))).toBeAllclose(ref, tol(c));
          expect(expectNoLeak(() => dist.survival(x))).toBeAllclose(
            ref.map((v) => 1 - v),
            { rtol: 1e-5, atol: 2e-6 },
          );
          expect(expectNoLeak(() => dist.logCdf(x))).toBeAllclose(ref.map(Math.log), {
            rtol: 1e-5,
            atol: 2e-6,
          });
        }
      });
    });
  });

  it('mean, variance, stddev, mode and entropy match the reference', () => {
    withDist(c, (dist) => {
      if (c.mean !== undefined)
        expect(expectNoLeak(() => dist.mean())).toBeAllclose(c.mean, tol(c));
      if (c.variance !== undefined) {
        expect(expectNoLeak(() => dist.variance())).toBeAllclose(c.variance, tol(c));
        expect(expectNoLeak(() => dist.stddev())).toBeAllclose(c.variance.map(Math.sqrt), tol(c));
      }
      if (c.mode !== undefined)
        expect(expectNoLeak(() => dist.mode())).toBeAllclose(c.mode, tol(c));
      if (c.entropy !== undefined)
        expect(expectNoLeak(() => dist.entropy())).toBeAllclose(c.entropy, tol(c));
    });
  });

  it('methods that do not exist throw NotDefinedError without leaking', () => {
    withDist(c, (dist) => {
      for (const m of c.undefinedMethods ?? []) {
        const before = tf.memory().numTensors;
        const call = (): unknown => (m === 'cdf' ? dist.cdf(c.points[0] as number[]) : dist[m]());
        expect(call).toThrow(NotDefinedError);
        expect(tf.memory().numTensors).toBe(before);
      }
      if (!dist.hasRsample) expect(() => dist.rsample([2])).toThrow(NotDefinedError);
    });
  });

  it('shapes: sample is [...shape, ...batch, ...event], logProb drops the event', () => {
    withDist(c, (dist) => {
      const x = dist.sample([4, 3]);
      expect(x.shape).toEqual([4, 3, ...dist.batchShape, ...dist.eventShape]);
      const lp = dist.logProb(x);
      expect(lp.shape).toEqual([4, 3, ...dist.batchShape]);
      expect(Array.from(lp.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([x, lp]);
      if (c.entropy !== undefined) {
        const e = dist.entropy();
        expect(e.shape).toEqual(dist.batchShape);
        e.dispose();
      }
      expect(expectNoLeak(() => dist.sample([0]))).toEqual([]);
    });
  });

  it('sampling honours per-call and global seeds', () => {
    withDist(c, (dist) => {
      const a = expectNoLeak(() => dist.sample([50], 123));
      const b = expectNoLeak(() => dist.sample([50], 123));
      const other = expectNoLeak(() => dist.sample([50], 124));
      expect(a).toEqual(b);
      expect(other).not.toEqual(a);
      setSeed(7);
      const g1 = expectNoLeak(() => dist.sample([50]));
      const g2 = expectNoLeak(() => dist.sample([50]));
      setSeed(7);
      expect(expectNoLeak(() => dist.sample([50]))).toEqual(g1);
      expect(expectNoLeak(() => dist.sample([50]))).toEqual(g2);
      expect(g2).not.toEqual(g1);
    });
  });

  it('sample moments and empirical CDF agree with the reference (5 standard errors)', () => {
    withDist(c, (dist) => {
      const n = 40000;
      const x = dist.sample([n], 2024);
      const finiteMoments =
        c.mean !== undefined &&
        c.variance !== undefined &&
        [...c.mean, ...c.variance].every(Number.isFinite);
      if (!c.heavyTailed && finiteMoments && c.mean !== undefined) {
        const [m, v, m4] = tf.tidy(() => {
          const mean = tf.mean(x, 0);
          const dev = tf.sub(x, mean);
          return [mean, tf.mean(tf.square(dev), 0), tf.mean(tf.pow(dev, 4), 0)].map((t) =>
            Array.from(t.dataSync()),
          );
        }) as [number[], number[], number[]];
        c.mean.forEach((mu, i) => {
          const sd = Math.sqrt((c.variance as number[])[i] as number);
          expect(Math.abs((m[i] as number) - mu)).toBeLessThan((5 * sd) / Math.sqrt(n) + 1e-6);
          const vv = v[i] as number;
          const seVar = Math.sqrt(Math.max((m4[i] as number) - vv * vv, 0) / n);
          expect(Math.abs(vv - sd * sd)).toBeLessThan(5 * seVar + 1e-6);
        });
      }
      if (c.cdf !== undefined && dist.eventShape.length === 0) {
        c.points.forEach((pt, j) => {
          const frac = tf.tidy(() =>
            Array.from(
              tf.mean(tf.cast(tf.lessEqual(x, tf.tensor(pt as number[])), 'float32'), 0).dataSync(),
            ),
          );
          (c.cdf as number[][])[j]!.forEach((F, i) => {
            const se = Math.sqrt((F * (1 - F)) / n);
            expect(Math.abs((frac[i] as number) - F)).toBeLessThan(5 * se + 1e-4);
          });
        });
      }
      x.dispose();
    });
  });

  it('bad parameters throw an ArgumentError naming the argument', () => {
    for (const [make, arg] of c.bad) {
      const before = tf.memory().numTensors;
      let err: unknown;
      try {
        make();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).message).toMatch(arg);
      expect((err as ArgumentError).argument).toMatch(arg);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe.each(CASES.filter((c) => c.fd !== undefined))('$name (exact reparameterization)', (c) => {
  it('rsample gradient matches finite differences at a fixed seed', () => {
    const { theta, build } = c.fd as NonNullable<Case['fd']>;
    const seed = 99;
    const n = 2000;
    // A smooth bounded statistic of the draws, flat in the tails (heavy tails stay well posed);
    // the noise is fixed by the seed, so this is a deterministic function of the parameters.
    const objective = (ps: tf.Tensor[]): tf.Scalar => {
      const dist = build(ps);
      const x = dist.rsample([n], seed);
      return tf.mean(tf.add(tf.tanh(x), tf.reciprocal(tf.add(1, tf.square(x)))));
    };
    const before = tf.memory().numTensors;
    const params = theta.map((t) => tf.scalar(t));
    const grads = tf.grads((...ps: tf.Tensor[]) => objective(ps))(params);
    const g = grads.map((t) => t.dataSync()[0] as number);
    tf.dispose([...grads, ...params]);
    expect(tf.memory().numTensors).toBe(before);
    const h = 1e-2;
    const value = (th: number[]): number =>
      tf.tidy(() => objective(th.map((t) => tf.scalar(t))).dataSync()[0] as number);
    theta.forEach((_, i) => {
      const up = [...theta];
      const dn = [...theta];
      up[i] = (up[i] as number) + h;
      dn[i] = (dn[i] as number) - h;
      const fd = (value(up) - value(dn)) / (2 * h);
      expect(g[i]).toBeAllclose(fd, { rtol: 3e-3, atol: 3e-4 });
    });
  });
});

describe.each(CASES.filter((c) => c.implicit !== undefined))(
  '$name (implicit reparameterization)',
  (c) => {
    it('implicit rsample gradient is an unbiased estimate of d/dtheta E[f(X)]', () => {
      const { theta, build, f, moment } = c.implicit as NonNullable<Case['implicit']>;
      const n = 20000;
      const params = theta.map((t) => tf.fill([n], t));
      const before = tf.memory().numTensors;
      // A batch of n identical distributions: the gradient with respect to each parameter vector
      // holds one per-sample pathwise gradient per draw, so its spread gives the standard error.
      const grads = tf.grads((...ps: tf.Tensor[]) => {
        const dist = build(ps);
        return tf.sum(f(dist.rsample([], 5)));
      })(params);
      const per = grads.map((t) => Array.from(t.dataSync()));
      tf.dispose(grads);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(params);
      theta.forEach((_, i) => {
        const gi = per[i] as number[];
        const mean = gi.reduce((a, b) => a + b, 0) / n;
        const sd = Math.sqrt(gi.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
        const h = 1e-4;
        const up = [...theta];
        const dn = [...theta];
        up[i] = (up[i] as number) + h;
        dn[i] = (dn[i] as number) - h;
        const exact = (moment(up) - moment(dn)) / (2 * h);
        expect(Math.abs(mean - exact)).toBeLessThan((5 * sd) / Math.sqrt(n) + 1e-4);
      });
    });
  },
);

describe('gradient coverage', () => {
  it('every family with rsample is in one of the two gradient checks', () => {
    for (const c of CASES) {
      const dist = c.make();
      if (dist.hasRsample) expect(c.fd !== undefined || c.implicit !== undefined).toBe(true);
      dist.dispose();
    }
  });
});

describe('Gamma implicit reparameterization, pointwise', () => {
  it('dx/dalpha equals the derivative of the inverse CDF at fixed u (against @stdlib)', () => {
    const alpha = tf.tensor1d([0.4, 1, 2.5, 30]);
    const rate = 2;
    const [x, g] = tf.tidy(() => {
      const grad = tf.grad((a: tf.Tensor) =>
        tf.sum(new distributions.Gamma(a, rate).rsample([], 11)),
      );
      const xs = new distributions.Gamma(alpha, rate).sample([], 11);
      return [Array.from(xs.dataSync()), Array.from(grad(alpha).dataSync())];
    }) as [number[], number[]];
    const av = Array.from(alpha.dataSync());
    alpha.dispose();
    av.forEach((a, i) => {
      const xi = x[i] as number;
      const u = (gammaRef.cdf as (...p: number[]) => number)(xi, a, rate);
      const q = gammaRef.quantile as (...p: number[]) => number;
      const h = 1e-5 * a;
      const fd = (q(u, a + h, rate) - q(u, a - h, rate)) / (2 * h);
      expect(g[i]).toBeAllclose(fd, { rtol: 1e-3, atol: 1e-6 });
    });
  });
});
