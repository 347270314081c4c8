/**
 * The model's prototype as an {@link EasyGuide} sees it (Pyro's `_setup_prototype` of
 * `EasyGuide`): the model run once, blocked, and its continuous, non-enumerated latent sites
 * kept with `T = bijectTo(support)` (from the unconstrained reals onto the support), their
 * shapes, event ranks and plates.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../../bijectors/bijector.js';
import type { Constraint } from '../../../constraints/constraints.js';
import { bijectTo } from '../../../distributions/transform_to.js';
import { block } from '../../handlers/block.js';
import { initMessenger, type InitLoc } from '../../autoguide/prototype.js';
import { trace } from '../../handlers/trace.js';
import { keepCreated, lastTensorId } from '../../keep.js';
import type { Fn } from '../../messenger.js';
import type { PlateFrame } from '../../runtime.js';
import type { Trace } from '../../trace.js';

/** A continuous latent site of the model's prototype trace, as the easy guide sees it. */
export interface PrototypeSite {
  /** The site's name. */
  name: string;
  /** Shape of its value in the prototype run (a subsampled plate at its subsample size). */
  shape: number[];
  /** Its event rank. */
  eventDim: number;
  /** Its support. */
  support: Constraint;
  /** `bijectTo(support)`, from the unconstrained reals onto the support. */
  bijector: Bijector;
  /** The plates around it in the model. */
  cond: PlateFrame[];
  /** Its value in the prototype run (a prior draw). */
  value: tf.Tensor;
}

/** The prototype trace and its continuous latent sites by name. */
export interface Prototype {
  /** The model's blocked trace. */
  trace: Trace;
  /** Its continuous latent sites, in model order. */
  sites: Map<string, PrototypeSite>;
  /**
   * The continuous latent sites whose support no bijection from the reals covers (a
   * `ProjectedNormal`'s sphere), with the reason: left to the user's own guide statements, an
   * error naming the site when `mapEstimate` asks for one.
   */
  unsupported: Map<string, string>;
}

/**
 * Run `model(...args)` once, blocked, and keep its continuous latent sites, each with
 * `bijectTo(support)` (freed, with the trace, if making one throws). With `init`, each continuous
 * latent site is set to its initial value under it as it is reached (Pyro's `InitMessenger` of
 * `EasyGuide.init`); without, the sites keep their prior draws.
 * @internal
 */
export function buildPrototype<A extends unknown[]>(
  model: Fn<A, unknown>,
  args: A,
  init?: InitLoc,
): Prototype {
  const atInit =
    init === undefined
      ? model
      : (...a: A): unknown => {
          const m = initMessenger(init);
          return m.run(() => model(...a));
        };
  const tr = block(() => trace(atInit).getTrace(...args))();
  const sites = new Map<string, PrototypeSite>();
  const unsupported = new Map<string, string>();
  try {
    for (const s of tr.latentSites()) {
      const fn = s.fn;
      const v = s.value;
      if (fn === null || v === null || fn.support.isDiscrete) continue;
      if (s.infer.enumerate === 'parallel') continue;
      const start = lastTensorId();
      let bijector: Bijector;
      try {
        bijector = bijectTo(fn.support);
      } catch (e) {
        unsupported.set(s.name, (e as Error).message);
        continue;
      }
      keepCreated(bijector, start);
      sites.set(s.name, {
        name: s.name,
        shape: [...v.shape],
        eventDim: fn.eventShape.length,
        support: fn.support,
        bijector,
        cond: [...s.cond],
        value: v,
      });
    }
  } catch (e) {
    for (const s of sites.values()) s.bijector.dispose();
    tr.dispose();
    throw e;
  }
  return { trace: tr, sites, unsupported };
}

/** The model's plate frame of that name, if a latent (else an observed) site is in it. @internal */
export function prototypeFrame(proto: Prototype, name: string): PlateFrame | undefined {
  for (const s of proto.sites.values()) {
    const f = s.cond.find((c) => c.name === name);
    if (f !== undefined) return f;
  }
  for (const s of proto.trace.sampleSites()) {
    const f = s.cond.find((c) => c.name === name);
    if (f !== undefined) return f;
  }
  return undefined;
}
