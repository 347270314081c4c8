/**
 * Audit (issue 14): `logProb` gradients in the value and in every parameter, against central
 * finite differences of float64 log-densities written here (closed forms, @stdlib), for the
 * continuous families that `gradients.test.ts` does not cover: Pareto, Kumaraswamy, Chi2,
 * FisherSnedecor, Gompertz, Levy, SkewNormal, AsymmetricLaplace (both sides of the mode),
 * SoftLaplace, TruncatedNormal, LogUniform, ContinuousBernoulli, BetaProportion. The value is a
 * vector of 3 points (a batch), so a broadcast slip in the gradient shows; no tensor may leak.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import normalRef from '@stdlib/stats-base-dists-normal';
import { distributions as d } from '../../src/index.js';
import { finiteDiff } from '../helpers.js';

type Dist = d.Distribution;
const LN2PI = Math.log(2 * Math.PI);
const logPhi = (z: number): number => -0.5 * z * z - 0.5 * LN2PI;
const Phi = (z: number): number => normalRef.cdf(z, 0, 1);
const lbeta = (a: number, b: number): number => gammaln(a) + gammaln(b) - gammaln(a + b);

interface Case {
  name: string;
  make: (p: tf.Tensor[]) => Dist;
  params: number[];
  xs: number[];
  /** float64 log-density of one point given the parameters. */
  ref: (x: number, p: number[]) => number;
}

const CASES: Case[] = [
  {
    name: 'Pareto',
    make: ([s, a]) => new d.Pareto(s!, a!),
    params: [0.8, 2.5],
    xs: [1.1, 2.0, 3.7],
    ref: (x, [s, a]) => Math.log(a!) + a! * Math.log(s!) - (a! + 1) * Math.log(x),
  },
  {
    name: 'Kumaraswamy',
    make: ([a, b]) => new d.Kumaraswamy(a!, b!),
    params: [1.7, 2.3],
    xs: [0.15, 0.5, 0.83],
    ref: (x, [a, b]) =>
      Math.log(a!) + Math.log(b!) + (a! - 1) * Math.log(x) + (b! - 1) * Math.log1p(-(x ** a!)),
  },
  {
    name: 'Chi2',
    make: ([k]) => new d.Chi2(k!),
    params: [3.4],
    xs: [0.4, 2.2, 6.1],
    ref: (x, [k]) => (k! / 2 - 1) * Math.log(x) - x / 2 - (k! / 2) * Math.log(2) - gammaln(k! / 2),
  },
  {
    name: 'FisherSnedecor',
    make: ([a, b]) => new d.FisherSnedecor(a!, b!),
    params: [4.5, 7.2],
    xs: [0.3, 1.1, 2.9],
    ref: (x, [a, b]) =>
      (a! / 2) * Math.log(a! / b!) +
      (a! / 2 - 1) * Math.log(x) -
      ((a! + b!) / 2) * Math.log1p((a! * x) / b!) -
      lbeta(a! / 2, b! / 2),
  },
  {
    name: 'Gompertz',
    make: ([e, b]) => new d.Gompertz(e!, b!),
    params: [0.7, 1.3],
    xs: [0.05, 0.6, 1.4],
    ref: (x, [e, b]) => Math.log(e!) + Math.log(b!) + b! * x - e! * Math.expm1(b! * x),
  },
  {
    name: 'Levy',
    make: ([m, c]) => new d.Levy(m!, c!),
    params: [-0.3, 1.2],
    xs: [0.1, 1.0, 4.0],
    ref: (x, [m, c]) =>
      0.5 * Math.log(c! / (2 * Math.PI)) - c! / (2 * (x - m!)) - 1.5 * Math.log(x - m!),
  },
  {
    name: 'SkewNormal',
    make: ([m, s, a]) => new d.SkewNormal(m!, s!, a!),
    params: [0.2, 1.3, 1.8],
    xs: [-1.1, 0.4, 2.0],
    ref: (x, [m, s, a]) => {
      const z = (x - m!) / s!;
      return Math.log(2) - Math.log(s!) + logPhi(z) + Math.log(Phi(a! * z));
    },
  },
  {
    name: 'AsymmetricLaplace',
    make: ([m, s, k]) => new d.AsymmetricLaplace(m!, s!, k!),
    params: [0.4, 0.9, 1.6],
    xs: [-1.2, 0.1, 1.9],
    ref: (x, [m, s, k]) => {
      const z = (x - m!) / s!;
      const t = z >= 0 ? -k! * z : z / k!;
      return t - Math.log(s! * (k! + 1 / k!));
    },
  },
  {
    name: 'SoftLaplace',
    make: ([m, s]) => new d.SoftLaplace(m!, s!),
    params: [0.3, 0.7],
    xs: [-1.5, 0.2, 2.4],
    ref: (x, [m, s]) => {
      const z = (x - m!) / s!;
      const mx = Math.max(z, -z);
      return (
        Math.log(2 / Math.PI) - Math.log(s!) - (mx + Math.log(Math.exp(z - mx) + Math.exp(-z - mx)))
      );
    },
  },
  {
    name: 'TruncatedNormal',
    make: ([m, s, a, b]) => new d.TruncatedNormal(m!, s!, a!, b!),
    params: [0.5, 1.2, -1.0, 2.5],
    xs: [-0.7, 0.6, 2.1],
    ref: (x, [m, s, a, b]) => {
      const z = (x - m!) / s!;
      return logPhi(z) - Math.log(s!) - Math.log(Phi((b! - m!) / s!) - Phi((a! - m!) / s!));
    },
  },
  {
    name: 'LogUniform',
    make: ([a, b]) => new d.LogUniform(a!, b!),
    params: [0.2, 5.0],
    xs: [0.3, 1.0, 4.2],
    ref: (x, [a, b]) => -Math.log(x) - Math.log(Math.log(b!) - Math.log(a!)),
  },
  {
    name: 'ContinuousBernoulli',
    make: ([p]) => new d.ContinuousBernoulli(p!),
    params: [0.3],
    xs: [0.1, 0.5, 0.9],
    ref: (x, [p]) => {
      const c = (2 * Math.atanh(1 - 2 * p!)) / (1 - 2 * p!);
      return x * Math.log(p!) + (1 - x) * Math.log1p(-p!) + Math.log(c);
    },
  },
  {
    name: 'BetaProportion',
    make: ([m, k]) => new d.BetaProportion(m!, k!),
    params: [0.35, 6.0],
    xs: [0.1, 0.4, 0.8],
    ref: (x, [m, k]) => {
      const a = m! * k!;
      const b = (1 - m!) * k!;
      return (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - lbeta(a, b);
    },
  },
];

/** Gradients of `sum logProb(x)` in `x` (per point) and in each scalar parameter. */
function tfGrads(
  c: Case,
  xs: number[],
  params: number[],
): { gx: number[]; gp: number[]; lp: number[] } {
  return tf.tidy(() => {
    const x = tf.tensor1d(xs);
    const ps = params.map((v) => tf.scalar(v));
    const lp: number[] = [];
    const f = (...args: tf.Tensor[]): tf.Scalar => {
      const [xv, ...pv] = args;
      const dist = c.make(pv);
      const l = dist.logProb(xv!);
      lp.push(...Array.from(l.dataSync()));
      return tf.sum(l) as tf.Scalar;
    };
    const grads = tf.grads(f)([x, ...ps]);
    const [gxT, ...gpT] = grads;
    return {
      gx: Array.from(gxT!.dataSync()),
      gp: gpT.map((g) => g.dataSync()[0] as number),
      lp: lp.slice(0, xs.length),
    };
  });
}

describe('audit14: logProb gradients vs finite differences (families not in gradients.test.ts)', () => {
  for (const c of CASES) {
    it(`${c.name}: value and parameter gradients, and the density itself`, () => {
      const before = tf.memory().numTensors;
      const { gx, gp, lp } = tfGrads(c, c.xs, c.params);
      expect(tf.memory().numTensors).toBe(before);
      // the density
      c.xs.forEach((x, i) => {
        const r = c.ref(x, c.params);
        expect(Math.abs((lp[i] as number) - r), `logProb at ${x}`).toBeLessThan(
          2e-4 * (1 + Math.abs(r)),
        );
      });
      // value gradient, one point at a time
      c.xs.forEach((x, i) => {
        const [fd] = finiteDiff(([v]) => c.ref(v!, c.params), [x], 1e-5);
        expect(Math.abs((gx[i] as number) - fd!), `d/dx at ${x}`).toBeLessThan(
          2e-3 * (1 + Math.abs(fd!)),
        );
      });
      // parameter gradients of the sum over the points
      const fdp = finiteDiff((p) => c.xs.reduce((s, x) => s + c.ref(x, p), 0), c.params, 1e-5);
      fdp.forEach((g, j) => {
        expect(Math.abs((gp[j] as number) - g), `d/dparam ${j}`).toBeLessThan(
          3e-3 * (1 + Math.abs(g)),
        );
      });
    });
  }
});
