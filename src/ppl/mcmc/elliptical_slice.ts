/**
 * Elliptical slice sampling (Murray, Adams & MacKay 2010) for a latent `f` with a Gaussian prior
 * `N(μ, Σ)` and any likelihood `L(f)`: gradient-free, no step size, every transition moves. From
 * `f`, with `log L(f) = -U(f) - log N(f; μ, Σ)` (the potential minus the prior's part):
 *
 * $$\nu \sim \mathcal N(0, \Sigma),\quad \log y = \log L(f) + \log u,\quad
 *   \theta \sim U(0, 2\pi),\ [\theta_{min}, \theta_{max}] = [\theta - 2\pi, \theta]$$
 *
 * then `f' = μ + (f - μ) cos θ + ν sin θ` until `log L(f') > log y`, shrinking the bracket
 * towards `θ = 0` on each rejection (`θ < 0`: `θ_min = θ`, else `θ_max = θ`; `θ ~ U` of the
 * bracket). The ellipse through `f` and `ν` leaves `N(μ, Σ) L(f)` invariant.
 *
 * What is supported: **the whole latent** of a model whose every latent sample site has a fixed
 * Gaussian prior — `Normal`, `MultivariateNormal` or `MultivariateNormalDiag`, possibly through
 * `toEvent`/`expand` and plates, whose parameters do not depend on other latent sites (checked at
 * two points) and whose density is not scaled or masked; the prior is read from the model at the
 * chain's start. Any other latent site is refused naming it (pair a Gaussian-prior part with
 * other sites in a Gibbs scheme of your own, or use NUTS). For a flat {@link Potential} (the full
 * potential `U = -log prior - log L`, as the other kernels take it), give the prior:
 * `priorMean` (default 0) and `priorCov` (`d x d`) or `priorScale` (`d` sds).
 */
import * as tf from '@tensorflow/tfjs';
import { Independent } from '../../distributions/independent.js';
import { ExpandedDistribution } from '../../distributions/expanded.js';
import { MultivariateNormal } from '../../distributions/mvn.js';
import { MultivariateNormalDiag } from '../../distributions/mvn_diag.js';
import { Normal } from '../../distributions/normal.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { condition } from '../handlers/condition.js';
import { trace } from '../handlers/trace.js';
import { setupChain, type ChainSetup } from './chain_setup.js';
import type { CompileMode } from './compiled_potential.js';
import type { InitStrategy } from './init.js';
import type { PhasePoint, PotentialRequests } from './integrator.js';
import { HamiltonianKernel, type TrajectoryResult } from './kernel.js';
import type { Metric } from './metric.js';
import type { ChainRng } from './rng.js';

/** Options of {@link EllipticalSlice}. */
export interface EllipticalSliceOptions {
  /** Flat potential only: the prior mean (`d` values). Default 0. */
  priorMean?: Float64Array | number[];
  /** Flat potential only: the prior covariance, `d x d` (row-major or rows). */
  priorCov?: Float64Array | number[] | number[][];
  /** Flat potential only: the prior sds of a diagonal covariance (`d` values). */
  priorScale?: Float64Array | number[];
  /** Most shrinking steps of one transition (the chain stays when reached). Default 10000. */
  maxIter?: number;
  /** How the chain starts (default `'uniform'`). */
  initStrategy?: InitStrategy;
  /** Record and replay the model's potential (see `HamiltonianOptions.compile`). */
  compile?: CompileMode;
  /** The model's plate nesting for enumerated discrete sites. */
  maxPlateNesting?: number;
}

/** A Gaussian prior over the flat latent: mean and the lower Cholesky factor of `Σ` (row-major). */
export interface GaussianPrior {
  mean: Float64Array;
  chol: Float64Array;
}

/** The lower Cholesky factor of a `d x d` matrix, or undefined when not positive definite. */
function cholOf(a: Float64Array, d: number): Float64Array | undefined {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * d + k] as number) * (l[j * d + k] as number);
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return undefined;
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / (l[j * d + j] as number);
    }
  }
  return l;
}

/** `½ |L^{-1}(x - μ)|²` (the prior's quadratic form; its constant cancels in the slice). */
export function priorQuad(p: GaussianPrior, x: Float64Array): number {
  const d = x.length;
  const w = new Float64Array(d);
  let q = 0;
  for (let i = 0; i < d; i++) {
    let s = (x[i] as number) - (p.mean[i] as number);
    for (let k = 0; k < i; k++) s -= (p.chol[i * d + k] as number) * (w[k] as number);
    w[i] = s / (p.chol[i * d + i] as number);
    q += (w[i] as number) ** 2;
  }
  return 0.5 * q;
}

/** The prior of a flat potential from the options (checked; see {@link EllipticalSliceOptions}). */
function flatPrior(o: EllipticalSliceOptions, d: number): GaussianPrior {
  const mean = new Float64Array(d);
  if (o.priorMean !== undefined) {
    const m = Float64Array.from(o.priorMean);
    if (m.length !== d || !m.every(Number.isFinite)) {
      throw new ArgumentError(
        'priorMean',
        `EllipticalSlice: expected ${d} finite values, got ${m.length}`,
      );
    }
    mean.set(m);
  }
  if ((o.priorCov === undefined) === (o.priorScale === undefined)) {
    throw new ArgumentError(
      o.priorCov === undefined ? 'priorCov' : 'priorScale',
      'EllipticalSlice over a Potential: give its Gaussian prior as exactly one of priorCov (d x d) or priorScale (d sds)',
    );
  }
  if (o.priorScale !== undefined) {
    const s = Float64Array.from(o.priorScale);
    if (s.length !== d || !s.every((v) => v > 0 && Number.isFinite(v))) {
      throw new ArgumentError('priorScale', `EllipticalSlice: expected ${d} finite values > 0`);
    }
    const chol = new Float64Array(d * d);
    for (let i = 0; i < d; i++) chol[i * d + i] = s[i] as number;
    return { mean, chol };
  }
  const c = o.priorCov as Float64Array | number[] | number[][];
  const flat = Float64Array.from(
    Array.isArray(c) && Array.isArray(c[0]) ? (c as number[][]).flat() : (c as number[]),
  );
  if (flat.length !== d * d) {
    throw new ArgumentError(
      'priorCov',
      `EllipticalSlice: expected ${d} x ${d} values, got ${flat.length}`,
    );
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const a = flat[i * d + j] as number;
      const b = flat[j * d + i] as number;
      if (Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a))) {
        throw new ArgumentError('priorCov', 'EllipticalSlice: expected a symmetric matrix');
      }
    }
  }
  const chol = cholOf(flat, d);
  if (chol === undefined) {
    throw new ArgumentError('priorCov', 'EllipticalSlice: expected a positive-definite matrix');
  }
  return { mean, chol };
}

/** The Gaussian parameters of one site's prior: mean and covariance blocks, as a dense block. */
function siteGaussian(name: string, fn: Distribution | null, size: number): GaussianPrior {
  let base = fn;
  while (base instanceof Independent || base instanceof ExpandedDistribution) base = base.base;
  const refuse = (why: string): ArgumentError =>
    new ArgumentError(
      name,
      `EllipticalSlice: the latent site '${name}' ${why}: it samples latents with a fixed Gaussian prior (Normal, MultivariateNormal, MultivariateNormalDiag) only; use NUTS, or a Gibbs scheme, for this site`,
    );
  const mean = new Float64Array(size);
  const chol = new Float64Array(size * size);
  const full = fn === null ? [] : fn.batchShape.concat(fn.eventShape);
  if (fn !== null && full.reduce((x, y) => x * y, 1) !== size) {
    throw refuse(`has a prior of shape [${full.join(', ')}] for its ${size} values`);
  }
  if (base instanceof Normal || base instanceof MultivariateNormalDiag) {
    const sc = base instanceof Normal ? base.scale : base.scaleDiag;
    const shape = (fn as Distribution).batchShape.concat((fn as Distribution).eventShape);
    tf.tidy(() => {
      mean.set(tf.broadcastTo(base.loc, shape).dataSync());
      const s = tf.broadcastTo(sc, shape).dataSync();
      for (let i = 0; i < size; i++) chol[i * size + i] = s[i] as number;
    });
    return { mean, chol };
  }
  if (base instanceof MultivariateNormal) {
    const d = fn as Distribution;
    const shape = d.batchShape.concat(d.eventShape);
    const k = shape[shape.length - 1] as number;
    tf.tidy(() => {
      mean.set(tf.broadcastTo(base.loc, shape).dataSync());
      const l = tf.broadcastTo(base.scaleTril, [...shape, k]).dataSync();
      for (let b = 0; b < size / k; b++) {
        for (let i = 0; i < k; i++) {
          for (let j = 0; j <= i; j++) {
            chol[(b * k + i) * size + b * k + j] = l[b * k * k + i * k + j] as number;
          }
        }
      }
    });
    return { mean, chol };
  }
  throw refuse(`has a ${base === null ? 'missing' : base.constructor.name} prior`);
}

/** The model's Gaussian prior over the flat latent at position `z` (see the module docs). */
function priorAt(
  model: (...a: unknown[]) => unknown,
  args: unknown[],
  setup: ChainSetup,
  z: Float64Array,
): { prior: GaussianPrior; perSite: GaussianPrior[] } {
  const d = z.length;
  const c = setup.model;
  if (c === undefined) throw new ArgumentError('model', 'EllipticalSlice: no site layout');
  const values = c.constrain(z);
  const perSite: GaussianPrior[] = [];
  const mean = new Float64Array(d);
  const chol = new Float64Array(d * d);
  tf.tidy(() => {
    const data: Record<string, tf.Tensor> = {};
    for (const s of setup.sites) {
      const v = values.get(s.name);
      if (v !== undefined) data[s.name] = tf.tensor(v.values, v.shape);
    }
    const tr = trace(condition(model, data)).getTraceUntidied(...args).trace;
    const byName = new Map(tr.sampleSites().map((m) => [m.name, m]));
    for (const s of setup.sites) {
      const msg = byName.get(s.name);
      const shape = JSON.stringify(s.shape);
      if (msg === undefined || JSON.stringify(s.unconstrainedShape) !== shape) {
        throw new ArgumentError(
          s.name,
          `EllipticalSlice: the latent site '${s.name}' is not real-valued (its unconstrained shape differs): it samples latents with a fixed Gaussian prior only`,
        );
      }
      if (msg.scale !== 1 || msg.scaleTensor !== null || (msg.mask !== null && msg.mask !== true)) {
        throw new ArgumentError(
          s.name,
          `EllipticalSlice: the latent site '${s.name}' is scaled or masked: its density is not its Gaussian prior's`,
        );
      }
      const g = siteGaussian(s.name, msg.fn, s.size);
      perSite.push(g);
      mean.set(g.mean, s.offset);
      for (let i = 0; i < s.size; i++) {
        for (let j = 0; j <= i; j++) {
          chol[(s.offset + i) * d + s.offset + j] = g.chol[i * s.size + j] as number;
        }
      }
    }
  });
  return { prior: { mean, chol }, perSite };
}

/**
 * Elliptical slice sampling kernel for `MCMC` (see the module docs).
 *
 * @example
 * ```ts
 * // f ~ MVN(0, K) at fixed kernel hyperparameters, y ~ Bernoulli(sigmoid(f))
 * const mcmc = new MCMC(new EllipticalSlice(gpClassifier), { numSamples: 1000, warmupSteps: 200 });
 * await mcmc.run(x, y);
 * ```
 */
export class EllipticalSlice extends HamiltonianKernel {
  /** Most shrinking steps of a transition. */
  readonly maxIter: number;
  /** The prior (a flat potential's from the options; a model's read at each chain's start). */
  prior: GaussianPrior | undefined;
  private settingUp = false;

  /**
   * @param model a model function whose latents all have fixed Gaussian priors, or a flat
   *   {@link Potential} with `priorCov` or `priorScale` (and `priorMean`).
   * @param options see {@link EllipticalSliceOptions}.
   * @throws ArgumentError naming the option.
   */
  constructor(model: unknown, options: EllipticalSliceOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `EllipticalSlice: expected an object, got ${String(options)}`,
      );
    }
    checkOptionKeys(
      options,
      [
        'priorMean',
        'priorCov',
        'priorScale',
        'maxIter',
        'initStrategy',
        'compile',
        'maxPlateNesting',
      ],
      'EllipticalSlice',
    );
    const mi = options.maxIter ?? 10000;
    if (typeof mi !== 'number' || !Number.isInteger(mi) || mi < 1) {
      throw new ArgumentError(
        'maxIter',
        `EllipticalSlice: expected an integer >= 1, got ${String(mi)}`,
      );
    }
    super(model, { ...options, adaptStepSize: false, adaptMassMatrix: false });
    this.maxIter = mi;
    if (this.isPotential) {
      this.prior = flatPrior(options, this.potential.dim);
    } else {
      for (const k of ['priorMean', 'priorCov', 'priorScale'] as const) {
        if (options[k] !== undefined) {
          throw new ArgumentError(
            k,
            "EllipticalSlice: only for a flat Potential; a model's Gaussian prior is read from its sample sites",
          );
        }
      }
    }
  }

  /** A model's chain: the common setup, then its prior read and checked there. @internal */
  override ownSetup(rng: ChainRng, args: unknown[]): ChainSetup | undefined {
    if (this.isPotential || this.settingUp) return undefined;
    this.settingUp = true;
    let setup: ChainSetup;
    try {
      setup = setupChain(this, rng, args);
    } finally {
      this.settingUp = false;
    }
    const model = this.target as (...a: unknown[]) => unknown;
    const a = priorAt(model, args, setup, setup.z);
    const z2 = setup.z.map((v) => v + 0.5);
    const b = priorAt(model, args, setup, z2);
    setup.sites.forEach((s, k) => {
      const pa = a.perSite[k] as GaussianPrior;
      const pb = b.perSite[k] as GaussianPrior;
      const same = (x: Float64Array, y: Float64Array): boolean =>
        x.every((v, i) => Math.abs(v - (y[i] as number)) <= 1e-6 * Math.max(1, Math.abs(v)));
      if (!same(pa.mean, pb.mean) || !same(pa.chol, pb.chol)) {
        throw new ArgumentError(
          s.name,
          `EllipticalSlice: the prior of the latent site '${s.name}' depends on other latent sites (its Gaussian parameters change with them): it samples latents with a fixed Gaussian prior only`,
        );
      }
    });
    this.prior = a.prior;
    return setup;
  }

  *trajectory(
    z0: PhasePoint,
    _eps: number,
    _metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult> {
    const p = this.prior;
    if (p === undefined) {
      throw new ArgumentError(
        'kernel',
        'EllipticalSlice: the chain is not set up (run it through MCMC)',
      );
    }
    const d = z0.q.length;
    const f = z0.q;
    const logL = (x: Float64Array, u: number): number => -u + priorQuad(p, x);
    const logY = logL(f, z0.potential) + Math.log(rng.uniform());
    const n = rng.normals(new Float64Array(d));
    const nu = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += (p.chol[i * d + k] as number) * (n[k] as number);
      nu[i] = s;
    }
    let theta = 2 * Math.PI * rng.uniform();
    let lo = theta - 2 * Math.PI;
    let hi = theta;
    const zeroP = new Float64Array(d);
    for (let it = 1; it <= this.maxIter; it++) {
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      const x = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        const m = p.mean[i] as number;
        x[i] = m + ((f[i] as number) - m) * c + (nu[i] as number) * s;
      }
      const { value, grad } = yield x;
      if (Number.isFinite(value) && logL(x, value) > logY) {
        return {
          point: { q: x, p: zeroP, potential: value, grad },
          acceptStat: 1,
          numSteps: it,
          treeDepth: 0,
          divergent: false,
        };
      }
      if (theta < 0) lo = theta;
      else hi = theta;
      theta = lo + rng.uniform() * (hi - lo);
    }
    return {
      point: { ...z0, p: zeroP },
      acceptStat: 0,
      numSteps: this.maxIter,
      treeDepth: 0,
      divergent: false,
    };
  }
}
