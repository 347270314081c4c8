/**
 * Shared machinery of the autoguides: the prototype trace of the model (run once, hidden from
 * outer handlers by `block`), giving for every latent site its name, shape, support and the
 * bijection from the unconstrained reals onto that support (`bijectTo(site.fn.support)`, as
 * Pyro's `biject_to`). Autoguides put their Gaussian (or flow) in the unconstrained space and
 * push it forward through these bijectors.
 *
 * As Pyro's `AutoGuide._setup_prototype` (the model run under `InitMessenger(init_loc_fn)`), each
 * continuous latent site takes its initial value as it is reached, so the later sites (their
 * parameters, shapes and supports) are those at the initial point, not at a prior draw.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import type { Constraint } from '../../constraints/constraints.js';
import { bijectTo } from '../../distributions/transform_to.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError, NotDefinedError } from '../../utils/errors.js';
import { block } from '../handlers/block.js';
import { trace } from '../handlers/trace.js';
import { Messenger, type Fn } from '../messenger.js';
import type { Message, PlateFrame } from '../runtime.js';
import { withUndrawableFallback } from '../default_process.js';
import { keepCreated, lastTensorId } from '../keep.js';
import {
  initSiteValue,
  resolveInit,
  UNDRAWABLE_RADIUS,
  type InitSite,
  type InitStrategy,
  type ResolvedInit,
} from '../init_strategy.js';
import { makeRng } from '../../utils/seed.js';
import type { Trace } from '../trace.js';

/** A latent site of the model as seen by an autoguide. */
export interface LatentSpec {
  name: string;
  /** Shape of the site's (constrained) value. */
  shape: number[];
  /** Shape of its unconstrained counterpart (`bijector.inverseShape(shape)`). */
  unconstrainedShape: number[];
  /** Number of elements of the unconstrained value. */
  size: number;
  /** The site's support. */
  support: Constraint;
  /** Maps unconstrained reals onto the support (owned by the guide). */
  bijector: Bijector;
  /** Event rank of the site's distribution. */
  eventDim: number;
  /** Plates around the site in the model. */
  cond: PlateFrame[];
  /**
   * The subsampled plates around the site (per-site guides only): the guide's parameters have
   * the plate's full size at `axis` (of the value and of its unconstrained counterpart) and each
   * run gathers the members the model's plate visits. `shape`/`unconstrainedShape` are full.
   */
  subsampled: SubsampledPlate[];
  /** The initial unconstrained value (a new tensor, kept until the guide's params exist). */
  init: tf.Tensor;
}

/** A subsampled plate around a latent site, as a per-site autoguide sees it. */
export interface SubsampledPlate {
  /** The plate's name (also the name of its subsample site). */
  name: string;
  /** Full size of the plate. */
  size: number;
  /** Members visited per run. */
  subsampleSize: number;
  /** The plate's axis in the site's value (counted from the left). */
  axis: number;
}

/** `t` grown from `k` to `size` members along `axis` by repeating its members cyclically. */
function tileAlong(t: tf.Tensor, axis: number, k: number, size: number): tf.Tensor {
  const idx = tf.tensor1d(
    Array.from({ length: size }, (_, i) => i % k),
    'int32',
  );
  return tf.gather(t, idx, axis);
}

/**
 * How to initialize the guide's locations (Pyro's `init_loc_fn`): an init strategy, the same as
 * MCMC's (see `init_strategy.ts`): `'feasible'`/`initToFeasible()` (zeros in the unconstrained
 * space, i.e. a central point of each support), `'sample'`/`initToSample()` (a prior draw),
 * `'median'`/`initToMedian(n)` (the median of `n = 15` prior draws), `'mean'`/`initToMean(n)`
 * (the prior mean, or that median where the mean is undefined, infinite or off the support),
 * `'uniform'`/`initToUniform(r)`, `initToValue(values)`; or a function giving a constrained value
 * of the site's shape from its prior draw (made at the earlier sites' initial values).
 */
export type InitLoc = InitStrategy | ((name: string, priorDraw: tf.Tensor) => tf.Tensor);

/** Whether a site is left to the model's enumeration (autoguides skip it). */
function isEnumSite(infer: Record<string, unknown>): boolean {
  return infer.enumerate === 'parallel';
}

/**
 * A prior draw of a site, or `undefined` for a distribution that cannot be drawn (an
 * `ImproperUniform` flat prior, e.g. the auxiliary sites of `CircularReparam` and `SplitReparam`).
 */
function priorDraw(fn: Distribution, seed: number | undefined): tf.Tensor | undefined {
  try {
    return fn.hasRsample ? fn.rsample([], seed) : fn.sample([], seed);
  } catch (e) {
    if (!(e instanceof NotDefinedError)) throw e;
    return undefined;
  }
}

/** `bijectTo(support)(0)` at the distribution's batch and event shapes. */
function feasiblePoint(fn: Distribution): tf.Tensor {
  const b = bijectTo(fn.support);
  return b.forward(tf.zeros(b.inverseShape([...fn.batchShape, ...fn.eventShape])));
}

/**
 * Gives each continuous latent site of the prototype run its initial (constrained) value as the
 * site is reached (Pyro's `InitMessenger`). The site's prior draw is made first, as the default
 * rule would: it is the value of `initToSample()`, what a user `initLoc` function receives, and it
 * moves the global seed stream as the prior-draw prototype did. Enumerated and discrete sites keep
 * their prior draw (the latter are refused, naming the site, after the run).
 */
/**
 * The bijection `T: R^d -> support` of a latent site, or an `ArgumentError` naming the site when
 * its support has none (e.g. the sphere of a ProjectedNormal, which Pyro reparameterizes instead).
 */
function siteBijector(name: string, support: Constraint): Bijector {
  try {
    return bijectTo(support);
  } catch (e) {
    throw new ArgumentError(
      name,
      `site '${name}': an autoguide needs a bijection from the reals onto its support ` +
        `${support.name}, but ${(e as Error).message}`,
    );
  }
}

class PrototypeInitMessenger extends Messenger {
  constructor(
    private readonly initLoc: InitLoc,
    private readonly strategy: ResolvedInit | undefined,
    private readonly rng: () => number,
  ) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.isObserved || msg.value !== null || msg.fn === null) return;
    const fn = msg.fn;
    if (isEnumSite(msg.infer) || fn.support.isDiscrete) return;
    const bijector = siteBijector(msg.name, fn.support);
    const drawn = priorDraw(fn, msg.seed);
    const shape = drawn === undefined ? [...fn.batchShape, ...fn.eventShape] : [...drawn.shape];
    const site = (seed: number): InitSite => ({
      name: msg.name,
      fn,
      bijector,
      shape,
      seed,
      uniform: this.rng,
    });
    // NumPyro's fallback for a site that cannot be drawn: T(u), u_i ~ Uniform(-2, 2) (made only
    // when needed, so that initToFeasible moves no seed stream)
    const draw = (): tf.Tensor =>
      drawn ?? initSiteValue({ kind: 'uniform', radius: UNDRAWABLE_RADIUS }, site(0), 'initLoc');
    let x: tf.Tensor;
    if (typeof this.initLoc === 'function') {
      x = this.initLoc(msg.name, draw());
      if (
        !(x instanceof tf.Tensor) ||
        x.rank !== shape.length ||
        !x.shape.every((d, i) => d === shape[i])
      ) {
        throw new ArgumentError(
          'initLoc',
          `site '${msg.name}': expected an initial value of shape [${shape.join(',')}], got ` +
            (x instanceof tf.Tensor ? `[${x.shape.join(',')}]` : typeof x),
        );
      }
    } else if (this.strategy === undefined || this.strategy.kind === 'sample') {
      x = draw();
    } else {
      // feasible draws nothing: the seed stream is left as the prior draws leave it
      const seed = this.strategy.kind === 'feasible' ? 0 : Math.floor(this.rng() * 2147483647);
      x = initSiteValue(this.strategy, site(seed), 'initLoc');
    }
    bijector.dispose();
    msg.value = tf.cast(x, 'float32');
  }
}

/**
 * The handler that sets each continuous latent site to its initial value under `initLoc` as it
 * is reached (Pyro's `InitMessenger`), shared with the easy guides' prototype. The global seed
 * stream moves only for strategies that draw.
 * @internal
 */
export function initMessenger(initLoc: InitLoc): Messenger {
  const strategy =
    typeof initLoc === 'function' ? undefined : resolveInit(initLoc, 'initLoc', undefined);
  let rngFn: (() => number) | undefined;
  const rng = (): number => (rngFn ??= makeRng())();
  return new PrototypeInitMessenger(initLoc, strategy, rng);
}

/** The prototype of a model: its kept trace and the latent specs. */
export interface Prototype {
  trace: Trace;
  specs: LatentSpec[];
}

/**
 * Run `model` once (blocked), each continuous latent site set to its initial value under
 * `initLoc` as it is reached (Pyro's `_setup_prototype`), and describe those sites. Discrete
 * latent sites are an error naming the site unless marked for enumeration. Free the result with
 * {@link disposePrototype}.
 */
export function latentSpecs<A extends unknown[]>(
  model: Fn<A, unknown>,
  args: A,
  initLoc: InitLoc,
  allowSubsample = false,
): Prototype {
  const strategy =
    typeof initLoc === 'function' ? undefined : resolveInit(initLoc, 'initLoc', undefined);
  // its random numbers made on first use: the global seed stream moves only for strategies
  // that draw
  const init = initMessenger(initLoc);
  const atInit = (...a: A): unknown => init.run(() => model(...a));
  // sites hidden from the guide by a block that cannot be drawn start at the feasible point too
  const tr = withUndrawableFallback(feasiblePoint, () =>
    block(() => trace(atInit).getTrace(...args))(),
  );
  const specs: LatentSpec[] = [];
  try {
    for (const s of tr.latentSites()) {
      if (isEnumSite(s.infer)) continue;
      const fn = s.fn;
      const v = s.value;
      if (fn === null || v === null) continue;
      const batchRank = v.shape.length - fn.eventShape.length;
      const subsampled: SubsampledPlate[] = s.cond
        .filter((f) => f.subsampleSize !== f.size)
        .map((f) => ({
          name: f.name,
          size: f.size,
          subsampleSize: f.subsampleSize,
          axis: batchRank + f.dim,
        }));
      if (subsampled.length > 0 && !allowSubsample) {
        throw new ArgumentError(
          s.name,
          `latent site '${s.name}' is inside a subsampled plate; the joint autoguides support ` +
            'only latents of full plates (use AutoNormal or AutoDelta, which subsample local ' +
            'latents as Pyro does, or write a guide with the same plate)',
        );
      }
      const given = subsampled.find((p) => tr.get(p.name)?.type !== 'subsample');
      if (given !== undefined) {
        throw new ArgumentError(
          s.name,
          `latent site '${s.name}' is inside plate '${given.name}' subsampled with indices given ` +
            'by the model, which a guide cannot know: give the plate subsampleSize instead (the ' +
            'guide draws the indices and the model replays them), or write the guide',
        );
      }
      const bad = subsampled.find((p) => p.axis < 0 || v.shape[p.axis] !== p.subsampleSize);
      if (bad !== undefined) {
        throw new ArgumentError(
          s.name,
          `latent site '${s.name}' does not span the subsampled plate '${bad.name}' (shape ` +
            `[${v.shape.join(',')}], expected ${bad.subsampleSize} at dim ${bad.axis - batchRank})`,
        );
      }
      const fullShape = [...v.shape];
      for (const p of subsampled) fullShape[p.axis] = p.size;
      const support = fn.support;
      if (support.isDiscrete) {
        throw new ArgumentError(
          s.name,
          `latent site '${s.name}' has the discrete support ${support.name}: autoguides cover ` +
            "continuous sites; mark it {infer: {enumerate: 'parallel'}} and use TraceEnumELBO, " +
            'or write its guide by hand',
        );
      }
      const start = lastTensorId();
      const bijector = bijectTo(support);
      // the guide may be set up inside a caller's tf.tidy: its bijectors outlive that scope
      keepCreated(bijector, start);
      const unconstrainedShape = bijector.inverseShape(fullShape);
      const subShape = bijector.inverseShape(v.shape);
      const init = tf.tidy(() => {
        if (strategy?.kind === 'feasible') return tf.zeros(unconstrainedShape);
        // the site's value is its initial value (set as the site was reached)
        let u = bijector.inverse(tf.cast(v, 'float32'));
        if (u.rank !== subShape.length || !u.shape.every((d, i) => d === subShape[i])) {
          throw new ArgumentError(
            'initLoc',
            `site '${s.name}': expected an initial value of shape [${v.shape.join(',')}]`,
          );
        }
        // the visited members' initial values, repeated over the full plate
        for (const p of subsampled) u = tileAlong(u, p.axis, p.subsampleSize, p.size);
        return u;
      });
      specs.push({
        name: s.name,
        shape: fullShape,
        unconstrainedShape,
        size: unconstrainedShape.reduce((a, b) => a * b, 1),
        support,
        bijector,
        eventDim: fn.eventShape.length,
        cond: [...s.cond],
        subsampled,
        init,
      });
    }
  } catch (e) {
    disposePrototype({ trace: tr, specs });
    throw e;
  }
  return { trace: tr, specs };
}

/** Free the tensors of a prototype (trace, initial values, bijectors). */
export function disposePrototype(p: Prototype): void {
  for (const s of p.specs) {
    if (!s.init.isDisposed) s.init.dispose();
    s.bijector.dispose();
  }
  p.trace.dispose();
}
