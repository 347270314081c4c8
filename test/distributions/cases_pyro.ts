/**
 * Conformance rows of the families ported from Pyro/NumPyro (mixtures, relaxed and one-hot
 * categoricals, zero-inflated and compound counts). References are independent float64 code:
 * @stdlib densities/CDFs (normal, Poisson, negative binomial) combined by their defining
 * formulas, Maddison et al.'s product-form Concrete densities, and log-gamma closed forms from
 * @stdlib's `gammaln`.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import negbinRef from '@stdlib/stats-base-dists-negative-binomial';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import gammaln from '@stdlib/math-base-special-gammaln';
import digamma from '@stdlib/math-base-special-digamma';
import { distributions } from '../../src/index.js';
import { CASES } from './cases.js';

const d = distributions;
type Dist = distributions.Distribution;
type Fn = (...args: number[]) => number;
const f = (m: object, k: string): Fn => (m as Record<string, Fn>)[k] as Fn;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * A distribution that also frees the distributions it wraps (the wrappers leave them to the
 * caller), so the harness's `dispose` releases everything `make` built.
 */
function owning<D extends Dist>(dist: D, inner: Dist[]): D {
  const own = dist.dispose.bind(dist);
  dist.dispose = () => {
    own();
    inner.forEach((x) => x.dispose());
  };
  return dist;
}

/** Run a constructor inside `tf.tidy`, so tensors of inner distributions are freed on errors. */
const tidy =
  (fn: () => unknown): (() => unknown) =>
  () =>
    tf.tidy(() => {
      fn();
    });

// ---- MixtureSameFamily of normals: batch [2], K = 3 --------------------------------------------
const MIX_W = [
  [0.2, 0.5, 0.3],
  [0.6, 0.1, 0.3],
];
const MIX_LOC = [
  [-1, 0.5, 3],
  [0, 2, -2],
];
const MIX_SC = [
  [0.5, 1, 2],
  [1.5, 0.3, 0.8],
];
const MIX_X = [
  [0.7, -1.4],
  [-2.1, 2.25],
  [3, -0.4],
];
function mixRef(b: number, fn: 'pdf' | 'cdf', x: number): number {
  let s = 0;
  for (let k = 0; k < 3; k++) {
    s += MIX_W[b]![k]! * f(normalRef, fn)(x, MIX_LOC[b]![k]!, MIX_SC[b]![k]!);
  }
  return s;
}
function mixMoments(b: number): [number, number] {
  let m = 0;
  let m2 = 0;
  for (let k = 0; k < 3; k++) {
    const w = MIX_W[b]![k]!;
    const mu = MIX_LOC[b]![k]!;
    const s = MIX_SC[b]![k]!;
    m += w * mu;
    m2 += w * (s * s + mu * mu);
  }
  return [m, m2 - m * m];
}
CASES.push({
  name: 'MixtureSameFamily',
  make: () => {
    const cat = new d.Categorical({ probs: MIX_W });
    const comp = new d.Normal(MIX_LOC, MIX_SC);
    return owning(new d.MixtureSameFamily(cat, comp), [cat, comp]);
  },
  points: MIX_X,
  logProb: MIX_X.map((r) => r.map((x, b) => Math.log(mixRef(b, 'pdf', x)))),
  cdf: MIX_X.map((r) => r.map((x, b) => mixRef(b, 'cdf', x))),
  mean: [0, 1].map((b) => mixMoments(b)[0]),
  variance: [0, 1].map((b) => mixMoments(b)[1]),
  undefinedMethods: ['mode', 'entropy'],
  rtol: 2e-5,
  bad: [
    [
      tidy(
        () => new d.MixtureSameFamily(new d.Categorical([0.5, 0.5]), new d.Normal([0, 1, 2], 1)),
      ),
      /componentDistribution/,
    ],
    [
      tidy(
        () =>
          new d.MixtureSameFamily(
            new d.Categorical({ logits: tf.zeros([3, 2]) }),
            new d.Normal(tf.zeros([2, 2]), 1),
          ),
      ),
      /mixtureDistribution/,
    ],
    [
      tidy(() => new d.MixtureSameFamily(new d.Normal(0, 1) as never, new d.Normal([0, 1], 1))),
      /mixtureDistribution/,
    ],
  ],
});

// ---- OneHotCategorical: batch [2], K = 3 --------------------------------------------------------
const OH_P = [
  [0.2, 0.5, 0.3],
  [0.7, 0.1, 0.2],
];
const OH_X = [
  [
    [1, 0, 0],
    [0, 0, 1],
  ],
  [
    [0, 1, 0],
    [1, 0, 0],
  ],
];
CASES.push({
  name: 'OneHotCategorical',
  make: () => new d.OneHotCategorical({ logits: OH_P.map((r) => r.map(Math.log)) }),
  points: OH_X,
  logProb: OH_X.map((pt) => pt.map((x, b) => Math.log(OH_P[b]![x.indexOf(1)]!))),
  mean: OH_P.flat(),
  variance: OH_P.flat().map((p) => p * (1 - p)),
  mode: [0, 1, 0, 1, 0, 0],
  entropy: OH_P.map((r) => -r.reduce((s, p) => s + p * Math.log(p), 0)),
  undefinedMethods: ['cdf'],
  discrete: true,
  bad: [
    [() => new d.OneHotCategorical({ probs: [0.5, 0.6] }), /probs/],
    [() => new d.OneHotCategorical({ logits: [0, NaN] }), /logits/],
  ],
});

// ---- RelaxedBernoulli: Maddison et al.'s binary Concrete density --------------------------------
const RB_P: number[][] = [
  [0.5, 0.3],
  [2, -1.2],
];
/** `t e^l x^{-t-1} (1-x)^{-t-1} / (e^l x^{-t} + (1-x)^{-t})^2`. */
function relaxedBernoulliPdf(t: number, l: number, x: number): number {
  if (!(x > 0 && x < 1)) return 0;
  const num = t * Math.exp(l) * x ** (-t - 1) * (1 - x) ** (-t - 1);
  return num / (Math.exp(l) * x ** -t + (1 - x) ** -t) ** 2;
}
const RB_X = [
  [0.3, 0.9],
  [0.05, 0.5],
  [0.999, 0.2],
];
CASES.push({
  name: 'RelaxedBernoulli',
  make: () => new d.RelaxedBernoulli([0.5, 2], { logits: [0.3, -1.2] }),
  points: RB_X,
  logProb: RB_X.map((r) =>
    r.map((x, b) => Math.log(relaxedBernoulliPdf(RB_P[b]![0]!, RB_P[b]![1]!, x))),
  ),
  cdf: RB_X.map((r) =>
    r.map((x, b) => sigmoid(RB_P[b]![0]! * Math.log(x / (1 - x)) - RB_P[b]![1]!)),
  ),
  undefinedMethods: ['mean', 'variance', 'mode', 'entropy'],
  rtol: 1e-4,
  atol: 1e-5,
  fd: {
    theta: [0.7, 0.4],
    build: ([t, l]) => new d.RelaxedBernoulli(t!, { logits: l! }),
  },
  bad: [
    [() => new d.RelaxedBernoulli(0, { probs: 0.5 }), /temperature/],
    [() => new d.RelaxedBernoulli(1, { probs: 1.5 }), /probs/],
    [() => new d.RelaxedBernoulli([1, 1, 1], { probs: [0.5, 0.5] }), /temperature\/probs/],
  ],
});

// ---- RelaxedOneHotCategorical: the product-form Concrete density --------------------------------
const RO_T = [0.5, 1.5];
const RO_L = [0.2, -0.5, 1];
/** `(K-1)! t^{K-1} prod_k [pi_k x_k^{-t-1} / sum_j pi_j x_j^{-t}]` in float64. */
function concretePdf(t: number, logits: number[], x: number[]): number {
  const z = logits.reduce((s, l) => s + Math.exp(l), 0);
  const pi = logits.map((l) => Math.exp(l) / z);
  const k = pi.length;
  const denom = pi.reduce((s, p, j) => s + p * x[j]! ** -t, 0);
  let prod = 1;
  for (let j = 0; j < k; j++) prod *= (pi[j]! * x[j]! ** (-t - 1)) / denom;
  return Math.exp(gammaln(k)) * t ** (k - 1) * prod;
}
const RO_X = [
  [
    [0.2, 0.3, 0.5],
    [0.05, 0.9, 0.05],
  ],
  [
    [0.6, 0.3, 0.1],
    [0.01, 0.01, 0.98],
  ],
];
CASES.push({
  name: 'RelaxedOneHotCategorical',
  make: () => new d.RelaxedOneHotCategorical(RO_T, { logits: RO_L }),
  points: RO_X,
  logProb: RO_X.map((pt) => pt.map((x, b) => Math.log(concretePdf(RO_T[b]!, RO_L, x)))),
  undefinedMethods: ['mean', 'variance', 'mode', 'entropy', 'cdf'],
  rtol: 1e-4,
  atol: 1e-5,
  fd: {
    theta: [0.8, 0.3],
    build: ([t, l]) =>
      new d.RelaxedOneHotCategorical(t!, { logits: tf.stack([l!, tf.scalar(0), tf.scalar(-0.4)]) }),
  },
  bad: [
    [() => new d.RelaxedOneHotCategorical(-1, { probs: [0.5, 0.5] }), /temperature/],
    [() => new d.RelaxedOneHotCategorical(1, { probs: [0.5, 0.6] }), /probs/],
    [
      () =>
        new d.RelaxedOneHotCategorical([1, 1, 1], {
          logits: [
            [0, 0],
            [1, 1],
          ],
        }),
      /temperature\/logits/,
    ],
  ],
});

// ---- ZeroInflatedPoisson: @stdlib Poisson mixed with a point mass at 0 --------------------------
const ZIP_P = [
  [3, 0.2],
  [0.7, 0.5],
];
const ZIP_X = [
  [0, 0],
  [2, 1],
  [7, 3],
];
function zipRef(rate: number, g: number): { lp: Fn; cdf: Fn; mean: number; variance: number } {
  const pmf = (k: number): number => (k === 0 ? g : 0) + (1 - g) * f(poissonRef, 'pmf')(k, rate);
  return {
    lp: (k) => Math.log(pmf(k)),
    cdf: (k) => g + (1 - g) * f(poissonRef, 'cdf')(k, rate),
    mean: (1 - g) * rate,
    variance: (1 - g) * rate * (1 + g * rate),
  };
}
const ZIP_R = ZIP_P.map(([r, g]) => zipRef(r!, g!));
CASES.push({
  name: 'ZeroInflatedPoisson',
  make: () => new d.ZeroInflatedPoisson([3, 0.7], { gateLogits: [Math.log(0.2 / 0.8), 0] }),
  points: ZIP_X,
  logProb: ZIP_X.map((r) => r.map((x, b) => ZIP_R[b]!.lp(x))),
  cdf: ZIP_X.map((r) => r.map((x, b) => ZIP_R[b]!.cdf(x))),
  mean: ZIP_R.map((r) => r.mean),
  variance: ZIP_R.map((r) => r.variance),
  undefinedMethods: ['mode', 'entropy'],
  discrete: true,
  rtol: 2e-5,
  bad: [
    [() => new d.ZeroInflatedPoisson([3, 1], { gate: 1.5 }), /gate/],
    [() => new d.ZeroInflatedPoisson([3, -1], { gate: 0.5 }), /rate/],
    [() => new d.ZeroInflatedPoisson([3, 1], { gate: 0.5, gateLogits: 0 }), /gate\/gateLogits/],
    [() => new d.ZeroInflatedPoisson([3, 1], { gate: [0.1, 0.2, 0.3] }), /gate/],
  ],
});

// ---- ZeroInflatedNegativeBinomial (Pyro's p = 1 - @stdlib's p) ----------------------------------
const ZINB_P = [
  [5, 0.4, 0.3],
  [2.5, 0.7, 0.1],
];
const ZINB_R = ZINB_P.map(([r, p, g]) => {
  const pmf = (k: number): number =>
    (k === 0 ? g! : 0) + (1 - g!) * f(negbinRef, 'pmf')(k, r!, 1 - p!);
  const mu = (r! * p!) / (1 - p!);
  const v = (r! * p!) / (1 - p!) ** 2;
  return {
    lp: (k: number) => Math.log(pmf(k)),
    cdf: (k: number) => g! + (1 - g!) * f(negbinRef, 'cdf')(k, r!, 1 - p!),
    mean: (1 - g!) * mu,
    variance: (1 - g!) * (v + mu * mu) - ((1 - g!) * mu) ** 2,
  };
});
CASES.push({
  name: 'ZeroInflatedNegativeBinomial',
  make: () =>
    new d.ZeroInflatedNegativeBinomial([5, 2.5], { probs: [0.4, 0.7] }, { gate: [0.3, 0.1] }),
  points: ZIP_X,
  logProb: ZIP_X.map((r) => r.map((x, b) => ZINB_R[b]!.lp(x))),
  cdf: ZIP_X.map((r) => r.map((x, b) => ZINB_R[b]!.cdf(x))),
  mean: ZINB_R.map((r) => r.mean),
  variance: ZINB_R.map((r) => r.variance),
  undefinedMethods: ['mode', 'entropy'],
  discrete: true,
  rtol: 2e-5,
  bad: [
    [() => new d.ZeroInflatedNegativeBinomial(0, { probs: 0.5 }, { gate: 0.1 }), /totalCount/],
    [
      () => new d.ZeroInflatedNegativeBinomial([2, 3], { probs: 0.5 }, { gateLogits: NaN }),
      /gateLogits/,
    ],
  ],
});

// ---- BetaBinomial: log-gamma closed form in float64 ---------------------------------------------
const BB_P = [
  [2, 3, 10],
  [0.7, 1.5, 6],
];
const lbeta = (a: number, b: number): number => gammaln(a) + gammaln(b) - gammaln(a + b);
const lchoose = (n: number, k: number): number =>
  gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
function bbLogPmf(a: number, b: number, n: number, k: number): number {
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) return -Infinity;
  return lchoose(n, k) + lbeta(k + a, n - k + b) - lbeta(a, b);
}
function bbRef(a: number, b: number, n: number) {
  const pmf = Array.from({ length: n + 1 }, (_, k) => Math.exp(bbLogPmf(a, b, n, k)));
  const s = a + b;
  return {
    lp: (k: number) => bbLogPmf(a, b, n, k),
    cdf: (x: number) =>
      Math.min(
        1,
        pmf.reduce((acc, p, k) => acc + (k <= x ? p : 0), 0),
      ),
    mean: (n * a) / s,
    variance: (n * a * b * (s + n)) / (s * s * (s + 1)),
    entropy: -pmf.reduce((acc, p) => acc + (p > 0 ? p * Math.log(p) : 0), 0),
  };
}
const BB_R = BB_P.map(([a, b, n]) => bbRef(a!, b!, n!));
const BB_X = [
  [0, 6],
  [4, 2],
  [10, 3],
];
CASES.push({
  name: 'BetaBinomial',
  make: () => new d.BetaBinomial([2, 0.7], [3, 1.5], [10, 6]),
  points: BB_X,
  logProb: BB_X.map((r) => r.map((x, b) => BB_R[b]!.lp(x))),
  cdf: BB_X.map((r) => r.map((x, b) => BB_R[b]!.cdf(x))),
  mean: BB_R.map((r) => r.mean),
  variance: BB_R.map((r) => r.variance),
  entropy: BB_R.map((r) => r.entropy),
  undefinedMethods: ['mode'],
  discrete: true,
  rtol: 5e-5,
  atol: 2e-6,
  bad: [
    [() => new d.BetaBinomial(0, 1, 3), /concentration1/],
    [() => new d.BetaBinomial(1, -1, 3), /concentration0/],
    [() => new d.BetaBinomial(1, 1, 2.5), /totalCount/],
    [() => new d.BetaBinomial([1, 1, 1], 1, [2, 2]), /concentration1\/concentration0\/totalCount/],
  ],
});

// ---- DirichletMultinomial: log-gamma closed form ------------------------------------------------
const DM_A = [
  [0.5, 1, 2],
  [3, 1.5, 0.8],
];
const DM_N = 5;
function dmLogPmf(a: number[], x: number[]): number {
  const a0 = a.reduce((s, v) => s + v, 0);
  const n = x.reduce((s, v) => s + v, 0);
  let lp = gammaln(n + 1) + gammaln(a0) - gammaln(n + a0);
  a.forEach((ak, k) => {
    lp += gammaln(x[k]! + ak) - gammaln(x[k]! + 1) - gammaln(ak);
  });
  return lp;
}
const DM_X = [
  [
    [2, 3, 0],
    [1, 1, 3],
  ],
  [
    [0, 0, 5],
    [5, 0, 0],
  ],
];
CASES.push({
  name: 'DirichletMultinomial',
  make: () => new d.DirichletMultinomial(DM_A, DM_N),
  points: DM_X,
  logProb: DM_X.map((pt) => pt.map((x, b) => dmLogPmf(DM_A[b]!, x))),
  mean: DM_A.flatMap((a) => {
    const a0 = a.reduce((s, v) => s + v, 0);
    return a.map((v) => (DM_N * v) / a0);
  }),
  variance: DM_A.flatMap((a) => {
    const a0 = a.reduce((s, v) => s + v, 0);
    return a.map((v) => ((DM_N * v) / a0) * (1 - v / a0) * ((DM_N + a0) / (1 + a0)));
  }),
  undefinedMethods: ['mode', 'entropy', 'cdf'],
  discrete: true,
  rtol: 5e-5,
  atol: 2e-6,
  bad: [
    [() => new d.DirichletMultinomial([1, 0, 2], 3), /concentration/],
    [() => new d.DirichletMultinomial([1, 2], 1.5), /totalCount/],
    [() => new d.DirichletMultinomial(2, 3), /concentration/],
  ],
});

// ---- GammaPoisson: @stdlib's negative binomial with r = alpha, success prob beta/(1+beta) -------
const GP_P = [
  [2, 0.5],
  [0.6, 3],
];
CASES.push({
  name: 'GammaPoisson',
  make: () => new d.GammaPoisson([2, 0.6], [0.5, 3]),
  points: [
    [0, 0],
    [3, 1],
    [11, 4],
  ],
  logProb: [
    [0, 0],
    [3, 1],
    [11, 4],
  ].map((r) =>
    r.map((x, b) => f(negbinRef, 'logpmf')(x, GP_P[b]![0]!, GP_P[b]![1]! / (1 + GP_P[b]![1]!))),
  ),
  cdf: [
    [0, 0],
    [3, 1],
    [11, 4],
  ].map((r) =>
    r.map((x, b) => f(negbinRef, 'cdf')(x, GP_P[b]![0]!, GP_P[b]![1]! / (1 + GP_P[b]![1]!))),
  ),
  mean: GP_P.map(([a, b]) => a! / b!),
  variance: GP_P.map(([a, b]) => (a! * (1 + b!)) / (b! * b!)),
  undefinedMethods: ['mode', 'entropy'],
  discrete: true,
  rtol: 2e-5,
  bad: [
    [() => new d.GammaPoisson(0, 1), /concentration/],
    [() => new d.GammaPoisson(1, NaN), /rate/],
    [() => new d.GammaPoisson([1, 2], [1, 2, 3]), /concentration\/rate/],
  ],
});

// ---- Chi2: @stdlib's Gamma(k/2, rate 1/2) -------------------------------------------------------
const CHI2_K = [1.5, 4];
const CHI2_X = [
  [0.3, 2],
  [1, 7.5],
  [4.2, 0.1],
];
const gammaF = (k: string): Fn => f(gammaRef, k);
CASES.push({
  name: 'Chi2',
  make: () => new d.Chi2(CHI2_K),
  points: CHI2_X,
  logProb: CHI2_X.map((r) => r.map((x, b) => gammaF('logpdf')(x, CHI2_K[b]! / 2, 0.5))),
  cdf: CHI2_X.map((r) => r.map((x, b) => gammaF('cdf')(x, CHI2_K[b]! / 2, 0.5))),
  mean: CHI2_K,
  variance: CHI2_K.map((k) => 2 * k),
  mode: CHI2_K.map((k) => Math.max(k - 2, 0)),
  entropy: CHI2_K.map((k) => gammaF('entropy')(k / 2, 0.5)),
  implicit: {
    theta: [2.5],
    build: ([k]) => new d.Chi2(k!),
    f: (x) => tf.square(x),
    // E[X^2] = 2k + k^2
    moment: ([k]) => 2 * k! + k! * k!,
  },
  bad: [
    [() => new d.Chi2(0), /df/],
    [() => new d.Chi2([1, NaN]), /df/],
  ],
});

// ---- Pareto: float64 closed forms ---------------------------------------------------------------
const PAR_P = [
  [1, 3],
  [0.5, 2.5],
];
const PAR_X = [
  [1.2, 0.7],
  [3, 0.4],
  [0.9, 5],
];
CASES.push({
  name: 'Pareto',
  make: () => new d.Pareto([1, 0.5], [3, 2.5]),
  points: PAR_X,
  logProb: PAR_X.map((r) =>
    r.map((x, b) => {
      const [s, a] = PAR_P[b] as [number, number];
      return x >= s ? Math.log(a) + a * Math.log(s) - (a + 1) * Math.log(x) : -Infinity;
    }),
  ),
  cdf: PAR_X.map((r) =>
    r.map((x, b) => {
      const [s, a] = PAR_P[b] as [number, number];
      return x >= s ? 1 - (s / x) ** a : 0;
    }),
  ),
  mean: PAR_P.map(([s, a]) => (a! * s!) / (a! - 1)),
  variance: PAR_P.map(([s, a]) => (s! * s! * a!) / ((a! - 1) ** 2 * (a! - 2))),
  mode: PAR_P.map(([s]) => s!),
  entropy: PAR_P.map(([s, a]) => Math.log(s! / a!) + 1 / a! + 1),
  heavyTailed: true,
  fd: { theta: [0.8, 2.2], build: ([s, a]) => new d.Pareto(s!, a!) },
  bad: [
    [() => new d.Pareto(0, 1), /scale/],
    [() => new d.Pareto(1, -2), /alpha/],
    [() => new d.Pareto([1, 1, 1], [1, 2]), /scale\/alpha/],
  ],
});

// ---- Kumaraswamy: float64 closed forms (moments through log-beta) --------------------------------
const KUM_P = [
  [2, 3],
  [0.7, 1.6],
];
const KUM_X = [
  [0.3, 0.05],
  [0.5, 0.6],
  [0.95, 0.99],
];
const kumMoment = (a: number, b: number, n: number): number => b * Math.exp(lbeta(1 + n / a, b));
CASES.push({
  name: 'Kumaraswamy',
  make: () => new d.Kumaraswamy([2, 0.7], [3, 1.6]),
  points: KUM_X,
  logProb: KUM_X.map((r) =>
    r.map((x, b) => {
      const [a, c] = KUM_P[b] as [number, number];
      return Math.log(a * c) + (a - 1) * Math.log(x) + (c - 1) * Math.log1p(-(x ** a));
    }),
  ),
  cdf: KUM_X.map((r) =>
    r.map((x, b) => {
      const [a, c] = KUM_P[b] as [number, number];
      return 1 - (1 - x ** a) ** c;
    }),
  ),
  mean: KUM_P.map(([a, b]) => kumMoment(a!, b!, 1)),
  variance: KUM_P.map(([a, b]) => kumMoment(a!, b!, 2) - kumMoment(a!, b!, 1) ** 2),
  entropy: KUM_P.map(
    ([a, b]) =>
      1 - 1 / b! + (1 - 1 / a!) * (digamma(b! + 1) + 0.5772156649015329) - Math.log(a! * b!),
  ),
  // ((a - 1)/(a b - 1))^(1/a) for (2, 3); 0 for a <= 1 < b (as Beta)
  mode: [Math.sqrt(1 / 5), 0],
  rtol: 1e-4,
  atol: 1e-5,
  fd: { theta: [1.7, 2.4], build: ([a, b]) => new d.Kumaraswamy(a!, b!) },
  bad: [
    [() => new d.Kumaraswamy(0, 1), /concentration1/],
    [() => new d.Kumaraswamy(1, Infinity), /concentration0/],
  ],
});

// ---- AsymmetricLaplace: float64 closed forms ----------------------------------------------------
const AL_P = [
  [0.3, 1.2, 2],
  [-1, 0.5, 0.6],
];
const AL_X = [
  [0.7, -1.4],
  [-2.1, 0.25],
  [3, -0.4],
];
function alRef(mu: number, s: number, k: number) {
  return {
    lp: (x: number) =>
      (x < mu ? (x - mu) / (s * k) : (-k * (x - mu)) / s) - Math.log(s * (k + 1 / k)),
    cdf: (x: number) =>
      x < mu
        ? ((k * k) / (1 + k * k)) * Math.exp((x - mu) / (s * k))
        : 1 - Math.exp((-k * (x - mu)) / s) / (1 + k * k),
  };
}
const AL_R = AL_P.map(([m, s, k]) => alRef(m!, s!, k!));
CASES.push({
  name: 'AsymmetricLaplace',
  make: () => new d.AsymmetricLaplace([0.3, -1], [1.2, 0.5], [2, 0.6]),
  points: AL_X,
  logProb: AL_X.map((r) => r.map((x, b) => AL_R[b]!.lp(x))),
  cdf: AL_X.map((r) => r.map((x, b) => AL_R[b]!.cdf(x))),
  mean: AL_P.map(([m, s, k]) => m! + s! * (1 / k! - k!)),
  variance: AL_P.map(([, s, k]) => s! * s! * (1 / (k! * k!) + k! * k!)),
  mode: AL_P.map(([m]) => m!),
  entropy: AL_P.map(([, s, k]) => 1 + Math.log(s! * (k! + 1 / k!))),
  fd: {
    theta: [0.3, 1.2, 1.7],
    build: ([m, s, k]) => new d.AsymmetricLaplace(m!, s!, k!),
  },
  bad: [
    [() => new d.AsymmetricLaplace(0, 0, 1), /scale/],
    [() => new d.AsymmetricLaplace(0, 1, -1), /asymmetry/],
    [() => new d.AsymmetricLaplace(NaN, 1, 1), /loc/],
  ],
});

// ---- TruncatedNormal: @stdlib normal pdf/cdf renormalized to [low, high] -----------------------
function tnRef(mu: number, s: number, lo: number, hi: number) {
  const pdf = (x: number): number => f(normalRef, 'pdf')(x, 0, 1);
  const cdf = (x: number): number => f(normalRef, 'cdf')(x, 0, 1);
  const a = (lo - mu) / s;
  const b = (hi - mu) / s;
  const z = cdf(b) - cdf(a);
  const pa = Number.isFinite(a) ? pdf(a) : 0;
  const pb = Number.isFinite(b) ? pdf(b) : 0;
  const apa = Number.isFinite(a) ? a * pa : 0;
  const bpb = Number.isFinite(b) ? b * pb : 0;
  const m1 = (pa - pb) / z;
  return {
    lp: (x: number) =>
      x >= lo && x <= hi ? Math.log(f(normalRef, 'pdf')(x, mu, s) / z) : -Infinity,
    cdf: (x: number) => (x <= lo ? 0 : x >= hi ? 1 : (cdf((x - mu) / s) - cdf(a)) / z),
    mean: mu + s * m1,
    variance: s * s * (1 + (apa - bpb) / z - m1 * m1),
    mode: Math.min(Math.max(mu, lo), hi),
    entropy: Math.log(Math.sqrt(2 * Math.PI * Math.E) * s * z) + (apa - bpb) / (2 * z),
  };
}
const TN_P = [
  [0, 1, -1, 2],
  [1, 2, -0.5, 4],
];
const TN_R = TN_P.map(([m, s, lo, hi]) => tnRef(m!, s!, lo!, hi!));
const TN_X = [
  [0.7, -0.4],
  [-1.5, 2.25],
  [1.9, 4.5],
];
CASES.push({
  name: 'TruncatedNormal',
  make: () => new d.TruncatedNormal([0, 1], [1, 2], [-1, -0.5], [2, 4]),
  points: TN_X,
  logProb: TN_X.map((r) => r.map((x, b) => TN_R[b]!.lp(x))),
  cdf: TN_X.map((r) => r.map((x, b) => TN_R[b]!.cdf(x))),
  mean: TN_R.map((r) => r.mean),
  variance: TN_R.map((r) => r.variance),
  mode: TN_R.map((r) => r.mode),
  entropy: TN_R.map((r) => r.entropy),
  rtol: 5e-5,
  atol: 5e-6,
  fd: {
    theta: [0.2, 1.3, -0.8, 1.5],
    build: ([m, s, lo, hi]) => new d.TruncatedNormal(m!, s!, lo!, hi!),
  },
  bad: [
    [() => new d.TruncatedNormal(0, 0, -1, 1), /scale/],
    [() => new d.TruncatedNormal(0, 1, 1, -1), /high/],
    [() => new d.TruncatedNormal(0, 1, [0, NaN], 3), /low/],
    [() => new d.TruncatedNormal([0, 0], 1, -1, [1, 2, 3]), /loc\/scale\/low\/high/],
  ],
});
// one-sided, in the upper tail (alpha = 3.5 and 2.25: the mirrored branch)
const TN1_P = [
  [0, 1, 3.5],
  [-1, 0.8, 0.8],
];
const TN1_R = TN1_P.map(([m, s, lo]) => tnRef(m!, s!, lo!, Infinity));
const TN1_X = [
  [3.6, 0.9],
  [4.5, 2],
  [3, 1.2],
];
CASES.push({
  name: 'TruncatedNormal (one-sided, upper tail)',
  make: () => new d.TruncatedNormal([0, -1], [1, 0.8], [3.5, 0.8]),
  points: TN1_X,
  logProb: TN1_X.map((r) => r.map((x, b) => TN1_R[b]!.lp(x))),
  cdf: TN1_X.map((r) => r.map((x, b) => TN1_R[b]!.cdf(x))),
  mean: TN1_R.map((r) => r.mean),
  variance: TN1_R.map((r) => r.variance),
  mode: TN1_R.map((r) => r.mode),
  entropy: TN1_R.map((r) => r.entropy),
  rtol: 2e-4,
  atol: 5e-6,
  fd: { theta: [0.3, 1.1, 2.5], build: ([m, s, lo]) => new d.TruncatedNormal(m!, s!, lo!) },
  bad: [[() => new d.TruncatedNormal(0, 1, Infinity), /low/]],
});

// ---- GaussianRandomWalk: sums of @stdlib normal log-densities of the increments ----------------
const GRW_S = [0.5, 1.5];
const GRW_X = [
  [
    [0.1, 0.4, -0.2],
    [1, -1, 0.5],
  ],
  [
    [0, 0, 0],
    [-2, -1, -3],
  ],
];
const grwLp = (s: number, x: number[]): number =>
  x.reduce((acc, v, t) => acc + f(normalRef, 'logpdf')(v - (t === 0 ? 0 : x[t - 1]!), 0, s), 0);
CASES.push({
  name: 'GaussianRandomWalk',
  make: () => new d.GaussianRandomWalk(GRW_S, 3),
  points: GRW_X,
  logProb: GRW_X.map((pt) => pt.map((x, b) => grwLp(GRW_S[b]!, x))),
  mean: [0, 0, 0, 0, 0, 0],
  variance: GRW_S.flatMap((s) => [1, 2, 3].map((t) => t * s * s)),
  undefinedMethods: ['cdf', 'mode', 'entropy'],
  fd: { theta: [0.7], build: ([s]) => new d.GaussianRandomWalk(s!, 3) },
  bad: [
    [() => new d.GaussianRandomWalk(-1, 3), /scale/],
    [() => new d.GaussianRandomWalk(1, 0), /numSteps/],
    [() => new d.GaussianRandomWalk(1, 2.5), /numSteps/],
  ],
});

// ---- MultivariateStudentT: float64 density with an explicit 2 x 2 triangular solve -------------
const MVT_DF = [5, 12];
const MVT_LOC = [
  [0, 1],
  [-1, 0.5],
];
const MVT_L = [
  [
    [1, 0],
    [0.5, 2],
  ],
  [
    [0.7, 0],
    [-0.3, 1.2],
  ],
];
function mvtLp(nu: number, mu: number[], l: number[][], x: number[]): number {
  const z0 = (x[0]! - mu[0]!) / l[0]![0]!;
  const z1 = (x[1]! - mu[1]! - l[1]![0]! * z0) / l[1]![1]!;
  const maha = z0 * z0 + z1 * z1;
  return (
    gammaln((nu + 2) / 2) -
    gammaln(nu / 2) -
    Math.log(nu * Math.PI) -
    Math.log(l[0]![0]! * l[1]![1]!) -
    ((nu + 2) / 2) * Math.log1p(maha / nu)
  );
}
const MVT_X = [
  [
    [1, -1],
    [0, 0],
  ],
  [
    [-3, 4],
    [2, -2],
  ],
];
CASES.push({
  name: 'MultivariateStudentT',
  make: () => new d.MultivariateStudentT(MVT_DF, MVT_LOC, MVT_L),
  points: MVT_X,
  logProb: MVT_X.map((pt) => pt.map((x, b) => mvtLp(MVT_DF[b]!, MVT_LOC[b]!, MVT_L[b]!, x))),
  mean: MVT_LOC.flat(),
  variance: MVT_L.flatMap((l, b) => {
    const nu = MVT_DF[b]!;
    return [l[0]![0]! ** 2, l[1]![0]! ** 2 + l[1]![1]! ** 2].map((v) => (nu / (nu - 2)) * v);
  }),
  mode: MVT_LOC.flat(),
  undefinedMethods: ['cdf'],
  heavyTailed: true,
  rtol: 2e-5,
  implicit: {
    theta: [6],
    build: ([nu]) => new d.MultivariateStudentT(nu!, [0.5, 0], MVT_L[0]!),
    f: (x) => tf.squeeze(tf.slice(tf.square(tf.sub(x, 0.5)), [0, 0], [-1, 1]), [1]),
    // E[(X_0 - mu_0)^2] = nu / (nu - 2) L_00^2
    moment: ([nu]) => nu! / (nu! - 2),
  },
  bad: [
    [() => new d.MultivariateStudentT(0, [0, 0], MVT_L[0]!), /df/],
    [
      () =>
        new d.MultivariateStudentT(
          3,
          [0, 0],
          [
            [1, 1],
            [0, 1],
          ],
        ),
      /scaleTril/,
    ],
    [() => new d.MultivariateStudentT(3, [0, 0, 0], MVT_L[0]!), /scaleTril/],
    [() => new d.MultivariateStudentT([3, 4, 5], [0, 0], MVT_L), /df\/loc\/scaleTril/],
  ],
});

// ---- SkewNormal: 2/s phi(z) Phi(alpha z) with @stdlib's normal ----------------------------------
const SN_P = [
  [0.3, 1.2, 3],
  [-1, 0.5, -1.5],
];
const SN_X = [
  [0.7, -1.4],
  [-0.5, -0.8],
  [3, 0.2],
];
CASES.push({
  name: 'SkewNormal',
  make: () => new d.SkewNormal([0.3, -1], [1.2, 0.5], [3, -1.5]),
  points: SN_X,
  logProb: SN_X.map((r) =>
    r.map((x, b) => {
      const [m, s, a] = SN_P[b] as [number, number, number];
      const z = (x - m) / s;
      return Math.log((2 / s) * f(normalRef, 'pdf')(z, 0, 1) * f(normalRef, 'cdf')(a * z, 0, 1));
    }),
  ),
  mean: SN_P.map(([m, s, a]) => m! + s! * (a! / Math.sqrt(1 + a! * a!)) * Math.sqrt(2 / Math.PI)),
  variance: SN_P.map(([, s, a]) => s! * s! * (1 - (2 / Math.PI) * ((a! * a!) / (1 + a! * a!)))),
  undefinedMethods: ['cdf', 'mode', 'entropy'],
  rtol: 2e-5,
  fd: { theta: [0.3, 1.2, 2], build: ([m, s, a]) => new d.SkewNormal(m!, s!, a!) },
  bad: [
    [() => new d.SkewNormal(0, -1, 1), /scale/],
    [() => new d.SkewNormal(0, 1, NaN), /skewness/],
    [() => new d.SkewNormal([0, 0, 0], 1, [1, 2]), /loc\/scale\/skewness/],
  ],
});
