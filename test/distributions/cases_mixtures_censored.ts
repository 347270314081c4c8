/**
 * Conformance rows of the NumPyro/Pyro ports BetaProportion, Gompertz, Levy, MixtureGeneral,
 * MaskedMixture and the censored wrappers (left, right, interval). References: @stdlib's beta,
 * normal, gumbel, laplace, exponential and Weibull densities and CDFs, @stdlib's `erf`, and
 * float64 closed forms and quadratures written here.
 */
import betaRef from '@stdlib/stats-base-dists-beta';
import normalRef from '@stdlib/stats-base-dists-normal';
import gumbelRef from '@stdlib/stats-base-dists-gumbel';
import laplaceRef from '@stdlib/stats-base-dists-laplace';
import exponentialRef from '@stdlib/stats-base-dists-exponential';
import weibullRef from '@stdlib/stats-base-dists-weibull';
import erf from '@stdlib/math-base-special-erf';
import * as tf from '@tensorflow/tfjs';
import { distributions } from '../../src/index.js';
import { CASES } from './cases.js';

const d = distributions;
/** A bad construction run in a tidy (the bases it builds are freed whatever happens). */
const quiet = (f: () => unknown) => (): void =>
  tf.tidy(() => {
    f();
  });
type Dist = distributions.Distribution;
type Fn = (...args: number[]) => number;
const fn = (mod: object, name: string): Fn => (mod as Record<string, Fn>)[name] as Fn;

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

/** Composite Simpson quadrature of `f` on `[a, b]` with `n` (even) panels, float64. */
export function simpson(f: (x: number) => number, a: number, b: number, n = 20000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

// ---- BetaProportion: batch [2] = Beta(3, 7), Beta(1.5, 1) -------------------------------------
const BP = [
  [0.3, 10],
  [0.6, 2.5],
];
const bpAB = BP.map(([m, c]) => [m! * c!, (1 - m!) * c!] as [number, number]);
const BP_X = [
  [0.2, 0.9],
  [0.55, 0.05],
];
CASES.push({
  name: 'BetaProportion',
  make: () => new d.BetaProportion([0.3, 0.6], [10, 2.5]),
  points: BP_X,
  logProb: grid(BP_X, (x, b) => fn(betaRef, 'logpdf')(x, ...bpAB[b]!)),
  cdf: grid(BP_X, (x, b) => fn(betaRef, 'cdf')(x, ...bpAB[b]!)),
  mean: [0.3, 0.6],
  variance: BP.map(([m, c]) => (m! * (1 - m!)) / (1 + c!)),
  entropy: bpAB.map((ab) => fn(betaRef, 'entropy')(...ab)),
  implicit: {
    theta: [0.35, 4],
    build: ([m, c]) => new d.BetaProportion(m!, c!),
    f: (x) => tf.square(x),
    // E[X^2] = mu (1 - mu) / (1 + phi) + mu^2
    moment: ([m, c]) => (m! * (1 - m!)) / (1 + c!) + m! * m!,
  },
  rtol: 2e-5,
  atol: 2e-6,
  bad: [
    [() => new d.BetaProportion(1, 2), /mean/],
    [() => new d.BetaProportion(0, 2), /mean/],
    [() => new d.BetaProportion(0.5, -1), /concentration/],
    [() => new d.BetaProportion([0.2, 0.4, 0.5], [1, 2]), /mean\/concentration/],
  ],
});

// ---- Gompertz: batch [2] ------------------------------------------------------------------------
const GZ = [
  [0.5, 2],
  [3, 0.7],
];
const GZ_X = [
  [0.3, 0.05],
  [1.1, 0.6],
  [0, 2],
];
const gzLogS = (x: number, b: number): number => -GZ[b]![0]! * Math.expm1(GZ[b]![1]! * x);
CASES.push({
  name: 'Gompertz',
  make: () => new d.Gompertz([0.5, 3], [2, 0.7]),
  points: GZ_X,
  logProb: grid(GZ_X, (x, b) => {
    const [eta, r] = GZ[b] as [number, number];
    return Math.log(eta * r) + r * x + gzLogS(x, b);
  }),
  cdf: grid(GZ_X, (x, b) => -Math.expm1(gzLogS(x, b))),
  // E[X] = int_0^inf S(x) dx by quadrature (independent of the E_1 series and fraction)
  mean: GZ.map((_, b) => simpson((x) => Math.exp(gzLogS(x, b)), 0, 30)),
  mode: GZ.map(([eta, r]) => (eta! < 1 ? Math.log(1 / eta!) / r! : 0)),
  undefinedMethods: ['variance', 'entropy'],
  fd: { theta: [0.8, 1.3], build: ([e, r]) => new d.Gompertz(e!, r!) },
  rtol: 2e-5,
  atol: 2e-6,
  bad: [
    [() => new d.Gompertz(0, 1), /concentration/],
    [() => new d.Gompertz(1, -2), /rate/],
    [() => new d.Gompertz([1, 2, 3], [1, 2]), /concentration\/rate/],
  ],
});

// ---- Levy: batch [2] ----------------------------------------------------------------------------
const LV = [
  [0, 2],
  [1, 0.5],
];
const LV_X = [
  [0.7, 1.2],
  [5, 3.5],
  [40, 1.05],
];
const erfFn = erf as unknown as (x: number) => number;
CASES.push({
  name: 'Levy',
  make: () => new d.Levy([0, 1], [2, 0.5]),
  points: LV_X,
  logProb: grid(LV_X, (x, b) => {
    const [m, c] = LV[b] as [number, number];
    return 0.5 * Math.log(c / (2 * Math.PI)) - 1.5 * Math.log(x - m) - c / (2 * (x - m));
  }),
  cdf: grid(LV_X, (x, b) => {
    const [m, c] = LV[b] as [number, number];
    return 1 - erfFn(Math.sqrt(c / (2 * (x - m))));
  }),
  mean: [Infinity, Infinity],
  variance: [Infinity, Infinity],
  mode: LV.map(([m, c]) => m! + c! / 3),
  entropy: LV.map(([, c]) => (1 + 3 * 0.5772156649015329 + Math.log(16 * Math.PI * c! * c!)) / 2),
  heavyTailed: true,
  fd: { theta: [0.3, 1.2], build: ([m, c]) => new d.Levy(m!, c!) },
  rtol: 2e-5,
  atol: 2e-6,
  bad: [
    [() => new d.Levy(0, 0), /scale/],
    [() => new d.Levy(NaN, 1), /loc/],
  ],
});

// ---- MixtureGeneral(Normal, Gumbel): batch [2], components broadcast ----------------------------
const MG_W = [
  [0.3, 0.7],
  [0.6, 0.4],
];
const MG_N = [
  [-1, 0.5],
  [0, 1],
];
const MG_X = [
  [-0.8, 2.5],
  [3, -1],
];
const mgPdf = (x: number, b: number): number =>
  MG_W[b]![0]! * fn(normalRef, 'pdf')(x, MG_N[b]![0]!, MG_N[b]![1]!) +
  MG_W[b]![1]! * fn(gumbelRef, 'pdf')(x, 2, 1.5);
const mgCdf = (x: number, b: number): number =>
  MG_W[b]![0]! * fn(normalRef, 'cdf')(x, MG_N[b]![0]!, MG_N[b]![1]!) +
  MG_W[b]![1]! * fn(gumbelRef, 'cdf')(x, 2, 1.5);
// moments of the components from @stdlib, mixed by the law of total variance
const mgMoments = MG_W.map((w, b) => {
  const m = [MG_N[b]![0]!, fn(gumbelRef, 'mean')(2, 1.5)];
  const v = [MG_N[b]![1]! ** 2, fn(gumbelRef, 'variance')(2, 1.5)];
  const mean = w[0]! * m[0]! + w[1]! * m[1]!;
  const second = w[0]! * (v[0]! + m[0]! ** 2) + w[1]! * (v[1]! + m[1]! ** 2);
  return [mean, second - mean * mean] as [number, number];
});
CASES.push({
  name: 'MixtureGeneral(Normal, Gumbel)',
  make: () => {
    const mix = new d.Categorical({ probs: MG_W });
    const n = new d.Normal([-1, 0], [0.5, 1]);
    const g = new d.Gumbel(2, 1.5);
    return owning(new d.MixtureGeneral(mix, [n, g]), [mix, n, g]);
  },
  points: MG_X,
  logProb: grid(MG_X, (x, b) => Math.log(mgPdf(x, b))),
  cdf: grid(MG_X, mgCdf),
  mean: mgMoments.map((m) => m[0]),
  variance: mgMoments.map((m) => m[1]),
  undefinedMethods: ['mode', 'entropy'],
  rtol: 2e-5,
  atol: 2e-6,
  bad: [
    [quiet(() => new d.MixtureGeneral(new d.Categorical({ probs: [0.5, 0.5] }), [])), /component/],
    [
      quiet(
        () =>
          new d.MixtureGeneral(new d.Categorical({ probs: [0.2, 0.3, 0.5] }), [new d.Normal(0, 1)]),
      ),
      /mixingDistribution/,
    ],
    [
      quiet(
        () =>
          new d.MixtureGeneral(new d.Categorical({ probs: [0.5, 0.5] }), [
            new d.Normal(0, 1),
            new d.Dirichlet([1, 1]),
          ]),
      ),
      /componentDistributions/,
    ],
    [
      quiet(
        () =>
          new d.MixtureGeneral(new d.Categorical({ probs: [0.5, 0.5] }), [
            new d.Normal([0, 1, 2], 1),
            new d.Normal([0, 1], 1),
          ]),
      ),
      /componentDistributions/,
    ],
  ],
});

// ---- MaskedMixture(Normal, Laplace): batch [2] --------------------------------------------------
const MM_X = [
  [0.4, -0.3],
  [2.5, 1.5],
];
CASES.push({
  name: 'MaskedMixture(Normal, Laplace)',
  make: () => {
    const c0 = new d.Normal(0.5, 1.5);
    const c1 = new d.Laplace([2, 3], 0.5);
    return owning(new d.MaskedMixture([false, true], c0, c1), [c0, c1]);
  },
  points: MM_X,
  logProb: grid(MM_X, (x, b) =>
    b === 0 ? fn(normalRef, 'logpdf')(x, 0.5, 1.5) : fn(laplaceRef, 'logpdf')(x, 3, 0.5),
  ),
  mean: [0.5, 3],
  variance: [2.25, 0.5],
  undefinedMethods: ['cdf', 'mode', 'entropy'],
  fd: {
    theta: [0.3, 1.2, 0.8],
    build: ([m, s, l]) =>
      new d.MaskedMixture([true, false], new d.Normal(m!, s!), new d.Laplace(l!, s!)),
  },
  bad: [
    [
      quiet(
        () =>
          new d.MaskedMixture(tf.tensor1d([1, 0]) as never, new d.Normal(0, 1), new d.Normal(1, 1)),
      ),
      /mask/,
    ],
    [
      quiet(
        () => new d.MaskedMixture([true, false, true], new d.Normal([0, 1], 1), new d.Normal(0, 1)),
      ),
      /mask/,
    ],
    [
      quiet(() => new d.MaskedMixture(true, new d.Normal(0, 1), new d.Dirichlet([1, 1]))),
      /component1/,
    ],
  ],
});

// ---- LeftCensoredDistribution(Normal): batch [2] -------------------------------------------------
const LC_X = [
  [-0.5, 1.7],
  [2.5, -3],
];
CASES.push({
  name: 'LeftCensoredDistribution(Normal)',
  make: () => {
    const base = new d.Normal(0.5, 2);
    return owning(new d.LeftCensoredDistribution(base, [true, false]), [base]);
  },
  points: LC_X,
  logProb: grid(LC_X, (x, b) =>
    b === 0 ? Math.log(fn(normalRef, 'cdf')(x, 0.5, 2)) : fn(normalRef, 'logpdf')(x, 0.5, 2),
  ),
  mean: [0.5, 0.5],
  variance: [4, 4],
  undefinedMethods: ['cdf', 'mode', 'entropy'],
  fd: {
    theta: [0.4, 1.3],
    build: ([m, s]) => new d.LeftCensoredDistribution(new d.Normal(m!, s!), [true, false]),
  },
  bad: [
    [quiet(() => new d.LeftCensoredDistribution(new d.Normal(0, 1), [0, 2])), /censored/],
    [
      quiet(() => new d.LeftCensoredDistribution(new d.Normal([0, 1], 1), [true, false, true])),
      /censored/,
    ],
    [quiet(() => new d.LeftCensoredDistribution(new d.Dirichlet([1, 1]), true)), /base/],
  ],
});

// ---- RightCensoredDistribution(Exponential), NumPyro's 0/1 indicator: batch [2] -------------------
const RC_X = [
  [0.7, 1.7],
  [4, 0.2],
];
CASES.push({
  name: 'RightCensoredDistribution(Exponential)',
  make: () => {
    const base = new d.Exponential([0.3, 2]);
    return owning(new d.RightCensoredDistribution(base, [0, 1]), [base]);
  },
  points: RC_X,
  logProb: grid(RC_X, (x, b) =>
    b === 0 ? fn(exponentialRef, 'logpdf')(x, 0.3) : Math.log1p(-fn(exponentialRef, 'cdf')(x, 2)),
  ),
  mean: [1 / 0.3, 0.5],
  variance: [1 / 0.09, 0.25],
  undefinedMethods: ['cdf', 'mode', 'entropy'],
  fd: {
    theta: [0.9],
    build: ([r]) => new d.RightCensoredDistribution(new d.Exponential(r!), [0, 1]),
  },
  bad: [
    [quiet(() => new d.RightCensoredDistribution(new d.Exponential(1), 0.5)), /censored/],
    [quiet(() => new d.RightCensoredDistribution({} as never, true)), /base/],
  ],
});

// ---- IntervalCensoredDistribution(Weibull): batch [4], event [2] -------------------------------
// scale 2, concentration 3; rows: interval, left-censored only, right-censored only, both
const wbCdf = (x: number): number => fn(weibullRef, 'cdf')(x, 3, 2);
const IC_POINTS = [
  [
    [1, 2.5],
    [NaN, 1.5],
    [2.2, Infinity],
    [1, 3],
  ],
  [
    [0.7, 0.7],
    [-Infinity, 0.4],
    [0.5, NaN],
    [1.8, 2],
  ],
];
const icRef = (row: number[][]): number[] =>
  row.map(([l, u], i) => {
    if (i === 1) return Math.log(wbCdf(u!));
    if (i === 2) return Math.log1p(-wbCdf(l!));
    if (i === 3) return Math.log(1 - wbCdf(u!) + wbCdf(l!));
    return l === u ? fn(weibullRef, 'logpdf')(l!, 3, 2) : Math.log(wbCdf(u!) - wbCdf(l!));
  });
CASES.push({
  name: 'IntervalCensoredDistribution(Weibull)',
  make: () => {
    const base = new d.Weibull(2, 3);
    return owning(
      new d.IntervalCensoredDistribution(
        base,
        [false, true, false, true],
        [false, false, true, true],
      ),
      [base],
    );
  },
  points: IC_POINTS,
  logProb: IC_POINTS.map(icRef),
  // the moments of the draws (X, X): the Weibull's on both coordinates of each batch entry
  mean: new Array<number>(8).fill(fn(weibullRef, 'mean')(3, 2)),
  variance: new Array<number>(8).fill(fn(weibullRef, 'variance')(3, 2)),
  undefinedMethods: ['cdf', 'mode', 'entropy'],
  fd: {
    theta: [1.7, 2.5],
    build: ([s, k]) =>
      new d.IntervalCensoredDistribution(new d.Weibull(s!, k!), [false, true], [true, false]),
  },
  rtol: 2e-5,
  atol: 2e-6,
  bad: [
    [
      quiet(() => new d.IntervalCensoredDistribution(new d.Weibull(1, 1), [0, 1], [1, 0, 1])),
      /leftCensored\/rightCensored|rightCensored/,
    ],
    [
      quiet(() => new d.IntervalCensoredDistribution(new d.Weibull(1, 1), 'yes' as never)),
      /leftCensored/,
    ],
  ],
});

// ---- float64 linear algebra for the CAR references --------------------------------------------
/** Cholesky factor `L` (lower) of a symmetric positive-definite matrix, float64. */
export function cholesky64(a: number[][]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = i === j ? Math.sqrt(s) : s / l[j]![j]!;
    }
  }
  return l;
}
/** `log N(x; mu, Q^{-1})` from the precision `Q`, float64. */
export function mvnPrecisionLogpdf(x: number[], mu: number[], q: number[][]): number {
  const l = cholesky64(q);
  const r = x.map((v, i) => v - mu[i]!);
  const quad = r.reduce((a, ri, i) => a + ri * r.reduce((b, rj, j) => b + q[i]![j]! * rj, 0), 0);
  const logDet = 2 * l.reduce((a, row, i) => a + Math.log(row[i]!), 0);
  return -0.5 * x.length * Math.log(2 * Math.PI) + 0.5 * logDet - 0.5 * quad;
}
/** Inverse of a symmetric positive-definite matrix, float64 (Gauss–Jordan). */
export function inverse64(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    const p = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= p;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

/** `tau (D - alpha W)`. */
export const carPrecision = (w: number[][], alpha: number, tau: number): number[][] =>
  w.map((row, i) =>
    row.map((v, j) => tau * ((i === j ? row.reduce((a, b) => a + b, 0) : 0) - alpha * v)),
  );

// ---- CAR over a 4-node graph: batch [2] (two correlations), event [4] ---------------------------
const CAR_W = [
  [0, 1, 0, 1],
  [1, 0, 2, 0],
  [0, 2, 0, 1],
  [1, 0, 1, 0],
];
const CAR_ALPHA = [0.9, -0.5];
const CAR_TAU = 2;
const CAR_MU = [0.5, -1, 0, 2];
const CAR_X = [
  [
    [0.1, -0.2, 0.4, 1.5],
    [1, -1.3, -0.5, 2.2],
  ],
  [
    [0, 0, 0, 0],
    [0.6, -0.9, 0.1, 1.9],
  ],
];
const carCov = CAR_ALPHA.map((a) => inverse64(carPrecision(CAR_W, a, CAR_TAU)));
CASES.push({
  name: 'CAR',
  make: () => new d.CAR(CAR_MU, CAR_ALPHA, CAR_TAU, CAR_W),
  points: CAR_X,
  logProb: CAR_X.map((row) =>
    row.map((x, b) => mvnPrecisionLogpdf(x, CAR_MU, carPrecision(CAR_W, CAR_ALPHA[b]!, CAR_TAU))),
  ),
  mean: [...CAR_MU, ...CAR_MU],
  variance: carCov.flatMap((c) => c.map((row, i) => row[i]!)),
  undefinedMethods: ['cdf', 'mode', 'entropy'],
  fd: {
    theta: [0.3, 0.6, 1.7],
    build: ([m, a, t]) => new d.CAR(m!, a!, t!, CAR_W),
  },
  rtol: 2e-5,
  atol: 2e-5,
  bad: [
    [() => new d.CAR(0, 1, 1, CAR_W), /correlation/],
    [() => new d.CAR(0, 0.5, 0, CAR_W), /conditionalPrecision/],
    [() => new d.CAR([0, 0, 0], 0.5, 1, CAR_W), /loc/],
    [
      () =>
        new d.CAR(0, 0.5, 1, [
          [0, 1],
          [2, 0],
        ]),
      /adjMatrix/,
    ],
    [
      () =>
        new d.CAR(0, 0.5, 1, [
          [0, 1, 0],
          [1, 0, 0],
          [0, 0, 0],
        ]),
      /adjMatrix/,
    ],
    [
      () =>
        new d.CAR(0, 0.5, 1, [
          [1, 1],
          [1, 0],
        ]),
      /adjMatrix/,
    ],
    [() => new d.CAR([[0], [1]], [0.1, 0.2, 0.3], 1, CAR_W), /loc\/correlation/],
  ],
});

// ---- SineBivariateVonMises: batch [2]; log C by float64 quadrature over the torus ----------------
const SBVM = [
  [0.3, -1, 2, 3, 1.5],
  [-2, 0.5, 4, 1.2, -3],
];
/** `log C` by the trapezoid rule over the torus (spectrally accurate for a periodic integrand). */
export function sineLogNormalizer64(k1: number, k2: number, lam: number, n = 256): number {
  const h = (2 * Math.PI) / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = i * h;
      const b = j * h;
      s += Math.exp(
        k1 * Math.cos(a) + k2 * Math.cos(b) + lam * Math.sin(a) * Math.sin(b) - k1 - k2,
      );
    }
  }
  return Math.log(s * h * h) + k1 + k2;
}
const SBVM_X = [
  [
    [0.5, -0.7],
    [-2.5, 3],
  ],
  [
    [3, 3],
    [-1.9, 0.4],
  ],
];
CASES.push({
  name: 'SineBivariateVonMises',
  make: () =>
    new d.SineBivariateVonMises(
      SBVM.map((p) => p[0]!),
      SBVM.map((p) => p[1]!),
      SBVM.map((p) => p[2]!),
      SBVM.map((p) => p[3]!),
      { correlation: SBVM.map((p) => p[4]!) },
    ),
  points: SBVM_X,
  logProb: SBVM_X.map((row) =>
    row.map(([phi, psi], b) => {
      const [mu, nu, k1, k2, lam] = SBVM[b] as [number, number, number, number, number];
      return (
        k1 * Math.cos(phi! - mu) +
        k2 * Math.cos(psi! - nu) +
        lam * Math.sin(phi! - mu) * Math.sin(psi! - nu) -
        sineLogNormalizer64(k1, k2, lam)
      );
    }),
  ),
  mean: SBVM.flatMap((p) => [p[0]!, p[1]!]),
  undefinedMethods: ['variance', 'cdf', 'mode', 'entropy'],
  rtol: 2e-5,
  atol: 2e-5,
  bad: [
    [() => new d.SineBivariateVonMises(0, 0, 0, 1, { correlation: 0 }), /phiConcentration/],
    [() => new d.SineBivariateVonMises(0, 0, 1, -1, { correlation: 0 }), /psiConcentration/],
    [
      () => new d.SineBivariateVonMises(0, 0, 1, 1, { weightedCorrelation: 1.5 }),
      /weightedCorrelation/,
    ],
    [() => new d.SineBivariateVonMises(0, 0, 1, 1, {} as never), /corr/],
    [() => new d.SineBivariateVonMises(NaN, 0, 1, 1, { correlation: 0 }), /phiLoc/],
  ],
});
