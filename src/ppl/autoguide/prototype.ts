/**
 * Shared machinery of the autoguides: the prototype trace of the model (run once, hidden from
 * outer handlers by `block`), giving for every latent site its name, shape, support and the
 * bijection from the unconstrained reals onto that support (`bijectTo(site.fn.support)`, as
 * Pyro's `biject_to`). Autoguides put their Gaussian (or flow) in the unconstrained space and
 * push it forward through these bijectors.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import type { Constraint } from '../../constraints/constraints.js';
import { bijectTo } from '../../distributions/transform_to.js';
import { ArgumentError } from '../../utils/errors.js';
import { block } from '../handlers/block.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import type { PlateFrame } from '../runtime.js';
import { keepCreated, lastTensorId } from '../keep.js';
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
  /** The initial unconstrained value (a new tensor, kept until the guide's params exist). */
  init: tf.Tensor;
}

/**
 * How to initialize the guide's locations: `'feasible'` (zeros in the unconstrained space, i.e.
 * a central point of each support), `'sample'` (a prior draw), `'median'`/`'mean'` of the prior
 * (falling back to a draw where undefined), or a function giving a constrained value.
 */
export type InitLoc =
  'feasible' | 'sample' | 'median' | 'mean' | ((name: string, priorDraw: tf.Tensor) => tf.Tensor);

/** Whether a site is left to the model's enumeration (autoguides skip it). */
function isEnumSite(infer: Record<string, unknown>): boolean {
  return infer.enumerate === 'parallel';
}

/** The prototype of a model: its kept trace and the latent specs. */
export interface Prototype {
  trace: Trace;
  specs: LatentSpec[];
}

/**
 * Run `model` once (blocked) and describe its continuous latent sites. Discrete latent sites
 * are an error naming the site unless marked for enumeration. Free the result with
 * {@link disposePrototype}.
 */
export function latentSpecs<A extends unknown[]>(
  model: Fn<A, unknown>,
  args: A,
  initLoc: InitLoc,
): Prototype {
  const tr = block(() => trace(model).getTrace(...args))();
  const specs: LatentSpec[] = [];
  try {
    for (const s of tr.latentSites()) {
      if (isEnumSite(s.infer)) continue;
      const fn = s.fn;
      const v = s.value;
      if (fn === null || v === null) continue;
      if (s.cond.some((f) => f.subsampleSize !== f.size)) {
        throw new ArgumentError(
          s.name,
          `latent site '${s.name}' is inside a subsampled plate; autoguides support only ` +
            'latents of full plates (write a guide with the same plate)',
        );
      }
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
      const unconstrainedShape = bijector.inverseShape(v.shape);
      const init = tf.tidy(() => {
        if (initLoc === 'feasible') return tf.zeros(unconstrainedShape);
        let x: tf.Tensor = v;
        if (initLoc === 'median' || initLoc === 'mean') {
          try {
            const m = initLoc === 'mean' ? fn.mean() : fn.mode();
            x = tf.add(m, tf.zerosLike(v));
          } catch {
            x = v;
          }
        } else if (typeof initLoc === 'function') {
          x = initLoc(s.name, v);
        }
        const u = bijector.inverse(tf.cast(x, 'float32'));
        if (!u.shape.every((d, i) => d === unconstrainedShape[i])) {
          throw new ArgumentError(
            'initLoc',
            `site '${s.name}': expected an initial value of shape [${v.shape.join(',')}]`,
          );
        }
        return u;
      });
      specs.push({
        name: s.name,
        shape: v.shape,
        unconstrainedShape,
        size: unconstrainedShape.reduce((a, b) => a * b, 1),
        support,
        bijector,
        eventDim: fn.eventShape.length,
        cond: [...s.cond],
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
