/**
 * Conformance rows of the univariate families and wrappers ported from Pyro/NumPyro/torch:
 * SoftLaplace, LogUniform, ContinuousBernoulli, FisherSnedecor, TruncatedDistribution and
 * FoldedDistribution. References are float64 closed forms written here, @stdlib's normal density
 * and CDF, its beta CDF and `gammaln`.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import betaRef from '@stdlib/stats-base-dists-beta';
import gammaln from '@stdlib/math-base-special-gammaln';
import { distributions } from '../../src/index.js';
import { CASES } from './cases.js';

const d = distributions;
type Dist = distributions.Distribution;

/** A distribution that also frees the distributions it wraps. */
function owning<D extends Dist>(dist: D, inner: Dist[]): D {
  const own = dist.dispose.bind(dist);
  dist.dispose = () => {
    own();
    inner.forEach((x) => x.dispose());
  };
  return dist;
}
/** Rows: points; columns: batch elements. */
const grid = (xs: number[][], f: (x: number, b: number) => number): number[][] =>
  xs.map((row) => row.map((x, b) => f(x, b)));

// ---- SoftLaplace: batch [2] ---------------------------------------------------------------------
const SL = [
  [0, 1],
  [1.5, 0.5],
];
const SL_X = [
  [-2, 1.2],
  [0.3, 4],
  [5, -1],
];
const slZ = (x: number, b: number): number => (x - SL[b]![0]!) / SL[b]![1]!;
CASES.push({
  name: 'SoftLaplace',
  make: () => new d.SoftLaplace([0, 1.5], [1, 0.5]),
  points: SL_X,
  logProb: grid(SL_X, (x, b) => {
    const z = slZ(x, b);
    return Math.log(2 / Math.PI / SL[b]![1]! / (Math.exp(z) + Math.exp(-z)));
  }),
  cdf: grid(SL_X, (x, b) => (2 / Math.PI) * Math.atan(Math.exp(slZ(x, b)))),
  mean: [0, 1.5],
  variance: SL.map(([, s]) => ((Math.PI / 2) * s!) ** 2),
  mode: [0, 1.5],
  undefinedMethods: ['entropy'],
  fd: { theta: [0.3, 1.2], build: (p) => new d.SoftLaplace(p[0]!, p[1]!) },
  bad: [
    [() => new d.SoftLaplace(0, -1), /scale/],
    [() => new d.SoftLaplace(NaN, 1), /loc/],
  ],
});

// ---- LogUniform: batch [2] ----------------------------------------------------------------------
const LU = [
  [0.1, 20],
  [1, 3],
];
const LU_X = [
  [0.5, 1.5],
  [7, 2.9],
];
const luW = (b: number): number => Math.log(LU[b]![1]! / LU[b]![0]!);
CASES.push({
  name: 'LogUniform',
  make: () => new d.LogUniform([0.1, 1], [20, 3]),
  points: LU_X,
  logProb: grid(LU_X, (x, b) => -Math.log(x * luW(b))),
  cdf: grid(LU_X, (x, b) => Math.log(x / LU[b]![0]!) / luW(b)),
  mean: [0, 1].map((b) => (LU[b]![1]! - LU[b]![0]!) / luW(b)),
  variance: [0, 1].map((b) => {
    const [lo, hi] = LU[b] as [number, number];
    const m = (hi - lo) / luW(b);
    return (hi * hi - lo * lo) / (2 * luW(b)) - m * m;
  }),
  mode: [0.1, 1],
  entropy: [0, 1].map((b) => Math.log(luW(b)) + 0.5 * Math.log(LU[b]![0]! * LU[b]![1]!)),
  fd: { theta: [0.5, 4], build: (p) => new d.LogUniform(p[0]!, p[1]!) },
  bad: [
    [() => new d.LogUniform(2, 1), /high/],
    [() => new d.LogUniform(-1, 1), /low/],
  ],
});

// ---- ContinuousBernoulli: batch [3] -------------------------------------------------------------
const CB_P = [0.2, 0.5, 0.9];
const CB_L = CB_P.map((p) => Math.log(p / (1 - p)));
const CB_X = [
  [0.1, 0.5, 0.95],
  [0.8, 0.05, 0.3],
];
const cbG = (l: number): number => (l === 0 ? 0 : Math.log(Math.expm1(l) / l));
const cbMean = (l: number): number => (l === 0 ? 0.5 : 1 / (1 - Math.exp(-l)) - 1 / l);
const cbVar = (l: number): number =>
  l === 0 ? 1 / 12 : 1 / (l * l) - 1 / (4 * Math.sinh(l / 2) ** 2);
CASES.push({
  name: 'ContinuousBernoulli',
  make: () => new d.ContinuousBernoulli({ probs: CB_P }),
  points: CB_X,
  logProb: grid(CB_X, (x, b) => x * CB_L[b]! - cbG(CB_L[b]!)),
  cdf: grid(CB_X, (x, b) => {
    const l = CB_L[b]!;
    return l === 0 ? x : Math.expm1(l * x) / Math.expm1(l);
  }),
  mean: CB_L.map(cbMean),
  variance: CB_L.map(cbVar),
  entropy: CB_L.map((l) => cbG(l) - l * cbMean(l)),
  undefinedMethods: ['mode'],
  atol: 1e-6,
  fd: { theta: [0.3], build: (p) => new d.ContinuousBernoulli({ probs: p[0]! }) },
  bad: [
    [() => new d.ContinuousBernoulli({ probs: 1 }), /probs/],
    [() => new d.ContinuousBernoulli({ logits: NaN }), /logits/],
  ],
});

// ---- FisherSnedecor: batch [2] ------------------------------------------------------------------
const FS = [
  [5, 10],
  [12, 20],
];
const FS_X = [
  [0.3, 1.1],
  [2.5, 0.7],
];
const fsLogPdf = (x: number, d1: number, d2: number): number =>
  (d1 / 2) * Math.log(d1 / d2) +
  (d1 / 2 - 1) * Math.log(x) -
  ((d1 + d2) / 2) * Math.log1p((d1 * x) / d2) -
  (gammaln(d1 / 2) + gammaln(d2 / 2) - gammaln((d1 + d2) / 2));
CASES.push({
  name: 'FisherSnedecor',
  make: () => new d.FisherSnedecor([5, 12], [10, 20]),
  points: FS_X,
  logProb: grid(FS_X, (x, b) => fsLogPdf(x, FS[b]![0]!, FS[b]![1]!)),
  cdf: grid(FS_X, (x, b) => {
    const [d1, d2] = FS[b] as [number, number];
    return betaRef.cdf((d1 * x) / (d1 * x + d2), d1 / 2, d2 / 2);
  }),
  mean: FS.map(([, d2]) => d2! / (d2! - 2)),
  variance: FS.map(
    ([d1, d2]) => (2 * d2! ** 2 * (d1! + d2! - 2)) / (d1! * (d2! - 2) ** 2 * (d2! - 4)),
  ),
  mode: FS.map(([d1, d2]) => ((d1! - 2) / d1!) * (d2! / (d2! + 2))),
  undefinedMethods: ['entropy'],
  rtol: 2e-5,
  implicit: {
    theta: [6, 14],
    build: (p) => new d.FisherSnedecor(p[0]!, p[1]!),
    f: (x) => tf.tanh(x),
    // E[tanh X] by quadrature of the float64 density (smooth in both degrees of freedom)
    moment: ([d1, d2]) => {
      const n = 4000;
      const hi = 60;
      const h = hi / n;
      let s = 0;
      for (let i = 1; i <= n; i++) {
        const x = (i - 0.5) * h;
        s += Math.tanh(x) * Math.exp(fsLogPdf(x, d1!, d2!)) * h;
      }
      return s;
    },
  },
  bad: [
    [() => new d.FisherSnedecor(0, 1), /df1/],
    [() => new d.FisherSnedecor(1, -2), /df2/],
  ],
});

// ---- TruncatedDistribution over Normal: batch [2] ---------------------------------------------
const TR_LOW = [-1, 0.5];
const TR_X = [
  [-0.5, 0.7],
  [2.9, 2.2],
];
const trZ = (b: number): number => normalRef.cdf(3, 0.5, 2) - normalRef.cdf(TR_LOW[b]!, 0.5, 2);
CASES.push({
  name: 'TruncatedDistribution(Normal)',
  make: () => {
    const base = new d.Normal(0.5, 2);
    return owning(new d.TruncatedDistribution(base, { low: TR_LOW, high: 3 }), [base]);
  },
  points: TR_X,
  logProb: grid(TR_X, (x, b) => Math.log(normalRef.pdf(x, 0.5, 2) / trZ(b))),
  cdf: grid(
    TR_X,
    (x, b) => (normalRef.cdf(x, 0.5, 2) - normalRef.cdf(TR_LOW[b]!, 0.5, 2)) / trZ(b),
  ),
  undefinedMethods: ['mean', 'variance', 'mode', 'entropy'],
  atol: 1e-6,
  rtol: 2e-5,
  fd: {
    theta: [0.4, 1.3, -0.5],
    build: (p) =>
      new d.TruncatedDistribution(new d.Normal(p[0]!, p[1]!), { low: p[2]!, high: 2.5 }),
  },
  bad: [
    [
      () =>
        tf.tidy(() => void new d.TruncatedDistribution(new d.Normal(0, 1), { low: 1, high: 0 })),
      /high/,
    ],
    [
      () => tf.tidy(() => void new d.TruncatedDistribution(new d.VonMises(0, 1), { low: 0 })),
      /base/,
    ],
  ],
});

// ---- FoldedDistribution over Normal: batch [2] ------------------------------------------------
const FO = [
  [1, 2],
  [-0.5, 1],
];
const FO_X = [
  [0.2, 1.4],
  [3, 0],
];
CASES.push({
  name: 'FoldedDistribution(Normal)',
  make: () => {
    const base = new d.Normal([1, -0.5], [2, 1]);
    return owning(new d.FoldedDistribution(base), [base]);
  },
  points: FO_X,
  logProb: grid(FO_X, (x, b) => {
    const [m, s] = FO[b] as [number, number];
    return Math.log(normalRef.pdf(x, m, s) + normalRef.pdf(-x, m, s));
  }),
  cdf: grid(FO_X, (x, b) => {
    const [m, s] = FO[b] as [number, number];
    return normalRef.cdf(x, m, s) - normalRef.cdf(-x, m, s);
  }),
  undefinedMethods: ['mean', 'variance', 'mode', 'entropy'],
  atol: 1e-6,
  // away from the kink of abs at 0, where finite differences of the statistic are biased
  fd: { theta: [2.5, 0.6], build: (p) => new d.FoldedDistribution(new d.Normal(p[0]!, p[1]!)) },
  bad: [
    [
      () =>
        tf.tidy(() => void new d.FoldedDistribution(new d.MultivariateNormalDiag([0, 0], [1, 1]))),
      /base/,
    ],
  ],
});
