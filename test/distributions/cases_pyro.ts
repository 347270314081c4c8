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
import gammaln from '@stdlib/math-base-special-gammaln';
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
