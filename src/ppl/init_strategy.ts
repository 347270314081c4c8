/**
 * Initialization strategies of latent sites (Pyro's and NumPyro's `init_to_*`), shared by MCMC
 * (`initStrategy` of `NUTS`/`HMC`) and the autoguides (`initLoc`). A strategy gives each
 * continuous latent site a constrained starting value from its distribution `p` while the model
 * runs once, so a site's start may depend on the earlier ones:
 *
 * | strategy | value | Pyro / NumPyro |
 * | --- | --- | --- |
 * | `initToUniform(r)` | `T(u)`, `u_i ~ Uniform(-r, r)` in the unconstrained space | `init_to_uniform` |
 * | `initToFeasible()` | `T(0)`: the unconstrained origin mapped to the support | `init_to_feasible` |
 * | `initToSample()` | one draw of `p` | `init_to_sample` |
 * | `initToMedian(n)` | `T(median(T^{-1}(x_1..x_n)))`, `x_j ~ p` | `init_to_median` |
 * | `initToMean(n)` | `E_p[x]` when finite and in the support, else `initToMedian(n)` | `init_to_mean` |
 * | `initToValue(v)` | the given value; other sites `initToUniform(2)` | `init_to_value` |
 *
 * `T = bijectTo(support)`. The median is taken in the unconstrained space (the element-wise median
 * of simplex or correlation-Cholesky draws is not in their support). A site that cannot be drawn
 * (an `ImproperUniform` flat prior) starts at `initToUniform(2)`, `T(u)` with
 * `u_i ~ Uniform(-2, 2)`, under the strategies that draw (`sample`, `median`, `mean`), as
 * NumPyro's fallback; `initToFeasible()` gives it `T(0)`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../bijectors/bijector.js';
import type { Distribution } from '../distributions/distribution.js';
import { ArgumentError, NotDefinedError } from '../utils/errors.js';

/** How latent sites start: a name, or one of the `initTo*` objects. */
export type InitStrategy =
  | 'uniform'
  | 'median'
  | 'sample'
  | 'feasible'
  | 'mean'
  | { kind: 'uniform'; radius: number }
  | { kind: 'median'; numSamples: number }
  | { kind: 'mean'; numSamples: number }
  | { kind: 'sample' }
  | { kind: 'feasible' }
  | { kind: 'value'; values: Record<string, tf.Tensor | tf.TensorLike> };

/** The object form of a strategy. @internal */
export type ResolvedInit = Exclude<InitStrategy, string>;

/**
 * `Uniform(-radius, radius)` in the unconstrained space (Pyro's `init_to_uniform`; MCMC's
 * default, Stan's).
 */
export function initToUniform(radius = 2): InitStrategy {
  if (typeof radius !== 'number' || !(radius > 0) || !Number.isFinite(radius)) {
    throw new ArgumentError('radius', `expected a finite number > 0, got ${String(radius)}`);
  }
  return { kind: 'uniform', radius };
}

/** The median of `numSamples` prior draws (Pyro's `init_to_median`). */
export function initToMedian(numSamples = 15): InitStrategy {
  checkNumSamples(numSamples);
  return { kind: 'median', numSamples };
}

/**
 * The prior mean `E_p[x]` (Pyro's and NumPyro's `init_to_mean`); where it is undefined (no
 * `mean()`), not finite (a Cauchy, a Student-t with `df <= 1`) or outside the support (the mean of
 * a `Categorical`), the median of `numSamples` draws ({@link initToMedian}).
 */
export function initToMean(numSamples = 15): InitStrategy {
  checkNumSamples(numSamples);
  return { kind: 'mean', numSamples };
}

/** One prior draw (Pyro's and NumPyro's `init_to_sample`). */
export function initToSample(): InitStrategy {
  return { kind: 'sample' };
}

/**
 * The origin of the unconstrained space mapped to the support, `bijectTo(support)(0)` (Pyro's and
 * NumPyro's `init_to_feasible`): 0 on the real line, 1 for `positive`, the midpoint of an
 * interval, the uniform simplex point, the identity correlation.
 */
export function initToFeasible(): InitStrategy {
  return { kind: 'feasible' };
}

/** Given constrained values; unnamed sites start `uniform` (Pyro's `init_to_value`). */
export function initToValue(values: Record<string, tf.Tensor | tf.TensorLike>): InitStrategy {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new ArgumentError('values', 'expected an object {siteName: value}');
  }
  return { kind: 'value', values };
}

function checkNumSamples(n: unknown): void {
  if (!Number.isInteger(n) || (n as number) < 1) {
    throw new ArgumentError('numSamples', `expected an integer >= 1, got ${String(n)}`);
  }
}

const NAMES = `'uniform', 'median', 'sample', 'feasible', 'mean', initToUniform(), initToMedian(), initToMean(), initToSample(), initToFeasible() or initToValue()`;

/**
 * The object form of `s` (`undefined` gives `fallback`), checked.
 * @throws ArgumentError naming `arg` for anything else.
 * @internal
 */
export function resolveInit(
  s: unknown,
  arg: string,
  fallback: ResolvedInit = { kind: 'uniform', radius: 2 },
): ResolvedInit {
  if (s === undefined) return fallback;
  if (s === 'uniform') return { kind: 'uniform', radius: 2 };
  if (s === 'median') return { kind: 'median', numSamples: 15 };
  if (s === 'mean') return { kind: 'mean', numSamples: 15 };
  if (s === 'sample') return { kind: 'sample' };
  if (s === 'feasible') return { kind: 'feasible' };
  if (typeof s === 'object' && s !== null && 'kind' in s) {
    const o = s as Record<string, unknown>;
    const count = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1;
    const ok =
      (o.kind === 'uniform' &&
        typeof o.radius === 'number' &&
        o.radius > 0 &&
        Number.isFinite(o.radius)) ||
      ((o.kind === 'median' || o.kind === 'mean') && count(o.numSamples)) ||
      o.kind === 'sample' ||
      o.kind === 'feasible' ||
      (o.kind === 'value' && typeof o.values === 'object' && o.values !== null);
    if (ok) return s as ResolvedInit;
  }
  throw new ArgumentError(
    arg,
    `expected ${NAMES}, got ${typeof s === 'object' ? JSON.stringify(s) : String(s)}`,
  );
}

/** Element-wise median over the first axis of `[n, ...shape]` draws. */
function medianOverFirst(x: tf.Tensor): tf.Tensor {
  const n = x.shape[0] as number;
  const rest = x.shape.slice(1);
  const v = x.dataSync();
  const m = v.length / n;
  const out = new Float32Array(m);
  const col = new Float64Array(n);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < n; i++) col[i] = v[i * m + j] as number;
    col.sort();
    out[j] =
      n % 2 === 1
        ? (col[(n - 1) / 2] as number)
        : 0.5 * ((col[n / 2 - 1] as number) + (col[n / 2] as number));
  }
  return tf.tensor(out, rest);
}

/** Whether every element of `v` is finite and in `fn`'s support. */
function usable(fn: Distribution, v: tf.Tensor): boolean {
  const finite = tf.all(tf.isFinite(v)).dataSync()[0] === 1;
  if (!finite) return false;
  const inside = fn.support.check(v);
  return tf.all(inside).dataSync()[0] === 1;
}

/**
 * The radius of the uniform start of a site that cannot be drawn (NumPyro's `init_to_uniform`
 * fallback of `init_to_median`/`init_to_sample`/`init_to_mean`): `u_i ~ Uniform(-2, 2)`. @internal
 */
export const UNDRAWABLE_RADIUS = 2;

/** What a strategy needs to start one site. @internal */
export interface InitSite {
  name: string;
  fn: Distribution;
  /** `bijectTo(fn.support)`. */
  bijector: Bijector;
  /** The site's constrained shape. */
  shape: number[];
  /** A seed for the site's draws. */
  seed: number;
  /** Uniform numbers on `[0, 1)` for `initToUniform`. */
  uniform: () => number;
}

/**
 * The constrained starting value of one continuous site under strategy `s` (a new tensor; call
 * inside a `tf.tidy`). Pyro's `init_to_value` falls back to `initToUniform(2)` for unnamed sites.
 * @throws ArgumentError naming `arg` when a given value has the wrong number of elements.
 * @internal
 */
export function initSiteValue(s: ResolvedInit, site: InitSite, arg: string): tf.Tensor {
  const { fn, bijector: bij, shape } = site;
  const size = shape.reduce((a, b) => a * b, 1);
  const uniform = (radius: number): tf.Tensor => {
    const ushape = bij.inverseShape(shape);
    const n = ushape.reduce((a, b) => a * b, 1);
    const u = new Float32Array(n);
    for (let i = 0; i < n; i++) u[i] = (2 * site.uniform() - 1) * radius;
    return bij.forward(tf.tensor(u, ushape));
  };
  const feasible = (): tf.Tensor => bij.forward(tf.zeros(bij.inverseShape(shape)));
  // NumPyro's fallback (`init_to_median` -> `init_to_uniform`): a site that cannot be sampled
  // (an ImproperUniform flat prior, the auxiliary sites of CircularReparam and SplitReparam)
  // starts at T(u), u_i ~ Uniform(-2, 2) in the unconstrained space
  const drawOr = (draw: () => tf.Tensor): tf.Tensor => {
    try {
      return draw();
    } catch (e) {
      if (e instanceof NotDefinedError) return uniform(UNDRAWABLE_RADIUS);
      throw e;
    }
  };
  const median = (numSamples: number): tf.Tensor =>
    drawOr(() => bij.forward(medianOverFirst(bij.inverse(fn.sample([numSamples], site.seed)))));
  switch (s.kind) {
    case 'uniform':
      return uniform(s.radius);
    case 'feasible':
      return feasible();
    case 'sample':
      return drawOr(() => tf.broadcastTo(fn.sample([], site.seed), shape));
    case 'median':
      return median(s.numSamples);
    case 'mean': {
      let m: tf.Tensor | undefined;
      try {
        m = tf.broadcastTo(tf.cast(fn.mean(), 'float32'), shape);
      } catch {
        m = undefined; // no mean (NotDefinedError) or one of another shape
      }
      return m !== undefined && usable(fn, m) ? m : median(s.numSamples);
    }
    case 'value': {
      if (!Object.hasOwn(s.values, site.name)) return uniform(2);
      const given = s.values[site.name] as tf.Tensor | tf.TensorLike;
      const v = given instanceof tf.Tensor ? given : tf.tensor(given);
      if (v.size !== size) {
        throw new ArgumentError(
          arg,
          `init value of site '${site.name}': expected shape [${shape}], got [${v.shape}]`,
        );
      }
      return tf.reshape(tf.cast(v, 'float32'), shape);
    }
  }
}
