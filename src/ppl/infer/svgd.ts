/**
 * Stein variational gradient descent (Pyro's `SVGD`; Liu & Wang 2016): `N` particles
 * `x_1..x_N` in the unconstrained space of a model's continuous latents move along the direction
 * that most decreases `KL(q ‖ p)` in the unit ball of the kernel's Hilbert space,
 *
 * $$\phi(x) = \frac1N \sum_{j=1}^{N}\left[k(x_j, x)\,\nabla_{x_j}\log \tilde p(x_j)
 *   + \nabla_{x_j} k(x_j, x)\right],\qquad x_i \leftarrow x_i + \epsilon\,\phi(x_i),$$
 *
 * the first term pulling the particles to high density, the second pushing them apart.
 * `log p̃(x) = log p(data, T(x)) + log|det J_T(x)|` is the model's log joint at the constrained
 * latents `T(x)` (`T` = `bijectTo(site.fn.support)` per site, as Pyro's `biject_to`) with the
 * log-Jacobian of `T`, so constrained sites move in the unconstrained space and stay in their
 * supports. The particles form a plate (`svgd_particles`, at dim `-maxPlateNesting - 1`): one
 * vectorized run of the model gives every `∇ log p̃(x_j)`.
 *
 * `mode: 'multivariate'` is the kernel of [1], `k(x, y) = Π_d k_d(x_d, y_d)`, one weight per
 * particle pair; `mode: 'univariate'` (Pyro's default) applies the per-coordinate kernels
 * `k_d` coordinate by coordinate (the univariate test functions of Singhal et al.'s kernelized
 * complete conditional Stein discrepancy):
 *
 * $$\phi_d(x) = \frac1N \sum_j \left[k_d(x_{j,d}, x_d)\,\partial_{j,d}\log\tilde p(x_j)
 *   + \partial_{x_{j,d}} k_d(x_{j,d}, x_d)\right].$$
 *
 * The optimizer is given `-φ` as the gradient of the particles (Pyro's), so `tf.train.sgd(ε)` is
 * plain SVGD and Adam/Adagrad adapt the step per coordinate. The particles are the parameter
 * `svgd_particles` of the param store, `[N, D]` unconstrained (as Pyro's `_SVGDGuide`, an
 * `AutoContinuous` of point masses over the particles, set up at the first `step` from
 * `initLoc`; an entry of the same shape already in the store is continued, as Pyro's
 * `pyro.param`: clear the store to start afresh); a model's own `param` sites are trained by the
 * same optimizer on the plain gradient of the loss.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { restoreSeedState, seedState } from '../../utils/seed.js';
import { withTapeCleanup } from '../../utils/tape.js';
import { block } from '../handlers/block.js';
import { plate } from '../handlers/plate.js';
import { substitute } from '../handlers/substitute.js';
import { trace } from '../handlers/trace.js';
import { getParamStore } from '../param_store.js';
import {
  disposePrototype,
  latentSpecs,
  type InitLoc,
  type LatentSpec,
} from '../autoguide/prototype.js';
import { asFn, type Callable } from './elbo.js';
import { inParticlePlateRun } from './particle_run.js';
import { SteinKernel } from './stein_kernels.js';

/** Name of the param-store entry holding the particles, `[N, D]` unconstrained. */
export const SVGD_PARTICLES = 'svgd_particles';

/** Options of {@link SVGD}. */
export interface SVGDOptions {
  /** Number of particles `N >= 2` (required). */
  numParticles: number;
  /**
   * The largest number of nested plates in the model (Pyro's `max_plate_nesting`); the particles
   * plate sits at dim `-maxPlateNesting - 1`. Default: found by one trial run of the model.
   */
  maxPlateNesting?: number;
  /** `'univariate'` (default, as Pyro) or `'multivariate'` kernel use (see {@link SVGD}). */
  mode?: 'univariate' | 'multivariate';
  /** How the particles start (default `'sample'`: prior draws, Pyro's `init_to_sample`). */
  initLoc?: InitLoc;
}

/** A latent site's slot in the particles' columns. */
interface SiteSlot {
  spec: LatentSpec;
  /** First column of the site. */
  offset: number;
  /** Number of columns `D_s` (unconstrained elements per particle). */
  width: number;
}

/**
 * SVGD over a model's continuous latent sites.
 *
 * @example
 * ```ts
 * const svgd = new SVGD(model, new RBFSteinKernel(), tf.train.adam(0.1), { numParticles: 50 });
 * for (let i = 0; i < 500; i++) svgd.step(data);
 * const { mu } = svgd.getParticles(); // [50, ...mu's shape], constrained
 * ```
 */
export class SVGD<A extends unknown[]> {
  readonly numParticles: number;
  readonly mode: 'univariate' | 'multivariate';
  /** Steps taken. */
  stepCount = 0;
  /**
   * After each step, the mean squared SVGD gradient per site (Pyro's return value of `step`),
   * a measure of convergence.
   */
  squaredGradients: Record<string, number> = {};

  private maxPlateNesting: number | undefined;
  private slots: SiteSlot[] | undefined;
  private modelParams: string[] = [];
  private readonly vectorized: (...args: A) => unknown;
  private readonly initLoc: InitLoc;

  /**
   * @param model the model, vectorizable over a plate of particles left of its own plates; its
   *   latent sites must be continuous.
   * @param kernel a {@link SteinKernel} ({@link RBFSteinKernel}, {@link IMQSteinKernel}).
   * @param optimizer a tfjs optimizer, e.g. `tf.train.adam(0.1)`.
   * @param options `numParticles` (required), `maxPlateNesting`, `mode`, `initLoc`.
   * @throws ArgumentError naming `model`, `kernel`, `optimizer`, `options` or the option.
   */
  constructor(
    readonly model: Callable<A>,
    readonly kernel: SteinKernel,
    readonly optimizer: tf.Optimizer,
    options: SVGDOptions,
  ) {
    const callable =
      typeof model === 'function' ||
      (model !== null &&
        typeof model === 'object' &&
        typeof (model as { call?: unknown }).call === 'function');
    if (!callable) {
      throw new ArgumentError('model', 'expected a function or an object with a call method');
    }
    if (kernel === null || typeof kernel !== 'object' || !(kernel instanceof SteinKernel)) {
      throw new ArgumentError(
        'kernel',
        'expected a SteinKernel, e.g. new RBFSteinKernel() or new IMQSteinKernel()',
      );
    }
    if (
      optimizer === null ||
      typeof optimizer !== 'object' ||
      !(optimizer instanceof tf.Optimizer)
    ) {
      throw new ArgumentError('optimizer', 'expected a tf.Optimizer, e.g. tf.train.adam(0.1)');
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `expected an object with numParticles, got ${String(options)}`,
      );
    }
    checkOptionKeys(options, ['numParticles', 'maxPlateNesting', 'mode', 'initLoc'], 'SVGD');
    const n = options.numParticles;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) {
      throw new ArgumentError('numParticles', `expected an integer >= 2, got ${String(n)}`);
    }
    const mpn = options.maxPlateNesting;
    if (mpn !== undefined && (typeof mpn !== 'number' || !Number.isInteger(mpn) || mpn < 0)) {
      throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(mpn)}`);
    }
    const mode = options.mode ?? 'univariate';
    if (mode !== 'univariate' && mode !== 'multivariate') {
      throw new ArgumentError(
        'mode',
        `expected 'univariate' or 'multivariate', got ${String(mode as unknown)}`,
      );
    }
    const initLoc = options.initLoc ?? 'sample';
    if (
      typeof initLoc !== 'function' &&
      typeof initLoc !== 'string' &&
      (initLoc === null || typeof initLoc !== 'object')
    ) {
      throw new ArgumentError('initLoc', `expected an init strategy, got ${String(initLoc)}`);
    }
    this.numParticles = n;
    this.maxPlateNesting = mpn;
    this.mode = mode;
    this.initLoc = initLoc;
    const f = asFn(model);
    this.vectorized = (...args: A): unknown =>
      plate(SVGD_PARTICLES, n, { dim: -(this.maxPlateNesting ?? 0) - 1 }, () => f(...args));
  }

  /** Set up the sites and the particles on the first step (Pyro's lazy `_setup_prototype`). */
  private setup(args: A): SiteSlot[] {
    if (this.slots !== undefined) return this.slots;
    this.maxPlateNesting ??= plateNesting(asFn(this.model), args);
    const n = this.numParticles;
    const dim = -this.maxPlateNesting - 1;
    const proto = inParticlePlateRun('model', n, dim, () =>
      latentSpecs(this.vectorized, args, this.initLoc),
    );
    try {
      if (proto.specs.length === 0) {
        throw new ArgumentError('model', 'SVGD needs at least one continuous latent site');
      }
      const slots: SiteSlot[] = [];
      let offset = 0;
      for (const spec of proto.specs) {
        if (spec.unconstrainedShape[0] !== n || spec.shape[0] !== n) {
          throw new ArgumentError(
            'maxPlateNesting',
            `site '${spec.name}' has shape [${spec.shape.join(',')}], not ${n} particles first: ` +
              `the particles plate is at dim ${-this.maxPlateNesting - 1}; give the model's ` +
              'largest number of nested plates (and write the model to broadcast over dims ' +
              'left of its plates)',
          );
        }
        const width = spec.size / n;
        slots.push({ spec, offset, width });
        offset += width;
      }
      const store = getParamStore();
      const exists =
        store.has(SVGD_PARTICLES) &&
        store.unconstrained(SVGD_PARTICLES).shape.join(',') === `${n},${offset}`;
      if (!exists) {
        const init = tf.tidy(() =>
          tf.concat(
            slots.map((s) => tf.reshape(s.spec.init, [n, s.width])),
            1,
          ),
        );
        store.set(SVGD_PARTICLES, init);
        init.dispose();
      }
      this.modelParams = [...new Set(proto.trace.paramSites().map((s) => s.name))].filter(
        (name) => name !== SVGD_PARTICLES,
      );
      for (const s of proto.specs) s.init.dispose();
      proto.trace.dispose();
      this.slots = slots;
      return slots;
    } catch (e) {
      disposePrototype(proto);
      throw e;
    }
  }

  /** The constrained site values of particles `x` `[N, D]` and `Σ log|det J|` (untidied). */
  private constrain(
    x: tf.Tensor,
    slots: SiteSlot[],
  ): {
    values: Record<string, tf.Tensor>;
    logDet: tf.Tensor;
  } {
    const values: Record<string, tf.Tensor> = {};
    const lds: tf.Tensor[] = [];
    slots.forEach((s) => {
      const col = slots.length === 1 ? x : tf.slice(x, [0, s.offset], [-1, s.width]);
      const u = tf.reshape(col, s.spec.unconstrainedShape);
      const { y, logDet } = s.spec.bijector.forwardAndLogDet(u);
      values[s.spec.name] = y;
      lds.push(tf.sum(logDet));
    });
    return { values, logDet: tf.addN(lds) };
  }

  /** `-(Σ_i log p̃(x_i))` of the current particles (untidied: call inside a tidy or a grad). */
  private lossOf(args: A, slots: SiteSlot[]): tf.Scalar {
    const x = getParamStore().get(SVGD_PARTICLES);
    const { values, logDet } = this.constrain(x, slots);
    const dim = -(this.maxPlateNesting ?? 0) - 1;
    const tr = inParticlePlateRun(
      'model',
      this.numParticles,
      dim,
      () => trace(substitute(this.vectorized, values)).getTraceUntidied(...args).trace,
    );
    for (const s of tr.latentSites()) {
      if (!(s.name in values)) {
        throw new ArgumentError(
          s.name,
          `latent site '${s.name}' is not one of the particles' sites: SVGD needs the same ` +
            'continuous, non-enumerated latent sites at every step',
        );
      }
    }
    return tf.neg(tf.add(tr.logProbSum(), logDet)) as tf.Scalar;
  }

  /**
   * One SVGD step: `∇ log p̃` at every particle from one vectorized run, the kernel terms, the
   * optimizer step with `-φ` as the particles' gradient. The particles and the model's params are
   * set up on the first call.
   * @returns the loss `-Σ_i log p̃(x_i)` before the step (Pyro's `Trace_ELBO` loss of the model
   *   in the particles plate); the per-site mean squared SVGD gradients are in
   *   {@link squaredGradients}.
   */
  step(...args: A): number {
    const slots = this.setup(args);
    const store = getParamStore();
    const n = this.numParticles;
    const xVar = store.unconstrained(SVGD_PARTICLES);
    const vars = [xVar, ...store.variables(this.modelParams.filter((p) => store.has(p)))];
    const { value, grads } = withTapeCleanup(() =>
      tf.variableGrads(() => this.lossOf(args, slots), vars),
    );
    let direction: tf.Tensor | undefined;
    try {
      direction = tf.tidy(() => {
        const g = grads[xVar.name] as tf.Tensor;
        const { logKernel, gradTerm } = this.kernel.logKernelAndGrad(xVar);
        let attractive: tf.Tensor;
        let repulsive: tf.Tensor;
        if (this.mode === 'multivariate') {
          const k = tf.exp(tf.sum(logKernel, -1));
          attractive = tf.matMul(k, g);
          repulsive = tf.sum(tf.mul(tf.expandDims(k, -1), gradTerm), 1);
        } else {
          const k = tf.exp(logKernel);
          attractive = tf.sum(tf.mul(k, tf.expandDims(g, 0)), 1);
          repulsive = tf.sum(tf.mul(k, gradTerm), 1);
        }
        return tf.div(tf.add(attractive, repulsive), n);
      });
      const sq = tf.tidy(() =>
        tf.stack(
          slots.map((s) =>
            tf.mean(tf.square(tf.slice(direction as tf.Tensor, [0, s.offset], [-1, s.width]))),
          ),
        ),
      );
      const sqv = sq.dataSync();
      sq.dispose();
      this.squaredGradients = Object.fromEntries(
        slots.map((s, i) => [s.spec.name, sqv[i] as number]),
      );
      const applied: tf.NamedTensorMap = { ...grads, [xVar.name]: direction };
      this.optimizer.applyGradients(applied);
      const loss = value.dataSync()[0] as number;
      this.stepCount++;
      return loss;
    } finally {
      value.dispose();
      tf.dispose(grads);
      direction?.dispose();
    }
  }

  /**
   * The particles of each latent site, constrained (Pyro's `get_named_particles`):
   * `{name: [N, ...siteShape]}` (new tensors: dispose them).
   * @throws ArgumentError naming `step` before the first step (the sites are not known yet).
   */
  getParticles(): Record<string, tf.Tensor> {
    const slots = this.slots;
    if (slots === undefined) {
      throw new ArgumentError('step', 'no particles yet: call step(...args) once first');
    }
    const store = getParamStore();
    if (!store.has(SVGD_PARTICLES)) {
      throw new ArgumentError(
        SVGD_PARTICLES,
        'the particles are no longer in the param store (was it cleared?)',
      );
    }
    return tf.tidy(() => {
      const { values } = this.constrain(store.unconstrained(SVGD_PARTICLES), slots);
      // never the store's variable itself (an identity bijector of a lone [N, D] site)
      return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.clone(v)]));
    });
  }

  /** Pyro's name of {@link getParticles}. */
  getNamedParticles(): Record<string, tf.Tensor> {
    return this.getParticles();
  }

  /** The unconstrained particles `[N, D]`, sites in order (a new tensor). */
  getUnconstrainedParticles(): tf.Tensor2D {
    if (this.slots === undefined) {
      throw new ArgumentError('step', 'no particles yet: call step(...args) once first');
    }
    return getParamStore().unconstrained(SVGD_PARTICLES).clone() as tf.Tensor2D;
  }

  /** Free the sites' bijectors (the particles stay in the param store). */
  dispose(): void {
    for (const s of this.slots ?? []) s.spec.bijector.dispose();
    this.slots = undefined;
  }
}

/** The largest `-dim` of any plate around a site of one (blocked) run of `model`. */
function plateNesting<A extends unknown[]>(model: (...args: A) => unknown, args: A): number {
  let n = 0;
  // the trial run leaves the seed stream as it found it: the same particles with or without it
  const seed = seedState();
  try {
    tf.tidy(() => {
      const tr = block(() => trace(model).getTraceUntidied(...args).trace)();
      for (const s of tr.sites()) for (const f of s.cond) n = Math.max(n, -f.dim);
    });
  } finally {
    restoreSeedState(seed);
  }
  return n;
}
