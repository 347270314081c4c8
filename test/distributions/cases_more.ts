/**
 * Conformance rows of the families added for the PPL (issue 14): references from @stdlib
 * (binomial, negative binomial, inverse gamma, Weibull, Cauchy, Beta) or float64 closed forms
 * (multivariate normals through a float64 Cholesky, von Mises through the Bessel series,
 * multinomial through log-gamma, LKJ in 2-D through the Beta law of the correlation).
 */
import * as tf from '@tensorflow/tfjs';
import binomialRef from '@stdlib/stats-base-dists-binomial';
import negbinRef from '@stdlib/stats-base-dists-negative-binomial';
import invgammaRef from '@stdlib/stats-base-dists-invgamma';
import weibullRef from '@stdlib/stats-base-dists-weibull';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import betaRef from '@stdlib/stats-base-dists-beta';
import gammaln from '@stdlib/math-base-special-gammaln';
import { distributions } from '../../src/index.js';
import { CASES, type ScalarRef, type Case } from './cases.js';

const d = distributions;
type Dist = distributions.Distribution;
type Fn = (...args: number[]) => number;
const f = (m: object, k: string): Fn => (m as Record<string, Fn>)[k] as Fn;

/** A scalar family row: params per batch element, points rows x batch columns. */
function row(
  base: Omit<Case, 'points' | 'logProb' | 'cdf' | 'mean' | 'variance' | 'mode' | 'entropy'>,
  params: number[][],
  ref: (...p: number[]) => ScalarRef,
  xs: number[][],
  opts: { cdf?: boolean; mode?: boolean } = {},
): Case {
  const refs = params.map((p) => ref(...p));
  const pick = (k: 'mean' | 'variance' | 'mode'): number[] | undefined =>
    refs.every((r) => r[k] !== undefined) ? refs.map((r) => r[k] as number) : undefined;
  return {
    ...base,
    points: xs,
    logProb: xs.map((r) => r.map((x, i) => (refs[i] as ScalarRef).logpdf(x))),
    cdf:
      opts.cdf === false
        ? undefined
        : xs.map((r) => r.map((x, i) => ((refs[i] as ScalarRef).cdf as Fn)(x))),
    mean: pick('mean'),
    variance: pick('variance'),
    mode: opts.mode === false ? undefined : pick('mode'),
    entropy: refs.every((r) => r.entropy !== undefined)
      ? refs.map((r) => r.entropy as number)
      : undefined,
  };
}

// ---- HalfCauchy: twice the Cauchy(0, s) density on x >= 0 ----------------------------------
CASES.push(
  row(
    {
      name: 'HalfCauchy',
      make: () => new d.HalfCauchy([1, 2.5]),
      heavyTailed: true,
      bad: [
        [() => new d.HalfCauchy(-1), /scale/],
        [() => new d.HalfCauchy([1, NaN]), /scale/],
      ],
      fd: { theta: [1.3], build: ([s]) => new d.HalfCauchy(tf.stack([s!, s!])) },
    },
    [[1], [2.5]],
    (s) => ({
      logpdf: (x) => Math.LN2 + f(cauchyRef, 'logpdf')(x, 0, s),
      cdf: (x) => 2 * f(cauchyRef, 'cdf')(x, 0, s) - 1,
      entropy: Math.log(2 * Math.PI * s),
      mode: 0,
    }),
    [
      [0.3, 1],
      [2, 0.1],
      [5, 7],
    ],
  ),
);

// ---- InverseGamma (@stdlib invgamma(alpha, beta)) -------------------------------------------
CASES.push(
  row(
    {
      name: 'InverseGamma',
      make: () => new d.InverseGamma([5, 6.5], [2, 1]),
      rtol: 2e-5,
      implicit: {
        theta: [3, 2],
        build: ([a, b]) => new d.InverseGamma(a!, b!),
        f: (x) => tf.reciprocal(x),
        moment: ([a, b]) => a! / b!,
      },
      bad: [
        [() => new d.InverseGamma(-1, 1), /concentration/],
        [() => new d.InverseGamma(2, 0), /rate/],
      ],
    },
    [
      [5, 2],
      [6.5, 1],
    ],
    (a, b) => ({
      logpdf: (x) => f(invgammaRef, 'logpdf')(x, a, b),
      cdf: (x) => f(invgammaRef, 'cdf')(x, a, b),
      mean: f(invgammaRef, 'mean')(a, b),
      variance: f(invgammaRef, 'variance')(a, b),
      mode: f(invgammaRef, 'mode')(a, b),
      entropy: f(invgammaRef, 'entropy')(a, b),
    }),
    [
      [0.3, 0.1],
      [0.5, 0.2],
      [2, 1.5],
    ],
  ),
);

// ---- Weibull (@stdlib weibull(k, lambda)) ----------------------------------------------------
CASES.push(
  row(
    {
      name: 'Weibull',
      make: () => new d.Weibull([2, 0.7], [1.5, 3]),
      rtol: 2e-5,
      bad: [
        [() => new d.Weibull(-1, 1), /scale/],
        [() => new d.Weibull(1, 0), /concentration/],
      ],
      fd: {
        theta: [1.2, 2],
        build: ([l, k]) => new d.Weibull(tf.stack([l!, l!]), tf.stack([k!, k!])),
      },
    },
    [
      [2, 1.5],
      [0.7, 3],
    ],
    (lam, k) => ({
      logpdf: (x) => f(weibullRef, 'logpdf')(x, k, lam),
      cdf: (x) => f(weibullRef, 'cdf')(x, k, lam),
      mean: f(weibullRef, 'mean')(k, lam),
      variance: f(weibullRef, 'variance')(k, lam),
      mode: f(weibullRef, 'mode')(k, lam),
      entropy: f(weibullRef, 'entropy')(k, lam),
    }),
    [
      [0.3, 0.2],
      [1, 0.7],
      [4, 1.1],
    ],
  ),
);

// ---- Binomial (@stdlib binomial(n, p)) -------------------------------------------------------
const binRef = (n: number, p: number): ScalarRef => ({
  logpdf: (x) => f(binomialRef, 'logpmf')(x, n, p),
  cdf: (x) => f(binomialRef, 'cdf')(x, n, p),
  mean: f(binomialRef, 'mean')(n, p),
  variance: f(binomialRef, 'variance')(n, p),
  mode: Math.min(Math.floor((n + 1) * p), n),
  entropy: f(binomialRef, 'entropy')(n, p),
});
CASES.push(
  row(
    {
      name: 'Binomial',
      make: () => new d.Binomial([10, 25], { probs: [0.3, 0.8] }),
      discrete: true,
      rtol: 2e-5,
      bad: [
        [() => new d.Binomial(2.5, { probs: 0.5 }), /totalCount/],
        [() => new d.Binomial(-1, { probs: 0.5 }), /totalCount/],
        [() => new d.Binomial(3, { probs: 1.5 }), /probs/],
        [() => new d.Binomial(3, { probs: 0.5, logits: 0 }), /probs\/logits/],
      ],
    },
    [
      [10, 0.3],
      [25, 0.8],
    ],
    binRef,
    [
      [3, 20],
      [0, 25],
      [7, 15],
    ],
  ),
);
CASES.push(
  row(
    {
      name: 'Binomial(logits)',
      make: () => new d.Binomial(12, { logits: [Math.log(0.25 / 0.75), 2] }),
      discrete: true,
      rtol: 2e-5,
      bad: [[() => new d.Binomial(3, { logits: NaN }), /logits/]],
    },
    [
      [12, 0.25],
      [12, 1 / (1 + Math.exp(-2))],
    ],
    binRef,
    [
      [3, 10],
      [12, 0],
    ],
  ),
);

// ---- NegativeBinomial (Pyro's p = success prob = 1 - @stdlib's p) ----------------------------
CASES.push(
  row(
    {
      name: 'NegativeBinomial',
      make: () => new d.NegativeBinomial([5, 2.5], { probs: [0.4, 0.7] }),
      discrete: true,
      rtol: 2e-5,
      undefinedMethods: ['entropy'],
      bad: [
        [() => new d.NegativeBinomial(0, { probs: 0.5 }), /totalCount/],
        [() => new d.NegativeBinomial(2, { probs: 1 }), /probs/],
      ],
    },
    [
      [5, 0.4],
      [2.5, 0.7],
    ],
    (r, p) => ({
      logpdf: (x) => f(negbinRef, 'logpmf')(x, r, 1 - p),
      cdf: (x) => f(negbinRef, 'cdf')(x, r, 1 - p),
      mean: f(negbinRef, 'mean')(r, 1 - p),
      variance: f(negbinRef, 'variance')(r, 1 - p),
      mode: f(negbinRef, 'mode')(r, 1 - p),
    }),
    [
      [0, 3],
      [3, 0],
      [9, 12],
    ],
  ),
);

// ---- VonMises: Bessel series in float64 ------------------------------------------------------
/** `I_n(x) = sum_k (x/2)^{2k+n} / (k! (k+n)!)` in float64. */
function besselI(n: number, x: number): number {
  let term = Math.pow(x / 2, n) / (n === 0 ? 1 : 1);
  let sum = term;
  for (let k = 1; k < 200; k++) {
    term *= (x * x) / 4 / (k * (k + n));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}
CASES.push(
  row(
    {
      name: 'VonMises',
      make: () => new d.VonMises([0.5, -1], [2, 0.3]),
      rtol: 3e-5,
      atol: 3e-6,
      undefinedMethods: ['cdf'],
      bad: [
        [() => new d.VonMises(0, -1), /concentration/],
        [() => new d.VonMises(NaN, 1), /loc/],
      ],
    },
    [
      [0.5, 2],
      [-1, 0.3],
    ],
    (mu, k) => ({
      logpdf: (x) => k * Math.cos(x - mu) - Math.log(2 * Math.PI * besselI(0, k)),
      mode: mu,
      entropy: Math.log(2 * Math.PI * besselI(0, k)) - (k * besselI(1, k)) / besselI(0, k),
    }),
    [
      [0.4, -1],
      [3, 2.5],
      [-2, 0],
    ],
    { cdf: false },
  ),
);

// ---- multivariate normals: float64 Cholesky references ----------------------------------------
function chol64(a: number[][]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let s = a[j]![j]!;
    for (let k = 0; k < j; k++) s -= l[j]![k]! ** 2;
    l[j]![j] = Math.sqrt(s);
    for (let i = j + 1; i < n; i++) {
      let t = a[i]![j]!;
      for (let k = 0; k < j; k++) t -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = t / l[j]![j]!;
    }
  }
  return l;
}
function mvnLogPdf64(x: number[], mu: number[], cov: number[][]): number {
  const l = chol64(cov);
  const n = x.length;
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = x[i]! - mu[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * z[k]!;
    z[i] = s / l[i]![i]!;
  }
  const logDet = l.reduce((u, r, i) => u + Math.log(r[i]!), 0);
  return -0.5 * z.reduce((u, v) => u + v * v, 0) - logDet - (n / 2) * Math.log(2 * Math.PI);
}
function mvnEntropy64(cov: number[][]): number {
  const l = chol64(cov);
  const n = cov.length;
  return l.reduce((u, r, i) => u + Math.log(r[i]!), 0) + (n / 2) * (1 + Math.log(2 * Math.PI));
}
function inv2(m: number[][]): number[][] {
  const [[a, b], [c, e]] = m as [[number, number], [number, number]];
  const det = a * e - b * c;
  return [
    [e / det, -b / det],
    [-c / det, a / det],
  ];
}

const MV_LOC = [
  [0.3, -1],
  [1, 2],
];
const MV_COV = [
  [2, 0.6],
  [0.6, 1],
];
const MV_X = [
  [
    [0.1, -0.5],
    [1.5, 1],
  ],
  [
    [-2, 0],
    [0, 0],
  ],
];
const mvBase = {
  points: MV_X,
  logProb: MV_X.map((r) => r.map((x, i) => mvnLogPdf64(x, MV_LOC[i]!, MV_COV))),
  mean: MV_LOC.flat(),
  mode: MV_LOC.flat(),
  variance: [2, 1, 2, 1],
  entropy: [mvnEntropy64(MV_COV), mvnEntropy64(MV_COV)],
  undefinedMethods: ['cdf'] as Case['undefinedMethods'],
  rtol: 2e-5,
  atol: 2e-6,
  fd: {
    theta: [0.3, 0.8],
    build: ([l, s]: tf.Tensor[]) =>
      new d.MultivariateNormal(tf.stack([l!, l!]), {
        scaleTril: tf.stack([tf.stack([s!, tf.scalar(0)]), tf.stack([tf.scalar(0.5), s!])]),
      }),
  },
};
CASES.push({
  name: 'MultivariateNormal(covarianceMatrix)',
  make: () => new d.MultivariateNormal(MV_LOC, { covarianceMatrix: MV_COV }),
  ...mvBase,
  bad: [
    [
      () =>
        new d.MultivariateNormal([0, 0], {
          covarianceMatrix: [
            [1, 2],
            [2, 1],
          ],
        }),
      /covarianceMatrix/,
    ],
    [
      () =>
        new d.MultivariateNormal([0, 0], {
          scaleTril: [
            [1, 0],
            [0, -1],
          ],
        }),
      /scaleTril/,
    ],
    [() => new d.MultivariateNormal([0, 0, 0], { covarianceMatrix: MV_COV }), /covarianceMatrix/],
    [() => new d.MultivariateNormal([0, 0], {} as never), /covarianceMatrix/],
  ],
});
CASES.push({
  name: 'MultivariateNormal(precisionMatrix)',
  make: () => new d.MultivariateNormal(MV_LOC, { precisionMatrix: inv2(MV_COV) }),
  ...mvBase,
  rtol: 5e-5,
  atol: 5e-6,
  bad: [
    [
      () =>
        new d.MultivariateNormal([0, 0], {
          precisionMatrix: [
            [0, 1],
            [1, 0],
          ],
        }),
      /precisionMatrix/,
    ],
  ],
});
CASES.push({
  name: 'MultivariateNormal(scaleTril)',
  make: () => new d.MultivariateNormal(MV_LOC, { scaleTril: chol64(MV_COV) }),
  ...mvBase,
  bad: [],
});

const LR_LOC = [0.5, -0.2, 1];
const LR_W = [
  [1, 0.2],
  [0.5, -0.3],
  [0, 0.8],
];
const LR_D = [0.5, 1, 0.3];
const LR_COV = LR_W.map((ri, i) =>
  LR_W.map((rj, j) => ri[0]! * rj[0]! + ri[1]! * rj[1]! + (i === j ? LR_D[i]! : 0)),
);
const LR_X = [
  [0, 0, 0],
  [1.5, -1, 2],
];
CASES.push({
  name: 'LowRankMultivariateNormal',
  make: () => new d.LowRankMultivariateNormal(LR_LOC, LR_W, LR_D),
  points: LR_X,
  logProb: LR_X.map((x) => [mvnLogPdf64(x, LR_LOC, LR_COV)]).map((r) => r),
  mean: LR_LOC,
  mode: LR_LOC,
  variance: LR_COV.map((r, i) => r[i]!),
  entropy: [mvnEntropy64(LR_COV)],
  undefinedMethods: ['cdf'],
  rtol: 2e-5,
  atol: 2e-6,
  fd: {
    theta: [0.4, 0.9],
    build: ([w, dd]) =>
      new d.LowRankMultivariateNormal(
        [0, 0],
        tf.stack([tf.stack([w!]), tf.stack([tf.scalar(0.3)])]),
        tf.stack([dd!, dd!]),
      ),
  },
  bad: [
    [() => new d.LowRankMultivariateNormal(LR_LOC, LR_W, [1, -1, 1]), /covDiag/],
    [() => new d.LowRankMultivariateNormal(LR_LOC, [1, 2, 3], LR_D), /covFactor/],
    [() => new d.LowRankMultivariateNormal(LR_LOC, LR_W, [1, 1]), /covDiag/],
  ],
});

// ---- Multinomial ------------------------------------------------------------------------------
const MN_P = [
  [0.2, 0.3, 0.5],
  [0.6, 0.3, 0.1],
];
const MN_X = [
  [
    [2, 3, 3],
    [8, 0, 0],
  ],
  [
    [0, 0, 8],
    [4, 2, 2],
  ],
];
const mnLogPmf = (n: number, p: number[], x: number[]): number =>
  gammaln(n + 1) +
  x.reduce((u, xi, i) => u - gammaln(xi + 1) + (xi === 0 ? 0 : xi * Math.log(p[i]!)), 0);
/** Entropy by enumerating every count vector of `n` over three classes (float64). */
const mnEntropy = (n: number, p: number[]): number => {
  let h = 0;
  for (let a = 0; a <= n; a++) {
    for (let b = 0; a + b <= n; b++) {
      const lp = mnLogPmf(n, p, [a, b, n - a - b]);
      h -= Math.exp(lp) * lp;
    }
  }
  return h;
};
CASES.push({
  name: 'Multinomial',
  make: () => new d.Multinomial(8, { probs: MN_P }),
  points: MN_X,
  logProb: MN_X.map((r) => r.map((x, i) => mnLogPmf(8, MN_P[i]!, x))),
  mean: MN_P.flat().map((p) => 8 * p),
  variance: MN_P.flat().map((p) => 8 * p * (1 - p)),
  entropy: MN_P.map((p) => mnEntropy(8, p)),
  undefinedMethods: ['cdf', 'mode'],
  discrete: true,
  rtol: 2e-5,
  bad: [
    [() => new d.Multinomial(2.5, { probs: [0.5, 0.5] }), /totalCount/],
    [() => new d.Multinomial(3, { probs: [0.5, 0.6] }), /probs/],
  ],
});

// ---- LKJCholesky in 2-D: (r + 1)/2 ~ Beta(eta, eta), density on the strictly-lower entry ----
const LKJ_ETA = [0.7, 2];
const lkjPoint = (r: number): number[][] => [
  [1, 0],
  [r, Math.sqrt(1 - r * r)],
];
const LKJ_R = [
  [0.3, -0.6],
  [-0.9, 0.1],
];
CASES.push({
  name: 'LKJCholesky(2)',
  make: () => new d.LKJCholesky(2, LKJ_ETA),
  points: LKJ_R.map((r) => r.map(lkjPoint)),
  logProb: LKJ_R.map((r) =>
    r.map((ri, i) => f(betaRef, 'logpdf')((ri + 1) / 2, LKJ_ETA[i]!, LKJ_ETA[i]!) - Math.LN2),
  ),
  undefinedMethods: ['cdf', 'mean', 'variance', 'entropy', 'mode'],
  rtol: 3e-5,
  atol: 3e-6,
  bad: [
    [() => new d.LKJCholesky(1, 1), /dim/],
    [() => new d.LKJCholesky(3, -1), /concentration/],
  ],
});

// ---- LKJ in 2-D: (r + 1)/2 ~ Beta(eta, eta), density on the off-diagonal entry ----
const lkjMatrix = (r: number): number[][] => [
  [1, r],
  [r, 1],
];
CASES.push({
  name: 'LKJ(2)',
  make: () => new d.LKJ(2, LKJ_ETA),
  points: LKJ_R.map((r) => r.map(lkjMatrix)),
  logProb: LKJ_R.map((r) =>
    r.map((ri, i) => f(betaRef, 'logpdf')((ri + 1) / 2, LKJ_ETA[i]!, LKJ_ETA[i]!) - Math.LN2),
  ),
  mean: LKJ_ETA.flatMap(() => [1, 0, 0, 1]),
  // Var(r) = 4 Var(Beta(eta, eta)) = 1/(2 eta + 1)
  variance: LKJ_ETA.flatMap((e) => [0, 1 / (2 * e + 1), 1 / (2 * e + 1), 0]),
  undefinedMethods: ['cdf', 'entropy', 'mode'],
  rtol: 3e-5,
  atol: 3e-6,
  bad: [
    [() => new d.LKJ(1, 1), /dim/],
    [() => new d.LKJ(3, -1), /concentration/],
  ],
});

// ---- OrderedLogistic: differences of cumulative sigmoids ----
const sigm = (x: number): number => 1 / (1 + Math.exp(-x));
const OL_ETA = [0.4, -1.1];
const OL_CUTS = [-0.5, 0.3, 1.2];
const OL_P = OL_ETA.map((e) => {
  const cdf = [...OL_CUTS.map((c) => sigm(c - e)), 1];
  return cdf.map((v, k) => v - (k === 0 ? 0 : cdf[k - 1]!));
});
CASES.push({
  name: 'OrderedLogistic',
  make: () => new d.OrderedLogistic(OL_ETA, OL_CUTS),
  points: [
    [0, 3],
    [2, 1],
  ],
  logProb: [
    [Math.log(OL_P[0]![0]!), Math.log(OL_P[1]![3]!)],
    [Math.log(OL_P[0]![2]!), Math.log(OL_P[1]![1]!)],
  ],
  mode: OL_P.map((p) => p.indexOf(Math.max(...p))),
  mean: [NaN, NaN],
  variance: [NaN, NaN],
  entropy: OL_P.map((p) => -p.reduce((a, v) => a + v * Math.log(v), 0)),
  undefinedMethods: ['cdf'],
  discrete: true,
  bad: [
    [() => new d.OrderedLogistic(0, 1), /cutpoints/],
    [() => new d.OrderedLogistic(0, [1, 0]), /cutpoints/],
    [() => new d.OrderedLogistic([NaN], [0, 1]), /predictor/],
  ],
});

export type { Dist };
