/**
 * The robustness sweep's table: every family exported by `src/distributions/index.ts`, built with
 * small valid parameters of any batch shape (scalar `[]`, `[3]`, `[2, 3]`), the values they vary
 * over the batch so that a broadcast slip shows. Used by `sweep_*.test.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { bijectors, distributions } from '../../src/index.js';

const d = distributions;
type Dist = distributions.Distribution;

/** Nested arrays of numbers. */
export type Nested = number | Nested[];

/**
 * Tensors made for empty parameters (nested arrays cannot hold a shape such as `[0, 4]`): not
 * owned by the distributions, freed by {@link freeMade}.
 */
const made: tf.Tensor[] = [];

/** Base distributions the wrappers do not own (freed by {@link freeMade}). */
const bases: Dist[] = [];

/** Free the tensors {@link vals} made for empty shapes and the bases kept by {@link keep}. */
export function freeMade(): void {
  tf.dispose(made.splice(0));
  for (const b of bases.splice(0)) b.dispose();
}

/** Keep a base distribution (a wrapper leaves it the caller's) to free it after the test. */
export function keep<T extends Dist>(base: T): T {
  bases.push(base);
  return base;
}

/** An empty parameter of `shape`, as a tensor (kept for {@link freeMade}). */
function emptyParam(shape: number[]): Nested {
  const t = tf.zeros(shape);
  made.push(t);
  return t as unknown as Nested;
}

/**
 * The flat values `lo + (hi - lo) * frac(0.5 + 0.618 i)`, nested to `shape` (a tensor for an
 * empty shape).
 */
export function vals(shape: number[], lo: number, hi: number, offset = 0): Nested {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return emptyParam(shape);
  const flat = Array.from({ length: size }, (_, i) => {
    const f = (0.5 + 0.6180339887 * (i + offset)) % 1;
    return lo + (hi - lo) * f;
  });
  return nest(flat, shape);
}

/** Nest a flat array to `shape`. */
export function nest(flat: number[], shape: number[]): Nested {
  if (shape.length === 0) return flat[0] as number;
  const [n, ...rest] = shape as [number, ...number[]];
  const step = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest));
}

/** Rows of `vals` normalized to sum to 1 over the last axis (probabilities). */
export function simplex(shape: number[], offset = 0): Nested {
  const v = vals(shape, 0.2, 1, offset);
  if (v instanceof tf.Tensor) return v as unknown as Nested;
  const norm = (x: Nested): Nested => {
    const row = x as Nested[];
    if (typeof row[0] === 'number') {
      const s = (row as number[]).reduce((a, b) => a + b, 0);
      return (row as number[]).map((y) => y / s);
    }
    return row.map(norm);
  };
  return norm(v);
}

/** `k` copies of `x` nested under `shape` (a parameter whose event part is fixed). */
export function tile(shape: number[], x: Nested): Nested {
  if (shape.some((n) => n === 0)) {
    const inner = tf.tensor(x as number[]);
    const t = tf.zeros([...shape, ...inner.shape]);
    inner.dispose();
    made.push(t);
    return t as unknown as Nested;
  }
  if (shape.length === 0) return x;
  const [n, ...rest] = shape as [number, ...number[]];
  return Array.from({ length: n }, () => tile(rest, x));
}

/** Lower-triangular factors `[[1,0,0],[a,1.2,0],[b,c,0.9]]`-like, one per batch entry. */
function trils(batch: number[], dim: number): Nested {
  const size = batch.reduce((a, b) => a * b, 1);
  if (size === 0) return emptyParam([...batch, dim, dim]);
  const flat: number[] = [];
  for (let s = 0; s < size; s++) {
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < dim; j++) {
        flat.push(i === j ? 0.8 + 0.2 * ((s + i) % 3) : j < i ? 0.3 - 0.1 * ((s + i + j) % 4) : 0);
      }
    }
  }
  return nest(flat, [...batch, dim, dim]);
}

/** Covariance matrices `L L^T + 0.1 I` from {@link trils}. */
function covs(batch: number[], dim: number): Nested {
  if (batch.includes(0)) return emptyParam([...batch, dim, dim]);
  return tf.tidy(() => {
    const l = tf.tensor(trils(batch, dim) as number[]);
    const c = tf.add(tf.matMul(l, l, false, true), tf.mul(0.1, tf.eye(dim)));
    return c.arraySync() as Nested;
  });
}

/** Which moments the Monte Carlo check compares. */
export type Moment = 'mean' | 'variance' | 'entropy';

/** One row of the sweep. */
export interface SweepRow {
  name: string;
  /** Build the family with parameters of batch shape `batch` (the result's `batchShape`). */
  make: (batch: number[]) => Dist;
  /** Continuous family: `logProb` is differentiable in the value. */
  continuous: boolean;
  /**
   * A value outside the support of a scalar family (`logProb` must be `-Infinity`, not NaN), or,
   * for an event family, one full event outside the support (an `ArgumentError` with validation).
   */
  outside?: Nested;
  /** The moments checked against 20k Monte Carlo draws (the others say why in `note`). */
  moments: Moment[];
  /** Why moments (or other checks) are left out. */
  note?: string;
  /** Parameters (scalars) and a builder for finite differences of `logProb` in them. */
  grad?: { theta: number[]; build: (p: tf.Tensor[]) => Dist };
  /** Drawing is not defined (the reason). */
  noSample?: string;
  /** No `batch` other than `[]` (the reason). */
  scalarOnly?: string;
  /**
   * Angles on the circle: `mean` is the circular mean `atan2(E sin X, E cos X)` and `variance`
   * the circular variance `1 - |E e^{iX}|` (compared as such).
   */
  circular?: boolean;
  /** The Monte Carlo tolerance in standard errors (default 5). */
  zMax?: number;
}

const M3: Moment[] = ['mean', 'variance', 'entropy'];
const MV: Moment[] = ['mean', 'variance'];

/** The table. */
export const SWEEP: SweepRow[] = [
  {
    name: 'Normal',
    make: (b) => new d.Normal(vals(b, -1, 1), vals(b, 0.5, 2, 1)),
    continuous: true,
    moments: M3,
    grad: { theta: [0.3, 1.4], build: ([m, s]) => new d.Normal(m!, s!) },
  },
  {
    name: 'Bernoulli',
    make: (b) => new d.Bernoulli(vals(b, 0.2, 0.8)),
    continuous: false,
    outside: 2,
    moments: M3,
    grad: { theta: [0.3], build: ([p]) => new d.Bernoulli(p!) },
  },
  {
    name: 'Bernoulli(logits)',
    make: (b) => new d.Bernoulli({ logits: vals(b, -1, 1) }),
    continuous: false,
    outside: -1,
    moments: M3,
    grad: { theta: [0.4], build: ([p]) => new d.Bernoulli({ logits: p! }) },
  },
  {
    name: 'Beta',
    make: (b) => new d.Beta(vals(b, 1, 3), vals(b, 1.5, 4, 2)),
    continuous: true,
    outside: 1.5,
    moments: M3,
    grad: { theta: [2, 3], build: ([a, c]) => new d.Beta(a!, c!) },
  },
  {
    name: 'Categorical',
    make: (b) => new d.Categorical(simplex([...b, 4])),
    continuous: false,
    outside: 4,
    moments: ['entropy'],
    note: 'mean/variance of a label are NaN by design (torch)',
    grad: {
      theta: [0.2, -0.3, 0.5],
      build: ([a, b, c]) => new d.Categorical({ logits: tf.stack([a!, b!, c!]) }),
    },
  },
  {
    name: 'Cauchy',
    make: (b) => new d.Cauchy(vals(b, -1, 1), vals(b, 0.5, 2, 1)),
    continuous: true,
    moments: ['entropy'],
    note: 'mean NaN and variance Infinity by design (no moments)',
    grad: { theta: [0.3, 1.4], build: ([m, s]) => new d.Cauchy(m!, s!) },
  },
  {
    name: 'Dirichlet',
    make: (b) => new d.Dirichlet(vals([...b, 3], 1, 3)),
    continuous: true,
    outside: [0.5, 0.7, -0.2],
    moments: M3,
    grad: { theta: [1.5, 2, 2.5], build: ([a, b, c]) => new d.Dirichlet(tf.stack([a!, b!, c!])) },
  },
  {
    name: 'Exponential',
    make: (b) => new d.Exponential(vals(b, 0.5, 2)),
    continuous: true,
    outside: -1,
    moments: M3,
    grad: { theta: [1.3], build: ([r]) => new d.Exponential(r!) },
  },
  {
    name: 'Gamma',
    make: (b) => new d.Gamma(vals(b, 1, 4), vals(b, 0.5, 2, 1)),
    continuous: true,
    outside: -1,
    moments: M3,
    grad: { theta: [2.5, 1.5], build: ([a, r]) => new d.Gamma(a!, r!) },
  },
  {
    name: 'Geometric',
    make: (b) => new d.Geometric(vals(b, 0.2, 0.8)),
    continuous: false,
    outside: -1,
    moments: M3,
    grad: { theta: [0.3], build: ([p]) => new d.Geometric(p!) },
  },
  {
    name: 'Gumbel',
    make: (b) => new d.Gumbel(vals(b, -1, 1), vals(b, 0.5, 2, 1)),
    continuous: true,
    moments: M3,
    grad: { theta: [0.3, 1.4], build: ([m, s]) => new d.Gumbel(m!, s!) },
  },
  {
    name: 'HalfNormal',
    make: (b) => new d.HalfNormal(vals(b, 0.5, 2)),
    continuous: true,
    outside: -1,
    moments: M3,
    grad: { theta: [1.4], build: ([s]) => new d.HalfNormal(s!) },
  },
  {
    name: 'Independent(Normal)',
    make: (b) => new d.Independent(keep(new d.Normal(vals([...b, 2], -1, 1), 1.5)), 1),
    continuous: true,
    moments: M3,
    grad: {
      theta: [0.3, 1.4],
      build: ([m, sc]) => new d.Independent(keep(new d.Normal(tf.stack([m!, m!]), sc!)), 1),
    },
  },
  {
    name: 'Laplace',
    make: (b) => new d.Laplace(vals(b, -1, 1), vals(b, 0.5, 2, 1)),
    continuous: true,
    moments: M3,
    grad: { theta: [0.3, 1.4], build: ([m, s]) => new d.Laplace(m!, s!) },
  },
  {
    name: 'Logistic',
    make: (b) => new d.Logistic(vals(b, -1, 1), vals(b, 0.5, 2, 1)),
    continuous: true,
    moments: M3,
    grad: { theta: [0.3, 1.4], build: ([m, s]) => new d.Logistic(m!, s!) },
  },
  {
    name: 'LogNormal',
    make: (b) => new d.LogNormal(vals(b, -0.5, 0.5), vals(b, 0.2, 0.5, 1)),
    continuous: true,
    outside: -1,
    moments: M3,
    grad: { theta: [0.3, 0.4], build: ([m, s]) => new d.LogNormal(m!, s!) },
  },
  {
    name: 'MultivariateNormalDiag',
    make: (b) => new d.MultivariateNormalDiag(vals([...b, 3], -1, 1), vals([...b, 3], 0.5, 2, 1)),
    continuous: true,
    moments: M3,
    grad: {
      theta: [0.3, 1.4],
      build: ([m, s]) => new d.MultivariateNormalDiag(tf.stack([m!, m!]), tf.stack([s!, s!])),
    },
  },
  {
    name: 'Poisson',
    make: (b) => new d.Poisson(vals(b, 0.5, 4)),
    continuous: false,
    outside: -1,
    moments: M3,
    grad: { theta: [2.5], build: ([r]) => new d.Poisson(r!) },
  },
  {
    name: 'StudentT',
    make: (b) => new d.StudentT(vals(b, 9, 12), vals(b, -1, 1, 1), vals(b, 0.5, 2, 2)),
    continuous: true,
    moments: M3,
    zMax: 6,
    grad: { theta: [5, 0.3, 1.4], build: ([n, m, s]) => new d.StudentT(n!, m!, s!) },
  },
  {
    name: 'Uniform',
    make: (b) => new d.Uniform(vals(b, -1, 0), vals(b, 0.5, 2, 1)),
    continuous: true,
    outside: 3,
    moments: M3,
    grad: { theta: [-0.5, 1.5], build: ([l, h]) => new d.Uniform(l!, h!) },
  },
  {
    name: 'TransformedDistribution(Normal, Exp)',
    make: (b) =>
      new d.TransformedDistribution(
        keep(new d.Normal(vals(b, -0.5, 0.5), 0.4)),
        new bijectors.Exp(),
      ),
    continuous: true,
    outside: -1,
    moments: [],
    note: 'no closed-form moments through a non-affine bijector (NotDefinedError by design)',
    grad: {
      theta: [0.3, 0.4],
      build: ([m, sc]) =>
        new d.TransformedDistribution(keep(new d.Normal(m!, sc!)), new bijectors.Exp()),
    },
  },
  {
    name: 'HalfCauchy',
    make: (b) => new d.HalfCauchy(vals(b, 0.5, 2)),
    continuous: true,
    outside: -1,
    moments: ['entropy'],
    note: 'mean/variance Infinity by design',
    grad: { theta: [1.4], build: ([s]) => new d.HalfCauchy(s!) },
  },
  {
    name: 'InverseGamma',
    make: (b) => new d.InverseGamma(vals(b, 9, 12), vals(b, 1, 2, 1)),
    continuous: true,
    outside: -1,
    moments: M3,
    zMax: 6,
    grad: { theta: [5, 1.5], build: ([a, r]) => new d.InverseGamma(a!, r!) },
  },
  {
    name: 'Weibull',
    make: (b) => new d.Weibull(vals(b, 0.5, 2), vals(b, 1, 3, 1)),
    continuous: true,
    outside: -1,
    moments: M3,
    grad: { theta: [1.4, 2], build: ([s, k]) => new d.Weibull(s!, k!) },
  },
  {
    name: 'Binomial',
    make: (b) => new d.Binomial(10, vals(b, 0.2, 0.8)),
    continuous: false,
    outside: 11,
    moments: M3,
    grad: { theta: [0.3], build: ([p]) => new d.Binomial(10, p!) },
  },
  {
    name: 'NegativeBinomial',
    make: (b) => new d.NegativeBinomial(vals(b, 2, 5), vals(b, 0.2, 0.6, 1)),
    continuous: false,
    outside: -1,
    moments: MV,
    grad: { theta: [3, 0.4], build: ([n, p]) => new d.NegativeBinomial(n!, p!) },
  },
  {
    name: 'Multinomial',
    make: (b) => new d.Multinomial(5, simplex([...b, 3])),
    continuous: false,
    outside: [6, 0, -1],
    moments: MV,
    grad: {
      theta: [0.2, -0.3, 0.5],
      build: ([a, b, c]) => new d.Multinomial(5, { logits: tf.stack([a!, b!, c!]) }),
    },
  },
  {
    name: 'MultivariateNormal',
    make: (b) => new d.MultivariateNormal(vals([...b, 3], -1, 1), { covarianceMatrix: covs(b, 3) }),
    continuous: true,
    moments: M3,
    grad: {
      theta: [0.3, 1.4],
      build: ([m, v]) =>
        new d.MultivariateNormal(tf.stack([m!, tf.neg(m!)]), {
          covarianceMatrix: tf.mul(
            v!,
            tf.tensor2d([
              [1, 0.3],
              [0.3, 1],
            ]),
          ),
        }),
    },
  },
  {
    name: 'MultivariateNormal(scaleTril)',
    make: (b) => new d.MultivariateNormal(vals([...b, 3], -1, 1), { scaleTril: trils(b, 3) }),
    continuous: true,
    moments: M3,
  },
  {
    name: 'LowRankMultivariateNormal',
    make: (b) =>
      new d.LowRankMultivariateNormal(
        vals([...b, 3], -1, 1),
        vals([...b, 3, 2], -0.5, 0.5, 1),
        vals([...b, 3], 0.5, 1.5, 2),
      ),
    continuous: true,
    moments: M3,
    grad: {
      theta: [0.3, 0.5, 1.2],
      build: ([m, w, dg]) =>
        new d.LowRankMultivariateNormal(
          tf.stack([m!, m!]),
          tf.reshape(tf.stack([w!, tf.neg(w!)]), [2, 1]),
          tf.stack([dg!, dg!]),
        ),
    },
  },
  {
    name: 'LKJCholesky',
    make: (b) => new d.LKJCholesky(3, vals(b, 1, 3)),
    continuous: true,
    outside: [
      [1, 0, 0],
      [0.5, 0.5, 0],
      [0, 0, 1],
    ],
    moments: [],
    note: 'no closed-form moments (NotDefinedError by design)',
    grad: { theta: [1.7], build: ([c]) => new d.LKJCholesky(3, c!) },
  },
  {
    name: 'VonMises',
    make: (b) => new d.VonMises(vals(b, -1, 1), vals(b, 0.5, 3, 1)),
    continuous: true,
    moments: ['mean', 'variance', 'entropy'],
    circular: true,
    grad: { theta: [0.3, 1.4], build: ([m, k]) => new d.VonMises(m!, k!) },
  },
  {
    name: 'ImproperUniform',
    make: (b) => new d.ImproperUniform(d.constraints.positive, b, []),
    continuous: true,
    moments: [],
    noSample: 'an improper density has no draws (NotDefinedError by design)',
  },
  {
    name: 'ExpandedDistribution(Normal)',
    make: (b) => new d.ExpandedDistribution(keep(new d.Normal(0.5, 1.5)), b),
    continuous: true,
    moments: M3,
    grad: {
      theta: [0.3, 1.4],
      build: ([m, sc]) => new d.ExpandedDistribution(keep(new d.Normal(m!, sc!)), [2]),
    },
  },
  {
    name: 'MaskedDistribution(Normal)',
    make: (b) => new d.MaskedDistribution(keep(new d.Normal(vals(b, -1, 1), 1.5)), true),
    continuous: true,
    moments: MV,
    note: 'a masked distribution has no entropy (Pyro)',
    grad: {
      theta: [0.3, 1.4],
      build: ([m, sc]) => new d.MaskedDistribution(keep(new d.Normal(m!, sc!)), true),
    },
  },
  {
    name: 'MixtureSameFamily',
    make: (b) =>
      new d.MixtureSameFamily(
        keep(new d.Categorical(simplex([...b, 2]))),
        keep(new d.Normal(vals([...b, 2], -2, 2), vals([...b, 2], 0.5, 1, 1))),
      ),
    continuous: true,
    moments: MV,
    note: 'a mixture has no closed-form entropy',
    grad: {
      theta: [0.4, -1, 1.5],
      build: ([l, m, s]) =>
        new d.MixtureSameFamily(
          keep(new d.Categorical({ logits: tf.stack([l!, tf.neg(l!)]) })),
          keep(new d.Normal(tf.stack([m!, tf.neg(m!)]), s!)),
        ),
    },
  },
  {
    name: 'OneHotCategorical',
    make: (b) => new d.OneHotCategorical(simplex([...b, 3])),
    continuous: false,
    outside: [1, 1, 0],
    moments: M3,
    grad: {
      theta: [0.2, -0.3],
      build: ([a, b]) => new d.OneHotCategorical({ logits: tf.stack([a!, b!, tf.scalar(0)]) }),
    },
  },
  {
    name: 'RelaxedBernoulli',
    make: (b) => new d.RelaxedBernoulli(0.7, vals(b, 0.2, 0.8)),
    continuous: true,
    outside: 1.5,
    moments: [],
    note: 'no closed-form moments (Pyro)',
    grad: { theta: [0.7, 0.3], build: ([t, p]) => new d.RelaxedBernoulli(t!, p!) },
  },
  {
    name: 'RelaxedOneHotCategorical',
    make: (b) => new d.RelaxedOneHotCategorical(0.7, simplex([...b, 3])),
    continuous: true,
    outside: [0.5, 0.7, -0.2],
    moments: [],
    note: 'no closed-form moments (Pyro)',
    grad: {
      theta: [0.7, 0.3],
      build: ([t, a]) =>
        new d.RelaxedOneHotCategorical(t!, { logits: tf.stack([a!, tf.neg(a!), tf.scalar(0)]) }),
    },
  },
  {
    name: 'ZeroInflatedDistribution(Poisson)',
    make: (b) => new d.ZeroInflatedDistribution(keep(new d.Poisson(vals(b, 1, 3))), { gate: 0.3 }),
    continuous: false,
    outside: -1,
    moments: MV,
    note: 'no closed-form entropy',
  },
  {
    name: 'ZeroInflatedPoisson',
    make: (b) => new d.ZeroInflatedPoisson(vals(b, 1, 3), { gate: vals(b, 0.1, 0.5, 1) }),
    continuous: false,
    outside: -1,
    moments: MV,
    note: 'no closed-form entropy',
    grad: { theta: [2, 0.3], build: ([r, g]) => new d.ZeroInflatedPoisson(r!, { gate: g! }) },
  },
  {
    name: 'ZeroInflatedNegativeBinomial',
    make: (b) =>
      new d.ZeroInflatedNegativeBinomial(vals(b, 2, 4), vals(b, 0.2, 0.5, 1), {
        gateLogits: vals(b, -1, 0, 2),
      }),
    continuous: false,
    outside: -1,
    moments: MV,
    note: 'no closed-form entropy',
  },
  {
    name: 'BetaBinomial',
    make: (b) => new d.BetaBinomial(vals(b, 1, 3), vals(b, 1.5, 4, 1), 8),
    continuous: false,
    outside: 9,
    moments: M3,
    grad: { theta: [2, 3], build: ([a, c]) => new d.BetaBinomial(a!, c!, 8) },
  },
  {
    name: 'DirichletMultinomial',
    make: (b) => new d.DirichletMultinomial(vals([...b, 3], 1, 3), 6),
    continuous: false,
    outside: [7, 0, -1],
    moments: MV,
    note: 'no closed-form entropy',
    grad: {
      theta: [1.5, 2, 2.5],
      build: ([a, b, c]) => new d.DirichletMultinomial(tf.stack([a!, b!, c!]), 6),
    },
  },
  {
    name: 'GammaPoisson',
    make: (b) => new d.GammaPoisson(vals(b, 1, 4), vals(b, 0.5, 2, 1)),
    continuous: false,
    outside: -1,
    moments: MV,
    note: 'no closed-form entropy',
    grad: { theta: [2.5, 1.5], build: ([a, r]) => new d.GammaPoisson(a!, r!) },
  },
  {
    name: 'Chi2',
    make: (b) => new d.Chi2(vals(b, 2, 6)),
    continuous: true,
    outside: -1,
    moments: M3,
    grad: { theta: [3.5], build: ([k]) => new d.Chi2(k!) },
  },
  {
    name: 'Pareto',
    make: (b) => new d.Pareto(vals(b, 0.5, 2), vals(b, 9, 12, 1)),
    continuous: true,
    outside: 0.1,
    moments: M3,
    zMax: 6,
    grad: { theta: [1.4, 5], build: ([s, a]) => new d.Pareto(s!, a!) },
  },
  {
    name: 'Kumaraswamy',
    make: (b) => new d.Kumaraswamy(vals(b, 1, 3), vals(b, 1.5, 4, 1)),
    continuous: true,
    outside: 1.5,
    moments: M3,
    grad: { theta: [2, 3], build: ([a, c]) => new d.Kumaraswamy(a!, c!) },
  },
  {
    name: 'TruncatedNormal',
    make: (b) => new d.TruncatedNormal(vals(b, -1, 1), vals(b, 0.5, 2, 1), -1, 1.5),
    continuous: true,
    outside: 2,
    moments: M3,
    grad: { theta: [0.3, 1.4], build: ([m, s]) => new d.TruncatedNormal(m!, s!, -1, 1.5) },
  },
  {
    name: 'AsymmetricLaplace',
    make: (b) => new d.AsymmetricLaplace(vals(b, -1, 1), vals(b, 0.5, 2, 1), vals(b, 0.5, 2, 2)),
    continuous: true,
    moments: M3,
    grad: { theta: [0.3, 1.4, 0.7], build: ([m, s, k]) => new d.AsymmetricLaplace(m!, s!, k!) },
  },
  {
    name: 'GaussianRandomWalk',
    make: (b) => new d.GaussianRandomWalk(vals(b, 0.5, 2), 4),
    continuous: true,
    moments: MV,
    note: 'no entropy',
    grad: { theta: [1.3], build: ([sc]) => new d.GaussianRandomWalk(sc!, 4) },
  },
  {
    name: 'MultivariateStudentT',
    make: (b) => new d.MultivariateStudentT(vals(b, 9, 12), vals([...b, 3], -1, 1, 1), trils(b, 3)),
    continuous: true,
    moments: MV,
    zMax: 6,
    note: 'entropy checked against Monte Carlo in audit15_tails_moments.test.ts',
    grad: {
      theta: [6, 0.3],
      build: ([n, m]) =>
        new d.MultivariateStudentT(
          n!,
          tf.stack([m!, m!]),
          tf.tensor2d([
            [1, 0],
            [0.4, 0.8],
          ]),
        ),
    },
  },
  {
    name: 'SkewNormal',
    make: (b) => new d.SkewNormal(vals(b, -1, 1), vals(b, 0.5, 2, 1), vals(b, -2, 2, 2)),
    continuous: true,
    moments: MV,
    note: 'SkewNormal entropy has no closed form',
    grad: { theta: [0.3, 1.4, 1.2], build: ([m, s, a]) => new d.SkewNormal(m!, s!, a!) },
  },
  {
    name: 'DiscreteHMM',
    make: (b) =>
      new d.DiscreteHMM(
        vals([...b, 2], -1, 1),
        vals([...b, 1, 2, 2], -1, 1, 1),
        keep(new d.Normal(vals([...b, 1, 2], -2, 2, 2), 1)),
        { duration: 3 },
      ),
    continuous: true,
    moments: [],
    note: 'a hidden Markov model has no closed-form moments (time dim 1: homogeneous, batch unambiguous)',
  },
  {
    name: 'GaussianHMM',
    make: (b) =>
      new d.GaussianHMM(
        keep(keep(new d.Normal(tile([...b], [0, 0]) as number[], 1)).toEvent(1)),
        tile(
          [...b, 1],
          [
            [0.9, 0.1],
            [0, 0.8],
          ],
        ) as number[],
        keep(
          keep(
            new d.Normal(tile([...b, 1], [0, 0]) as number[], vals([...b, 1, 2], 0.5, 1)),
          ).toEvent(1),
        ),
        tile([...b, 1], [[1], [0.5]]) as number[],
        keep(keep(new d.Normal(tile([...b, 1], [0]) as number[], 0.5)).toEvent(1)),
        { duration: 3 },
      ),
    continuous: true,
    moments: [],
    note: 'a state space model has no closed-form moments here',
  },
  {
    name: 'OrderedLogistic',
    make: (b) => new d.OrderedLogistic(vals(b, -1, 1), tile(b, [-1, 0.5, 1.5]) as number[]),
    continuous: false,
    outside: 4,
    moments: ['entropy'],
    note: 'mean/variance of a label are NaN by design',
  },
  {
    name: 'LKJ',
    make: (b) => new d.LKJ(3, vals(b, 1, 3)),
    continuous: true,
    outside: [
      [1, 0.5, 0],
      [0.4, 1, 0],
      [0, 0, 1],
    ],
    moments: MV,
    note: 'LKJ entropy is not defined',
    grad: { theta: [1.7], build: ([c]) => new d.LKJ(3, c!) },
  },
  {
    name: 'Wishart',
    make: (b) => new d.Wishart(vals(b, 4, 6), { covarianceMatrix: covs(b, 2) }),
    continuous: true,
    outside: [
      [1, 2],
      [2, 1],
    ],
    moments: M3,
    grad: {
      theta: [4.5],
      build: ([n]) =>
        new d.Wishart(n!, {
          covarianceMatrix: [
            [1, 0.3],
            [0.3, 0.8],
          ],
        }),
    },
  },
  {
    name: 'InverseWishart',
    make: (b) => new d.InverseWishart(vals(b, 9, 11), covs(b, 2)),
    continuous: true,
    outside: [
      [1, 2],
      [2, 1],
    ],
    moments: M3,
    zMax: 6,
    grad: {
      theta: [6.5],
      build: ([n]) =>
        new d.InverseWishart(n!, [
          [1, 0.3],
          [0.3, 0.8],
        ]),
    },
  },
  {
    name: 'TruncatedDistribution(Normal)',
    make: (b) =>
      new d.TruncatedDistribution(keep(new d.Normal(vals(b, -1, 1), vals(b, 0.5, 2, 1))), {
        low: -1,
        high: 1.5,
      }),
    continuous: true,
    outside: 2,
    moments: [],
    note: 'moments on a general base are not defined (TruncatedNormal has them, checked above)',
    grad: {
      theta: [0.3, 1.4],
      build: ([m, sc]) =>
        new d.TruncatedDistribution(keep(new d.Normal(m!, sc!)), { low: -1, high: 1.5 }),
    },
  },
  {
    name: 'FoldedDistribution(Normal)',
    make: (b) => new d.FoldedDistribution(keep(new d.Normal(vals(b, -1, 1), vals(b, 0.5, 2, 1)))),
    continuous: true,
    outside: -1,
    moments: [],
    note: 'moments of a folded base are not defined here',
    grad: {
      theta: [0.3, 1.4],
      build: ([m, sc]) => new d.FoldedDistribution(keep(new d.Normal(m!, sc!))),
    },
  },
  {
    name: 'LogUniform',
    make: (b) => new d.LogUniform(vals(b, 0.5, 1), vals(b, 2, 4, 1)),
    continuous: true,
    outside: 0.1,
    moments: M3,
    grad: { theta: [0.7, 3], build: ([l, h]) => new d.LogUniform(l!, h!) },
  },
  {
    name: 'ContinuousBernoulli',
    make: (b) => new d.ContinuousBernoulli(vals(b, 0.2, 0.8)),
    continuous: true,
    outside: 1.5,
    moments: M3,
    grad: { theta: [0.3], build: ([p]) => new d.ContinuousBernoulli(p!) },
  },
  {
    name: 'FisherSnedecor',
    make: (b) => new d.FisherSnedecor(vals(b, 4, 8), vals(b, 20, 30, 1)),
    continuous: true,
    outside: -1,
    moments: MV,
    zMax: 6,
    note: 'no closed-form entropy',
    grad: { theta: [5, 12], build: ([a, c]) => new d.FisherSnedecor(a!, c!) },
  },
  {
    name: 'LogisticNormal',
    make: (b) => new d.LogisticNormal(vals([...b, 2], -0.5, 0.5), vals([...b, 2], 0.3, 0.8, 1)),
    continuous: true,
    outside: [0.5, 0.7, -0.2],
    moments: [],
    note: 'no closed-form moments',
    grad: {
      theta: [0.2, 0.6],
      build: ([m, sc]) => new d.LogisticNormal(tf.stack([m!, tf.neg(m!)]), sc!),
    },
  },
  {
    name: 'SoftLaplace',
    make: (b) => new d.SoftLaplace(vals(b, -1, 1), vals(b, 0.5, 2, 1)),
    continuous: true,
    moments: MV,
    note: 'no closed-form entropy',
    grad: { theta: [0.3, 1.4], build: ([m, s]) => new d.SoftLaplace(m!, s!) },
  },
  {
    name: 'ZeroSumNormal',
    make: (b) => new d.ZeroSumNormal(vals(b, 0.5, 2), [3]),
    continuous: true,
    outside: [1, 1, 1],
    moments: MV,
    note: 'no entropy',
    grad: { theta: [1.3], build: ([sc]) => new d.ZeroSumNormal(sc!, [3]) },
  },
  {
    name: 'Empirical',
    make: (b) => new d.Empirical(vals([...b, 4], -1, 1), vals([...b, 4], -1, 0.5, 1)),
    continuous: false,
    moments: MV,
    note: 'an Empirical has no entropy; logProb is -Infinity off the atoms',
  },
  {
    name: 'ProjectedNormal',
    make: (b) => new d.ProjectedNormal(vals([...b, 3], -1, 1)),
    continuous: true,
    outside: [1, 1, 0],
    moments: [],
    note: "mean is Pyro's centroid on the sphere (c / |c|), not the Euclidean mean of draws",
    grad: {
      theta: [0.5, -0.3],
      build: ([a, b]) => new d.ProjectedNormal(tf.stack([a!, b!, tf.scalar(1)])),
    },
  },
  {
    name: 'StableWithLogProb',
    make: (b) =>
      new d.StableWithLogProb(vals(b, 0.6, 1.9), vals(b, -0.8, 0.8, 1), vals(b, 0.5, 2, 2)),
    continuous: true,
    moments: [],
    note: 'heavy tails: mean NaN or loc, variance Infinity for alpha < 2; no entropy',
    grad: {
      theta: [1.4, 0.3, 1.2],
      build: ([a, b, s]) => new d.StableWithLogProb(a!, b!, s!),
    },
  },
];
