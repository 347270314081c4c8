/**
 * The conformance table: every family with its reference values from an independent
 * implementation (@stdlib, float64), or float64 closed forms where @stdlib has no such
 * distribution (HalfNormal via @stdlib's chi with 1 degree of freedom, Dirichlet, Categorical,
 * MultivariateNormalDiag, Independent).
 */
import * as tf from '@tensorflow/tfjs';
import bernoulliRef from '@stdlib/stats-base-dists-bernoulli';
import betaRef from '@stdlib/stats-base-dists-beta';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import chiRef from '@stdlib/stats-base-dists-chi';
import exponentialRef from '@stdlib/stats-base-dists-exponential';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import geometricRef from '@stdlib/stats-base-dists-geometric';
import gumbelRef from '@stdlib/stats-base-dists-gumbel';
import laplaceRef from '@stdlib/stats-base-dists-laplace';
import logisticRef from '@stdlib/stats-base-dists-logistic';
import lognormalRef from '@stdlib/stats-base-dists-lognormal';
import normalRef from '@stdlib/stats-base-dists-normal';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import tRef from '@stdlib/stats-base-dists-t';
import uniformRef from '@stdlib/stats-base-dists-uniform';
import gammaln from '@stdlib/math-base-special-gammaln';
import digamma from '@stdlib/math-base-special-digamma';
import { distributions } from '../../src/index.js';

const d = distributions;
type Dist = distributions.Distribution;
type Fn = (...args: number[]) => number;

/** Reference functions of one scalar distribution (float64). */
export interface ScalarRef {
  logpdf: (x: number) => number;
  cdf?: (x: number) => number;
  mean?: number;
  variance?: number;
  entropy?: number;
  mode?: number;
}

/** One row of the table. */
export interface Case {
  name: string;
  /** Build the distribution (a batch, so that parameter broadcasting is exercised). */
  make: () => Dist;
  /** Values at which logProb (and cdf) are checked, each of the distribution's full shape. */
  points: tf.TensorLike[];
  /** Expected logProb at each point, flattened. */
  logProb: number[][];
  /** Expected cdf at each point, flattened (absent when cdf is not defined). */
  cdf?: number[][];
  /** Expected mean / variance / mode (flattened `batch + event`) and entropy (flattened batch). */
  mean?: number[];
  variance?: number[];
  mode?: number[];
  /** Expected entropy (absent when it has no closed form: then listed in undefinedMethods). */
  entropy?: number[];
  /** Methods that must throw NotDefinedError. */
  undefinedMethods?: ('mean' | 'variance' | 'mode' | 'cdf' | 'entropy')[];
  /** Whether the distribution is discrete (changes the sample/cdf check). */
  discrete?: boolean;
  /** Skip sample-moment checks (heavy tails: infinite or huge fourth moment). */
  heavyTailed?: boolean;
  /** Exact reparameterization: params (scalars) and a builder for finite differences at a fixed seed. */
  fd?: { theta: number[]; build: (p: tf.Tensor[]) => Dist };
  /**
   * Implicit reparameterization (Gamma-based): per-sample gradients of `f(X)` averaged against
   * `d/dtheta E[f(X)]` from the float64 reference `moment`.
   */
  implicit?: {
    theta: number[];
    /** Build a batch of n identical distributions from parameter vectors of shape [n]. */
    build: (p: tf.Tensor[]) => Dist;
    /** Scalar statistic of one draw (a batch element): the tensor of all draws is passed. */
    f: (x: tf.Tensor) => tf.Tensor;
    moment: (theta: number[]) => number;
  };
  /** Constructors with a bad parameter and the argument the error must name. */
  bad: [() => unknown, RegExp][];
  /** Tolerance for logProb/cdf/moments against the references. Default rtol 1e-5. */
  rtol?: number;
  atol?: number;
}

/**
 * A scalar family with batch parameters `params` (one tuple per batch element) evaluated at
 * `xs` (rows: points, columns: batch elements).
 */
function scalarCase(
  base: Omit<Case, 'points' | 'logProb' | 'cdf' | 'mean' | 'variance' | 'mode' | 'entropy'>,
  params: number[][],
  ref: (...p: number[]) => ScalarRef,
  xs: number[][],
  withCdf = true,
): Case {
  const refs = params.map((p) => ref(...p));
  const pick = (k: 'mean' | 'variance' | 'mode'): number[] | undefined =>
    refs.every((r) => r[k] !== undefined) ? refs.map((r) => r[k] as number) : undefined;
  return {
    ...base,
    points: xs,
    logProb: xs.map((row) => row.map((x, i) => (refs[i] as ScalarRef).logpdf(x))),
    cdf: withCdf
      ? xs.map((row) => row.map((x, i) => ((refs[i] as ScalarRef).cdf as (x: number) => number)(x)))
      : undefined,
    mean: pick('mean'),
    variance: pick('variance'),
    mode: pick('mode'),
    entropy: refs.every((r) => r.entropy !== undefined)
      ? refs.map((r) => r.entropy as number)
      : undefined,
  };
}

/** Column `k` of a list of parameter tuples. */
const col = (params: number[][], k: number): number[] => params.map((p) => p[k] as number);

/** Reference object from a @stdlib module whose functions take `(x, ...params)`. */
function stdlibRef(
  stdlibModule: object,
  p: number[],
  opts: { logpdf?: string; mode?: boolean; mean?: boolean; variance?: boolean } = {},
): ScalarRef {
  // The @stdlib packages ship their own namespace typings; all we use are (x, ...params) => number.
  const mod = stdlibModule as Record<string, Fn>;
  const lp = mod[opts.logpdf ?? 'logpdf'] as Fn;
  const r: ScalarRef = {
    logpdf: (x) => lp(x, ...p),
    cdf: (x) => (mod.cdf as Fn)(x, ...p),
    entropy: (mod.entropy as Fn)(...p),
  };
  if (opts.mean !== false) r.mean = (mod.mean as Fn)(...p);
  if (opts.variance !== false) r.variance = (mod.variance as Fn)(...p);
  if (opts.mode !== false && mod.mode !== undefined) r.mode = (mod.mode as Fn)(...p);
  return r;
}

const NORMAL_P = [
  [0.3, 1.2],
  [-1, 0.5],
];
const LOC_SCALE_X = [
  [0.7, -1.4],
  [-2.1, 0.25],
  [3, -0.4],
];

export const CASES: Case[] = [
  scalarCase(
    {
      name: 'Normal',
      make: () => new d.Normal(col(NORMAL_P, 0), col(NORMAL_P, 1)),
      fd: { theta: [0.3, 1.2], build: ([l, sc]) => new d.Normal(l!, sc!) },
      bad: [
        [() => new d.Normal(0, -1), /scale/],
        [() => new d.Normal(NaN, 1), /loc/],
        [() => new d.Normal([0, 0, 0], [1, 1]), /loc\/scale/],
      ],
    },
    NORMAL_P,
    (m, sd) => stdlibRef(normalRef, [m, sd]),
    LOC_SCALE_X,
  ),
  scalarCase(
    {
      name: 'Cauchy',
      make: () => new d.Cauchy(col(NORMAL_P, 0), col(NORMAL_P, 1)),
      heavyTailed: true,
      fd: { theta: [0.3, 1.2], build: ([l, sc]) => new d.Cauchy(l!, sc!) },
      bad: [
        [() => new d.Cauchy(0, 0), /scale/],
        [() => new d.Cauchy([0, 0, 0], [1, 1]), /loc\/scale/],
      ],
    },
    NORMAL_P,
    (m, sd) => ({
      ...stdlibRef(cauchyRef, [m, sd], { mean: false, variance: false }),
      // torch's convention: the mean does not exist (NaN), the variance is infinite
      mean: NaN,
      variance: Infinity,
      mode: m,
    }),
    LOC_SCALE_X,
  ),
  scalarCase(
    {
      name: 'Gumbel',
      make: () => new d.Gumbel(col(NORMAL_P, 0), col(NORMAL_P, 1)),
      fd: { theta: [0.3, 1.2], build: ([l, sc]) => new d.Gumbel(l!, sc!) },
      bad: [
        [() => new d.Gumbel(0, -2), /scale/],
        [() => new d.Gumbel([0, 0, 0], [1, 1]), /loc\/scale/],
      ],
    },
    NORMAL_P,
    (m, sd) => stdlibRef(gumbelRef, [m, sd]),
    LOC_SCALE_X,
  ),
  scalarCase(
    {
      name: 'Laplace',
      make: () => new d.Laplace(col(NORMAL_P, 0), col(NORMAL_P, 1)),
      fd: { theta: [0.3, 1.2], build: ([l, sc]) => new d.Laplace(l!, sc!) },
      bad: [
        [() => new d.Laplace(0, -2), /scale/],
        [() => new d.Laplace([0, 0, 0], [1, 1]), /loc\/scale/],
      ],
    },
    NORMAL_P,
    (m, sd) => stdlibRef(laplaceRef, [m, sd]),
    LOC_SCALE_X,
  ),
  scalarCase(
    {
      name: 'Logistic',
      make: () => new d.Logistic(col(NORMAL_P, 0), col(NORMAL_P, 1)),
      fd: { theta: [0.3, 1.2], build: ([l, sc]) => new d.Logistic(l!, sc!) },
      bad: [
        [() => new d.Logistic(0, -2), /scale/],
        [() => new d.Logistic([0, 0, 0], [1, 1]), /loc\/scale/],
      ],
    },
    NORMAL_P,
    (m, sd) => stdlibRef(logisticRef, [m, sd]),
    LOC_SCALE_X,
  ),
  scalarCase(
    {
      name: 'LogNormal',
      make: () => new d.LogNormal(col(NORMAL_P, 0), col(NORMAL_P, 1)),
      fd: { theta: [0.3, 0.5], build: ([l, sc]) => new d.LogNormal(l!, sc!) },
      bad: [
        [() => new d.LogNormal(0, -2), /scale/],
        [() => new d.LogNormal([0, 0, 0], [1, 1]), /loc\/scale/],
      ],
    },
    NORMAL_P,
    (m, sd) => stdlibRef(lognormalRef, [m, sd]),
    [
      [0.7, 1.4],
      [2.1, 0.25],
      [5, 0.4],
    ],
  ),
  scalarCase(
    {
      name: 'HalfNormal',
      make: () => new d.HalfNormal([1.2, 0.5]),
      fd: { theta: [1.2], build: ([sc]) => new d.HalfNormal(sc!) },
      bad: [
        [() => new d.HalfNormal(-1), /scale/],
        [() => new d.HalfNormal([0.5, 0]), /scale/],
      ],
    },
    [[1.2], [0.5]],
    // |N(0, s)| = s * Chi(1): an independent reference.
    (sc) => ({
      logpdf: (x) => (chiRef.logpdf as Fn)(x / sc, 1) - Math.log(sc),
      cdf: (x) => (chiRef.cdf as Fn)(x / sc, 1),
      mean: sc * (chiRef.mean as Fn)(1),
      variance: sc * sc * (chiRef.variance as Fn)(1),
      entropy: (chiRef.entropy as Fn)(1) + Math.log(sc),
      mode: 0,
    }),
    [
      [0.7, 1.4],
      [2.1, 0.25],
      [0.05, 0.4],
    ],
  ),
  scalarCase(
    {
      name: 'Exponential',
      make: () => new d.Exponential([1.5, 0.4]),
      fd: { theta: [1.5], build: ([r]) => new d.Exponential(r!) },
      bad: [
        [() => new d.Exponential(-1), /rate/],
        [() => new d.Exponential([1, 0]), /rate/],
      ],
    },
    [[1.5], [0.4]],
    (r) => stdlibRef(exponentialRef, [r]),
    [
      [0.7, 1.4],
      [2.1, 0.25],
      [0.05, 4],
    ],
  ),
  scalarCase(
    {
      name: 'Uniform',
      make: () => new d.Uniform([-1, 0.5], [2, 4]),
      fd: { theta: [-1, 2], build: ([lo, hi]) => new d.Uniform(lo!, hi!) },
      bad: [
        [() => new d.Uniform(1, 0), /high/],
        [() => new d.Uniform(0, Infinity), /high/],
        [() => new d.Uniform([0, 0, 0], [1, 1]), /low\/high/],
      ],
    },
    [
      [-1, 2],
      [0.5, 4],
    ],
    // every point is a mode: NaN, as torch
    (lo, hi) => ({ ...stdlibRef(uniformRef, [lo, hi], { mode: false }), mode: NaN }),
    [
      [0.7, 1.4],
      [-0.6, 0.75],
      [1.9, 3.5],
    ],
  ),
  scalarCase(
    {
      name: 'StudentT',
      make: () => new d.StudentT([5, 9], [0.3, -1], [1.2, 0.5]),
      implicit: {
        theta: [5],
        build: ([df]) => new d.StudentT(df!, 0.3, 1.2),
        f: (x) => tf.square(x),
        // E[X^2] = loc^2 + scale^2 df/(df - 2)
        moment: ([df]) => 0.09 + (1.44 * df!) / (df! - 2),
      },
      bad: [
        [() => new d.StudentT(-1, 0, 1), /df/],
        [() => new d.StudentT(3, 0, -1), /scale/],
        [() => new d.StudentT([3, 4], [0, 0, 0], 1), /df\/loc\/scale/],
      ],
      heavyTailed: true,
    },
    [
      [5, 0.3, 1.2],
      [9, -1, 0.5],
    ],
    (df, m, sc) => ({
      logpdf: (x) => (tRef.logpdf as Fn)((x - m) / sc, df) - Math.log(sc),
      cdf: (x) => (tRef.cdf as Fn)((x - m) / sc, df),
      mean: m,
      variance: (sc * sc * df) / (df - 2),
      entropy: (tRef.entropy as Fn)(df) + Math.log(sc),
      mode: m,
    }),
    LOC_SCALE_X,
  ),
  scalarCase(
    {
      name: 'Gamma',
      make: () => new d.Gamma([2.5, 0.7], [1.5, 3]),
      implicit: {
        theta: [2.5, 1.5],
        build: ([a, r]) => new d.Gamma(a!, r!),
        f: (x) => tf.square(x),
        // E[X^2] = a (a + 1) / r^2
        moment: ([a, r]) => (a! * (a! + 1)) / (r! * r!),
      },
      bad: [
        [() => new d.Gamma(-1, 1), /concentration/],
        [() => new d.Gamma(1, 0), /rate/],
        [() => new d.Gamma([1, 2, 3], [1, 1]), /concentration\/rate/],
      ],
    },
    [
      [2.5, 1.5],
      [0.7, 3],
    ],
    (a, r) => ({ ...stdlibRef(gammaRef, [a, r]), mode: Math.max(a - 1, 0) / r }),
    [
      [0.7, 0.05],
      [2.1, 0.25],
      [4, 0.6],
    ],
  ),
  scalarCase(
    {
      name: 'Beta',
      make: () => new d.Beta([2.5, 0.7], [1.5, 3]),
      implicit: {
        theta: [2.5, 1.5],
        build: ([a, b]) => new d.Beta(a!, b!),
        f: (x) => x,
        moment: ([a, b]) => a! / (a! + b!),
      },
      bad: [
        [() => new d.Beta(-1, 1), /concentration1/],
        [() => new d.Beta(1, 0), /concentration0/],
        [() => new d.Beta([1, 2, 3], [1, 1]), /concentration1\/concentration0/],
      ],
    },
    [
      [2.5, 1.5],
      [0.7, 3],
    ],
    (a, b) => ({
      ...stdlibRef(betaRef, [a, b], { mode: false }),
      // mode (a-1)/(a+b-2) for a, b > 1; 0 when a < 1 <= b.
      mode: a > 1 && b > 1 ? (a - 1) / (a + b - 2) : 0,
    }),
    [
      [0.7, 0.05],
      [0.2, 0.25],
      [0.45, 0.6],
    ],
  ),
  scalarCase(
    {
      name: 'Poisson',
      make: () => new d.Poisson([3.5, 42]),
      discrete: true,
      bad: [
        [() => new d.Poisson(-1), /rate/],
        [() => new d.Poisson([1, NaN]), /rate/],
      ],
    },
    [[3.5], [42]],
    (r) => stdlibRef(poissonRef, [r], { logpdf: 'logpmf' }),
    [
      [0, 35],
      [2, 40],
      [7, 51],
    ],
  ),
  scalarCase(
    {
      name: 'Geometric',
      make: () => new d.Geometric({ probs: [0.3, 0.75] }),
      discrete: true,
      bad: [
        [() => new d.Geometric({ probs: 1.5 }), /probs/],
        [() => new d.Geometric({ probs: 0 }), /probs/],
        [() => new d.Geometric({ probs: 0.5, logits: 0 }), /probs\/logits/],
      ],
    },
    [[0.3], [0.75]],
    (p) => stdlibRef(geometricRef, [p], { logpdf: 'logpmf' }),
    [
      [0, 1],
      [2, 0],
      [7, 3],
    ],
  ),
  scalarCase(
    {
      name: 'Geometric(logits)',
      make: () => new d.Geometric({ logits: [Math.log(0.3 / 0.7), Math.log(3)] }),
      discrete: true,
      bad: [[() => new d.Geometric({ logits: NaN }), /logits/]],
    },
    [[0.3], [0.75]],
    (p) => stdlibRef(geometricRef, [p], { logpdf: 'logpmf' }),
    [
      [0, 1],
      [2, 0],
      [7, 3],
    ],
  ),
  scalarCase(
    {
      name: 'Bernoulli',
      make: () => new d.Bernoulli({ probs: [0.3, 0.8] }),
      discrete: true,
      bad: [
        [() => new d.Bernoulli({ probs: 1.5 }), /probs/],
        [() => new d.Bernoulli({ probs: -0.1 }), /probs/],
        [() => new d.Bernoulli({}), /probs\/logits/],
      ],
    },
    [[0.3], [0.8]],
    (p) => ({
      logpdf: (x) => Math.log((bernoulliRef.pmf as Fn)(x, p)),
      cdf: (x) => (bernoulliRef.cdf as Fn)(x, p),
      mean: (bernoulliRef.mean as Fn)(p),
      variance: (bernoulliRef.variance as Fn)(p),
      entropy: (bernoulliRef.entropy as Fn)(p),
      mode: p > 0.5 ? 1 : 0,
    }),
    [
      [0, 1],
      [1, 0],
      [1, 1],
    ],
  ),
  scalarCase(
    {
      name: 'Bernoulli(logits)',
      make: () => new d.Bernoulli({ logits: [Math.log(0.3 / 0.7), Math.log(4)] }),
      discrete: true,
      bad: [[() => new d.Bernoulli({ logits: [0, NaN] }), /logits/]],
    },
    [[0.3], [0.8]],
    (p) => ({
      logpdf: (x) => Math.log((bernoulliRef.pmf as Fn)(x, p)),
      cdf: (x) => (bernoulliRef.cdf as Fn)(x, p),
      mean: (bernoulliRef.mean as Fn)(p),
      variance: (bernoulliRef.variance as Fn)(p),
      entropy: (bernoulliRef.entropy as Fn)(p),
      mode: p > 0.5 ? 1 : 0,
    }),
    [
      [0, 1],
      [1, 0],
    ],
  ),
];

// ---- families without a @stdlib counterpart: float64 closed forms ---------------------------

const CAT_P = [
  [0.2, 0.5, 0.3],
  [0.6, 0.1, 0.3],
];
CASES.push({
  name: 'Categorical',
  make: () => new d.Categorical({ probs: CAT_P }),
  points: [
    [0, 1],
    [2, 0],
  ],
  logProb: [
    [Math.log(0.2), Math.log(0.1)],
    [Math.log(0.3), Math.log(0.6)],
  ],
  mode: [1, 0],
  // a label has no mean or variance: NaN, as torch and NumPyro
  mean: [NaN, NaN],
  variance: [NaN, NaN],
  entropy: CAT_P.map((p) => -p.reduce((a, v) => a + v * Math.log(v), 0)),
  undefinedMethods: ['cdf'],
  discrete: true,
  bad: [
    [() => new d.Categorical({ probs: [0.5, 0.6] }), /probs/],
    [() => new d.Categorical({ probs: [1.5, -0.5] }), /probs/],
    [() => new d.Categorical({ probs: 0.5 }), /probs/],
    [() => new d.Categorical({ logits: [0, NaN] }), /logits/],
  ],
});
CASES.push({
  name: 'Categorical(logits)',
  make: () => new d.Categorical({ logits: [0.5, -1, 2] }),
  points: [0, 2],
  logProb: [[0.5 - lse([0.5, -1, 2])], [2 - lse([0.5, -1, 2])]],
  mode: [2],
  mean: [NaN],
  variance: [NaN],
  entropy: [
    -[0.5, -1, 2].map((l) => l - lse([0.5, -1, 2])).reduce((a, lp) => a + Math.exp(lp) * lp, 0),
  ],
  undefinedMethods: ['cdf'],
  discrete: true,
  bad: [[() => new d.Categorical({ logits: [] }), /logits/]],
});

function lse(v: number[]): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
}

const DIR_A = [
  [1.5, 2, 3],
  [0.8, 4, 1.2],
];
const dirLogPdf = (a: number[], x: number[]): number => {
  const a0 = a.reduce((u, v) => u + v, 0);
  return (
    gammaln(a0) -
    a.reduce((u, v) => u + gammaln(v), 0) +
    a.reduce((u, v, i) => u + (v - 1) * Math.log(x[i] as number), 0)
  );
};
const dirMoments = (a: number[]): { mean: number[]; variance: number[]; entropy: number } => {
  const a0 = a.reduce((u, v) => u + v, 0);
  const k = a.length;
  const logB = a.reduce((u, v) => u + gammaln(v), 0) - gammaln(a0);
  return {
    mean: a.map((v) => v / a0),
    variance: a.map((v) => (v * (a0 - v)) / (a0 * a0 * (a0 + 1))),
    entropy: logB + (a0 - k) * digamma(a0) - a.reduce((u, v) => u + (v - 1) * digamma(v), 0),
  };
};
const DIR_X = [
  [
    [0.2, 0.3, 0.5],
    [0.1, 0.6, 0.3],
  ],
  [
    [0.5, 0.25, 0.25],
    [0.3, 0.3, 0.4],
  ],
];
CASES.push({
  name: 'Dirichlet',
  make: () => new d.Dirichlet(DIR_A),
  points: DIR_X,
  logProb: DIR_X.map((row) => row.map((x, i) => dirLogPdf(DIR_A[i]!, x))),
  mean: DIR_A.flatMap((a) => dirMoments(a).mean),
  variance: DIR_A.flatMap((a) => dirMoments(a).variance),
  // mode (a-1)/(a0-K) when all a > 1; otherwise torch's (a-1)^+ normalized
  mode: [...[0.5 / 3.5, 1 / 3.5, 2 / 3.5], 0, 3 / 3.2, 0.2 / 3.2],
  entropy: DIR_A.map((a) => dirMoments(a).entropy),
  undefinedMethods: ['cdf'],
  implicit: {
    theta: [1.5, 2, 3],
    build: (ps) => new d.Dirichlet(tf.stack(ps, -1)),
    f: (x) => tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]),
    moment: (a) => a[0]! / (a[0]! + a[1]! + a[2]!),
  },
  bad: [
    [() => new d.Dirichlet([1, -2, 3]), /concentration/],
    [() => new d.Dirichlet(2), /concentration/],
  ],
});

const MVN_LOC = [
  [0.3, -1],
  [1, 2],
];
const MVN_SC = [0.5, 1.5];
const MVN_X = [
  [
    [0.1, -0.5],
    [1.5, 1],
  ],
];
CASES.push({
  name: 'MultivariateNormalDiag',
  make: () => new d.MultivariateNormalDiag(MVN_LOC, MVN_SC),
  points: MVN_X,
  logProb: MVN_X.map((row) =>
    row.map((x, i) =>
      x.reduce((u, v, j) => u + (normalRef.logpdf as Fn)(v, MVN_LOC[i]![j]!, MVN_SC[j]!), 0),
    ),
  ),
  mean: MVN_LOC.flat(),
  mode: MVN_LOC.flat(),
  variance: [0.25, 2.25, 0.25, 2.25],
  entropy: MVN_LOC.map(() => MVN_SC.reduce((u, sc) => u + (normalRef.entropy as Fn)(0, sc), 0)),
  undefinedMethods: ['cdf'],
  fd: {
    theta: [0.3, 0.5],
    build: ([l, sc]) => new d.MultivariateNormalDiag(tf.stack([l!, l!]), tf.stack([sc!, sc!])),
  },
  bad: [
    [() => new d.MultivariateNormalDiag([0, 0], [1, -1]), /scaleDiag/],
    [() => new d.MultivariateNormalDiag(0, 1), /loc/],
    [() => new d.MultivariateNormalDiag([0, 0, 0], [1, 1]), /loc\/scaleDiag/],
  ],
});

const IND_LOC = [
  [0.3, -1, 0.5],
  [1, 2, -0.2],
];
const IND_X = [
  [
    [0.1, -0.5, 0],
    [1.5, 1, 0.4],
  ],
];
CASES.push({
  name: 'Independent(Normal)',
  make: () => new d.Independent(new d.Normal(IND_LOC, 0.7), 1),
  points: IND_X,
  logProb: IND_X.map((row) =>
    row.map((x, i) =>
      x.reduce((u, v, j) => u + (normalRef.logpdf as Fn)(v, IND_LOC[i]![j]!, 0.7), 0),
    ),
  ),
  cdf: IND_X.map((row) =>
    row.map((x, i) => x.reduce((u, v, j) => u * (normalRef.cdf as Fn)(v, IND_LOC[i]![j]!, 0.7), 1)),
  ),
  mean: IND_LOC.flat(),
  mode: IND_LOC.flat(),
  variance: IND_LOC.flat().map(() => 0.49),
  entropy: IND_LOC.map(() => 3 * (normalRef.entropy as Fn)(0, 0.7)),
  fd: {
    theta: [0.3, 0.7],
    build: ([l, sc]) => new d.Independent(new d.Normal(tf.stack([l!, l!]), sc!), 1),
  },
  bad: [
    [() => withBase((b) => new d.Independent(b, 2)), /reinterpretedBatchNdims/],
    [() => withBase((b) => new d.Independent(b, -1)), /reinterpretedBatchNdims/],
    [() => new d.Independent({} as Dist), /base/],
  ],
});

/** Run `fn` with a Normal base of batch shape [2] that is disposed afterwards (it stays ours). */
function withBase(fn: (b: Dist) => unknown): unknown {
  const b = new d.Normal([0, 0], 1);
  try {
    return fn(b);
  } finally {
    b.dispose();
  }
}
