/**
 * `logProb` of every continuous family is differentiable in the value and in the parameters:
 * tfjs gradients against central finite differences of an independent float64 log-density
 * (@stdlib or closed forms), at points inside the support.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import gumbelRef from '@stdlib/stats-base-dists-gumbel';
import laplaceRef from '@stdlib/stats-base-dists-laplace';
import logisticRef from '@stdlib/stats-base-dists-logistic';
import lognormalRef from '@stdlib/stats-base-dists-lognormal';
import tRef from '@stdlib/stats-base-dists-t';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import betaRef from '@stdlib/stats-base-dists-beta';
import exponentialRef from '@stdlib/stats-base-dists-exponential';
import invgammaRef from '@stdlib/stats-base-dists-invgamma';
import weibullRef from '@stdlib/stats-base-dists-weibull';
import gammaln from '@stdlib/math-base-special-gammaln';
import { distributions } from '../../src/index.js';
import { finiteDiff } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;
type Fn = (...a: number[]) => number;
const f = (m: object, k: string): Fn => (m as Record<string, Fn>)[k] as Fn;

interface GradCase {
  name: string;
  /** Build from parameter tensors (scalars, or vectors for multivariate families). */
  make: (p: tf.Tensor[]) => Dist;
  /** Parameter values (flattened per parameter) and their shapes. */
  params: number[][];
  shapes?: number[][];
  /** The value (flattened) and its shape. */
  x: number[];
  xShape?: number[];
  /** float64 log-density of the flattened value given flattened parameters. */
  ref: (x: number[], p: number[][]) => number;
}

const scalar = (ref: (x: number, ...p: number[]) => number) => (x: number[], p: number[][]) =>
  ref(x[0]!, ...p.map((v) => v[0]!));

const CASES: GradCase[] = [
  {
    name: 'Normal',
    make: ([m, s]) => new d.Normal(m!, s!),
    params: [[0.3], [1.4]],
    x: [0.9],
    ref: scalar((x, m, s) => f(normalRef, 'logpdf')(x, m, s)),
  },
  {
    name: 'Cauchy',
    make: ([m, s]) => new d.Cauchy(m!, s!),
    params: [[-0.2], [0.8]],
    x: [0.5],
    ref: scalar((x, m, s) => f(cauchyRef, 'logpdf')(x, m, s)),
  },
  {
    name: 'Gumbel',
    make: ([m, s]) => new d.Gumbel(m!, s!),
    params: [[0.1], [1.3]],
    x: [0.7],
    ref: scalar((x, m, s) => f(gumbelRef, 'logpdf')(x, m, s)),
  },
  {
    name: 'Laplace',
    make: ([m, s]) => new d.Laplace(m!, s!),
    params: [[0.1], [0.9]],
    x: [0.7],
    ref: scalar((x, m, s) => f(laplaceRef, 'logpdf')(x, m, s)),
  },
  {
    name: 'Logistic',
    make: ([m, s]) => new d.Logistic(m!, s!),
    params: [[0.1], [0.9]],
    x: [-0.4],
    ref: scalar((x, m, s) => f(logisticRef, 'logpdf')(x, m, s)),
  },
  {
    name: 'LogNormal',
    make: ([m, s]) => new d.LogNormal(m!, s!),
    params: [[0.2], [0.6]],
    x: [1.7],
    ref: scalar((x, m, s) => f(lognormalRef, 'logpdf')(x, m, s)),
  },
  {
    name: 'StudentT',
    make: ([nu, m, s]) => new d.StudentT(nu!, m!, s!),
    params: [[4.5], [0.2], [1.1]],
    x: [1.3],
    ref: scalar((x, nu, m, s) => f(tRef, 'logpdf')((x - m) / s, nu) - Math.log(s)),
  },
  {
    name: 'Gamma',
    make: ([a, b]) => new d.Gamma(a!, b!),
    params: [[2.5], [1.5]],
    x: [1.2],
    ref: scalar((x, a, b) => f(gammaRef, 'logpdf')(x, a, b)),
  },
  {
    name: 'Beta',
    make: ([a, b]) => new d.Beta(a!, b!),
    params: [[2.5], [1.7]],
    x: [0.35],
    ref: scalar((x, a, b) => f(betaRef, 'logpdf')(x, a, b)),
  },
  {
    name: 'Exponential',
    make: ([r]) => new d.Exponential(r!),
    params: [[1.7]],
    x: [0.6],
    ref: scalar((x, r) => f(exponentialRef, 'logpdf')(x, r)),
  },
  {
    name: 'HalfNormal',
    make: ([s]) => new d.HalfNormal(s!),
    params: [[1.3]],
    x: [0.8],
    ref: scalar((x, s) => Math.LN2 + f(normalRef, 'logpdf')(x, 0, s)),
  },
  {
    name: 'HalfCauchy',
    make: ([s]) => new d.HalfCauchy(s!),
    params: [[1.3]],
    x: [0.8],
    ref: scalar((x, s) => Math.LN2 + f(cauchyRef, 'logpdf')(x, 0, s)),
  },
  {
    name: 'Uniform',
    make: ([lo, hi]) => new d.Uniform(lo!, hi!),
    params: [[-0.5], [2]],
    x: [0.3],
    ref: scalar((_x, lo, hi) => -Math.log(hi - lo)),
  },
  {
    name: 'InverseGamma',
    make: ([a, b]) => new d.InverseGamma(a!, b!),
    params: [[3], [2]],
    x: [0.8],
    ref: scalar((x, a, b) => f(invgammaRef, 'logpdf')(x, a, b)),
  },
  {
    name: 'Weibull',
    make: ([l, k]) => new d.Weibull(l!, k!),
    params: [[1.5], [2.2]],
    x: [0.9],
    ref: scalar((x, l, k) => f(weibullRef, 'logpdf')(x, k, l)),
  },
  {
    name: 'VonMises',
    make: ([m, k]) => new d.VonMises(m!, k!),
    params: [[0.3], [1.8]],
    x: [1.1],
    ref: scalar((x, m, k) => {
      let term = 1;
      let i0 = 1;
      for (let j = 1; j < 100; j++) {
        term *= (k * k) / 4 / (j * j);
        i0 += term;
      }
      return k * Math.cos(x - m) - Math.log(2 * Math.PI * i0);
    }),
  },
  {
    name: 'Dirichlet',
    make: ([a]) => new d.Dirichlet(a!),
    params: [[1.5, 2.5, 3]],
    shapes: [[3]],
    x: [0.2, 0.3, 0.5],
    xShape: [3],
    ref: (x, [a]) => {
      const s = a!.reduce((u, v) => u + v, 0);
      return (
        gammaln(s) -
        a!.reduce((u, v) => u + gammaln(v), 0) +
        a!.reduce((u, v, i) => u + (v - 1) * Math.log(x[i]!), 0)
      );
    },
  },
  {
    name: 'MultivariateNormal(scaleTril)',
    make: ([m, l]) => new d.MultivariateNormal(m!, { scaleTril: l! }),
    params: [
      [0.2, -0.3],
      [1.2, 0, 0.4, 0.9],
    ],
    shapes: [[2], [2, 2]],
    x: [0.5, 0.4],
    xShape: [2],
    ref: (x, [m, l]) => {
      const [a, , c, e] = l as [number, number, number, number];
      const z0 = (x[0]! - m![0]!) / a;
      const z1 = (x[1]! - m![1]! - c * z0) / e;
      return -0.5 * (z0 * z0 + z1 * z1) - Math.log(a * e) - Math.log(2 * Math.PI);
    },
  },
  {
    name: 'MultivariateNormal(covarianceMatrix)',
    make: ([m, c]) => new d.MultivariateNormal(m!, { covarianceMatrix: c! }),
    params: [
      [0.2, -0.3],
      [1.5, 0.4, 0.4, 0.9],
    ],
    shapes: [[2], [2, 2]],
    x: [0.5, 0.4],
    xShape: [2],
    // the density reads the lower triangle (Cholesky): the reference reads the same entries
    ref: (x, [m, c]) => {
      const [a, , b, e] = c as [number, number, number, number];
      const det = a * e - b * b;
      const r0 = x[0]! - m![0]!;
      const r1 = x[1]! - m![1]!;
      const q = (e * r0 * r0 - 2 * b * r0 * r1 + a * r1 * r1) / det;
      return -0.5 * q - 0.5 * Math.log(det) - Math.log(2 * Math.PI);
    },
  },
  {
    name: 'LowRankMultivariateNormal',
    make: ([m, w, dg]) => new d.LowRankMultivariateNormal(m!, w!, dg!),
    params: [
      [0.1, 0.2],
      [0.7, -0.4],
      [0.6, 1.1],
    ],
    shapes: [[2], [2, 1], [2]],
    x: [0.4, -0.3],
    xShape: [2],
    ref: (x, [m, w, dg]) => {
      const a = w![0]! * w![0]! + dg![0]!;
      const b = w![0]! * w![1]!;
      const e = w![1]! * w![1]! + dg![1]!;
      const det = a * e - b * b;
      const r0 = x[0]! - m![0]!;
      const r1 = x[1]! - m![1]!;
      const q = (e * r0 * r0 - 2 * b * r0 * r1 + a * r1 * r1) / det;
      return -0.5 * q - 0.5 * Math.log(det) - Math.log(2 * Math.PI);
    },
  },
];

describe('logProb gradients in the value and the parameters match finite differences', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const before = tf.memory().numTensors;
      const xs = tf.tensor(c.x, c.xShape ?? []);
      const ps = c.params.map((p, i) => tf.tensor(p, c.shapes?.[i] ?? []));
      const grads = tf.grads((x: tf.Tensor, ...p: tf.Tensor[]) => {
        const dist = c.make(p);
        return tf.sum(dist.logProb(x));
      })([xs, ...ps]);
      const got = grads.map((g) => Array.from(g.dataSync()));
      tf.dispose([...grads, xs, ...ps]);
      expect(tf.memory().numTensors).toBe(before);
      // value
      const gx = finiteDiff((v) => c.ref(v, c.params), c.x, 1e-5);
      expect(got[0]).toBeAllclose(gx, { rtol: 2e-3, atol: 2e-4 });
      // parameters, one block at a time
      c.params.forEach((p, i) => {
        const gp = finiteDiff(
          (v) =>
            c.ref(
              c.x,
              c.params.map((q, j) => (j === i ? v : q)),
            ),
          p,
          1e-5,
        );
        expect(got[i + 1]).toBeAllclose(gp, { rtol: 2e-3, atol: 2e-4 });
      });
    });
  }
});
