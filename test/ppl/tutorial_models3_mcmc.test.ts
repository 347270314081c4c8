/**
 * NumPyro/Pyro example programs run by NUTS, checked against a float64 grid over their
 * parameters: NumPyro's ordinal regression (`OrderedLogistic`, cutpoints under an
 * `ImproperUniform` on ordered vectors) and a zero-inflated Poisson regression. Tolerances are
 * Monte Carlo standard errors from the draws' bulk ESS, plus the grid's resolution.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { rng } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** Means of `f` over a 3-d grid of log-weights `lw(p)`, `p` the cell centres of the ranges. */
function grid3(
  ranges: [number, number][],
  G: number,
  lw: (p: [number, number, number]) => number,
): number[] {
  const pts: [number, number, number][] = [];
  const ls: number[] = [];
  const at = (r: [number, number], i: number): number => r[0] + ((r[1] - r[0]) * (i + 0.5)) / G;
  for (let i = 0; i < G; i++)
    for (let j = 0; j < G; j++)
      for (let k = 0; k < G; k++) {
        const p: [number, number, number] = [
          at(ranges[0]!, i),
          at(ranges[1]!, j),
          at(ranges[2]!, k),
        ];
        const l = lw(p);
        if (l > -Infinity) {
          pts.push(p);
          ls.push(l);
        }
      }
  const mx = ls.reduce((a, b) => Math.max(a, b), -Infinity);
  let z = 0;
  const out = [0, 0, 0];
  ls.forEach((l, n) => {
    const w = Math.exp(l - mx);
    z += w;
    for (let d = 0; d < 3; d++) out[d] = out[d]! + w * pts[n]![d]!;
  });
  return out.map((v) => v / z);
}

const logSigmoid = (x: number): number =>
  x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));

describe('ported NumPyro examples under NUTS', () => {
  it("NumPyro's ordinal regression: OrderedLogistic with ImproperUniform(ordered) cutpoints matches a grid", async () => {
    const N = 40;
    const { u, n } = rng(3);
    const xs = Array.from({ length: N }, () => n());
    const ys = xs.map((x) => {
      const eta = 1.5 * x;
      const p0 = 1 / (1 + Math.exp(-(-1 - eta)));
      const p1 = 1 / (1 + Math.exp(-(1 - eta)));
      const r = u();
      return r < p0 ? 0 : r < p1 ? 1 : 2;
    });
    const model = (X: tf.Tensor, Y?: tf.Tensor, nclasses = 3): void => {
      const b = ppl.sample('b_X_eta', new D.Normal(0, 5));
      const c = ppl.sample(
        'c_y',
        new D.ImproperUniform(ppl.constraints.ordered, [], [nclasses - 1]),
      );
      ppl.plate('obs', X.shape[0] as number, () => {
        const eta = tf.mul(X, b);
        ppl.sample('Y', new D.OrderedLogistic(eta, c), { obs: Y });
      });
    };
    const X = tf.tensor1d(xs);
    const Y = tf.tensor1d(ys);
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 400,
      warmupSteps: 300,
      progressBar: false,
      seed: 4,
    });
    await mcmc.run(X, Y);
    // log p(b, c | y) = log N(b; 0, 5) + sum_i log [sigma(c_{y_i} - eta_i) - sigma(c_{y_i - 1} - eta_i)]
    const ref = grid3(
      [
        [0.5, 4.5],
        [-2.5, 1.2],
        [0.4, 5.2],
      ],
      60,
      ([b, c1, c2]) => {
        if (!(c1 < c2)) return -Infinity;
        let l = -0.5 * (b / 5) ** 2;
        xs.forEach((x, i) => {
          const eta = b * x;
          const y = ys[i]!;
          if (y === 0) l += logSigmoid(c1 - eta);
          else if (y === 2) l += logSigmoid(-(c2 - eta));
          else l += Math.log(1 / (1 + Math.exp(-(c2 - eta))) - 1 / (1 + Math.exp(-(c1 - eta))));
        });
        return l;
      },
    );
    const checks: [string, number, number][] = [
      ['b_X_eta', 0, ref[0]!],
      ['c_y', 0, ref[1]!],
      ['c_y', 1, ref[2]!],
    ];
    for (const [site, i, r] of checks) {
      const { mean, se } = meanAndSe(mcmc, site, i);
      expect(Math.abs(mean - r)).toBeLessThan(4 * se + 0.02);
    }
    const c = mcmc.getSamples().c_y as tf.Tensor;
    // every draw ordered
    const cv = c.arraySync() as number[][];
    expect(cv.every((row) => row[0]! < row[1]!)).toBe(true);
    tf.dispose([X, Y, ...Object.values(mcmc.getSamples())]);
  });

  it('a zero-inflated Poisson regression (ZeroInflatedPoisson with a Beta gate) matches a grid', async () => {
    const N = 40;
    const { u, n } = rng(9);
    const xs = Array.from({ length: N }, () => n());
    const ys = xs.map((x) => {
      if (u() < 0.3) return 0;
      const lam = Math.exp(0.6 + 0.5 * x);
      let k = 0;
      let p = Math.exp(-lam);
      let cdf = p;
      const r = u();
      while (r > cdf && k < 100) {
        k++;
        p *= lam / k;
        cdf += p;
      }
      return k;
    });
    const model = (x: tf.Tensor, y?: tf.Tensor): void => {
      const b0 = ppl.sample('b0', new D.Normal(0, 2));
      const b1 = ppl.sample('b1', new D.Normal(0, 2));
      const gate = ppl.sample('gate', new D.Beta(1, 1));
      ppl.plate('data', x.shape[0] as number, () => {
        const rate = tf.exp(tf.add(b0, tf.mul(b1, x)));
        ppl.sample('y', new D.ZeroInflatedPoisson(rate, { gate }), { obs: y });
      });
    };
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 400,
      warmupSteps: 300,
      progressBar: false,
      seed: 5,
    });
    await mcmc.run(x, y);
    const lfact = (k: number): number => {
      let s = 0;
      for (let i = 2; i <= k; i++) s += Math.log(i);
      return s;
    };
    const ref = grid3(
      [
        [-0.4, 1.4],
        [-0.4, 1.4],
        [0.001, 0.8],
      ],
      60,
      ([b0, b1, g]) => {
        let l = -0.5 * (b0 / 2) ** 2 - 0.5 * (b1 / 2) ** 2;
        xs.forEach((xi, i) => {
          const lam = Math.exp(b0 + b1 * xi);
          const k = ys[i]!;
          l +=
            k === 0
              ? Math.log(g + (1 - g) * Math.exp(-lam))
              : Math.log(1 - g) + k * Math.log(lam) - lam - lfact(k);
        });
        return l;
      },
    );
    const checks: [string, number][] = [
      ['b0', ref[0]!],
      ['b1', ref[1]!],
      ['gate', ref[2]!],
    ];
    for (const [site, r] of checks) {
      const { mean, se } = meanAndSe(mcmc, site);
      expect(Math.abs(mean - r)).toBeLessThan(4 * se + 0.02);
    }
    tf.dispose([x, y, ...Object.values(mcmc.getSamples())]);
  });
});
