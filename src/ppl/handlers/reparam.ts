/**
 * `reparam`: rewrite sample sites into equivalent, easier-to-infer forms (Pyro's
 * `ReparamMessenger` and `pyro.infer.reparam`). A {@link Reparam} replaces a site `x ~ p` by new
 * auxiliary sample sites and a deterministic function of them; the original site becomes an
 * observed point mass at that value (log-density 0), so guides and ELBOs see only the new sites.
 *
 * - {@link LocScaleReparam} (automatic non-centring): for a location-scale family
 *   `x ~ F(loc, scale)` and centring `c ∈ [0, 1]`,
 *
 *   $$x_{dec} \sim F(c\,\mathrm{loc}, \mathrm{scale}^{c}),\qquad
 *     x = \mathrm{loc} + \mathrm{scale}^{1-c}\,(x_{dec} - c\,\mathrm{loc}),$$
 *
 *   `c = 0` is the non-centred form (`x = loc + scale·ε`), `c = 1` leaves the site alone, and
 *   with `centered` left out `c` is a learnable parameter `<site>_centered` (Gorinova et al.) of
 *   the site's event shape, shared over its batch (plate) dims as in Pyro.
 * - {@link TransformReparam}: `x ~ T_# base` becomes `x_base ~ base`, `x = T(x_base)`.
 *
 * Both see through the generic wrappers of the site's distribution, `toEvent` (Independent),
 * `expand` and `mask` (Masked), in any nesting: the rewrite applies to the inner family and the
 * auxiliary site gets the same wrappers, so it keeps the site's batch and event shapes and its
 * mask (a masked-out entry adds nothing to the log joint, before or after the rewrite).
 */
import type { Distribution } from '../../distributions/distribution.js';
import * as tf from '@tensorflow/tfjs';
import { ExpandedDistribution } from '../../distributions/expanded.js';
import { Independent } from '../../distributions/independent.js';
import { MaskedDistribution } from '../../distributions/masked.js';
import { LocationScaleDistribution } from '../../distributions/location_scale.js';
import { TransformedDistribution } from '../../distributions/transformed.js';
import { unitInterval } from '../../constraints/constraints.js';
import { ArgumentError } from '../../utils/errors.js';
import { Delta } from '../delta.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { param, sample, type Message } from '../runtime.js';

/** What a reparameterizer sees of a site and gives back. */
export interface ReparamMessage {
  name: string;
  fn: Distribution;
  value: tf.Tensor | null;
  isObserved: boolean;
}

/** A site rewrite (Pyro's `Reparam`). */
export interface Reparam {
  /** Sample the auxiliary sites and return the site's new distribution and value. */
  apply(msg: ReparamMessage): ReparamMessage;
}

/** Auxiliary sites are not reparameterized again (a function config could match them). */
const NO_REPARAM = { infer: { _noReparam: true } };

/** One generic wrapper around a site's family: `toEvent(n)`, `expand(shape)` or `mask(m)`. */
type Wrapper =
  | { kind: 'toEvent'; n: number }
  | { kind: 'expand'; batchShape: number[] }
  | { kind: 'mask'; mask: boolean | tf.Tensor };

/**
 * Strip the `toEvent` (Independent), `expand` (Expanded) and `mask` (Masked) wrappers of a site's
 * distribution: the inner family and the wrappers, outermost first, so that
 * {@link rewrap}`(base, wrappers)` rebuilds `fn` (NumPyro's `Reparam._unwrap`, extended to masks).
 */
function unwrap(fn: Distribution): { base: Distribution; wrappers: Wrapper[] } {
  const wrappers: Wrapper[] = [];
  let d = fn;
  for (;;) {
    if (d instanceof Independent) {
      wrappers.push({ kind: 'toEvent', n: d.reinterpretedBatchNdims });
      d = d.base;
    } else if (d instanceof ExpandedDistribution) {
      wrappers.push({ kind: 'expand', batchShape: d.batchShape });
      d = d.base;
    } else if (d instanceof MaskedDistribution) {
      wrappers.push({ kind: 'mask', mask: d.maskValue });
      d = d.base;
    } else break;
  }
  return { base: d, wrappers };
}

/**
 * Apply `wrappers` (outermost first, as {@link unwrap} gives them) to a new inner family `d`,
 * innermost first. An `expand` broadcasts with `d`'s batch shape, since the new family's
 * parameters may already have the outer shape (e.g. `loc * centered`); the mask and the event
 * dims are kept, so the result has `fn`'s batch and event shapes.
 */
function rewrap(d: Distribution, wrappers: readonly Wrapper[]): Distribution {
  let out = d;
  for (let i = wrappers.length - 1; i >= 0; i--) {
    const w = wrappers[i] as Wrapper;
    if (w.kind === 'toEvent') out = w.n > 0 ? out.toEvent(w.n) : out;
    else if (w.kind === 'mask') out = out.mask(w.mask);
    else {
      const target = broadcastShape(out.batchShape, w.batchShape);
      const same =
        out.batchShape.length === target.length && out.batchShape.every((v, j) => v === target[j]);
      if (!same) out = out.expand(target);
    }
  }
  return out;
}

/** numpy broadcast of two shapes known to broadcast (the wrapped family's shapes). */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) =>
    Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1),
  );
}

/**
 * Non-centre a location-scale site (Normal, Cauchy, Laplace, Logistic, Gumbel, ...).
 *
 * @example
 * ```ts
 * // eight schools, non-centred
 * const nc = reparam(model, { theta: new LocScaleReparam(0) });
 * ```
 */
export class LocScaleReparam implements Reparam {
  readonly centered: number | tf.Tensor | undefined;
  constructor(centered?: number | tf.Tensor) {
    if (typeof centered === 'number' && !(centered >= 0 && centered <= 1)) {
      throw new ArgumentError('centered', `expected a number in [0, 1], got ${centered}`);
    }
    this.centered = centered;
  }
  apply(msg: ReparamMessage): ReparamMessage {
    if (msg.isObserved) {
      throw new ArgumentError(msg.name, `LocScaleReparam: site '${msg.name}' is observed`);
    }
    const { base, wrappers } = unwrap(msg.fn);
    if (!(base instanceof LocationScaleDistribution) || base.support.kind !== 'real') {
      throw new ArgumentError(
        msg.name,
        `LocScaleReparam: site '${msg.name}' has a ${base.name}; expected a location-scale ` +
          'family on the real line (Normal, Cauchy, Laplace, Logistic, Gumbel, ...)',
      );
    }
    if (this.centered === 1) return msg;
    // as Pyro: one learnable centring per event element, shared over the batch (plate) dims
    const eventShape = msg.fn.eventShape;
    const c =
      this.centered ??
      param(`${msg.name}_centered`, () => tf.fill(eventShape, 0.5), { constraint: unitInterval });
    const Family = base.constructor as new (loc: tf.Tensor, scale: tf.Tensor) => Distribution;
    const { loc, scale } = base;
    const decLoc = tf.mul(loc, c);
    const decScale = c === 0 ? tf.onesLike(scale) : tf.pow(scale, c);
    const dec = rewrap(new Family(decLoc, decScale), wrappers);
    const xDec = sample(`${msg.name}_decentered`, dec, NO_REPARAM);
    const oneMinus = typeof c === 'number' ? 1 - c : tf.sub(1, c);
    const value = tf.add(loc, tf.mul(tf.pow(scale, oneMinus), tf.sub(xDec, decLoc)));
    return { name: msg.name, fn: new Delta(value, eventShape.length), value, isObserved: true };
  }
}

/**
 * Sample a transformed distribution's base and push the draw through its bijector.
 *
 * @example
 * ```ts
 * const m = reparam(model, { x: new TransformReparam() }); // x ~ LogNormal as exp(x_base)
 * ```
 */
export class TransformReparam implements Reparam {
  apply(msg: ReparamMessage): ReparamMessage {
    if (msg.isObserved) {
      throw new ArgumentError(msg.name, `TransformReparam: site '${msg.name}' is observed`);
    }
    const { base, wrappers } = unwrap(msg.fn);
    if (!(base instanceof TransformedDistribution)) {
      throw new ArgumentError(
        msg.name,
        `TransformReparam: site '${msg.name}' has a ${base.name}; expected a TransformedDistribution`,
      );
    }
    const inner = rewrap(base.distribution, wrappers);
    const x = sample(`${msg.name}_base`, inner, NO_REPARAM);
    const value = base.bijector.forward(x);
    return {
      name: msg.name,
      fn: new Delta(value, msg.fn.eventShape.length),
      value,
      isObserved: true,
    };
  }
}

/** Applies the configured reparameterizer to each matching sample site. */
export class ReparamMessenger extends Messenger {
  constructor(
    private readonly config: Record<string, Reparam> | ((msg: Message) => Reparam | null),
  ) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.fn === null || msg.infer._noReparam === true) return;
    const r = typeof this.config === 'function' ? this.config(msg) : this.config[msg.name];
    if (r === undefined || r === null) return;
    if (msg.value !== null && !msg.isObserved) {
      throw new ArgumentError(
        msg.name,
        `reparam: site '${msg.name}' already has a value (apply reparam inside replay/condition)`,
      );
    }
    const out = r.apply({
      name: msg.name,
      fn: msg.fn,
      value: msg.value,
      isObserved: msg.isObserved,
    });
    msg.fn = out.fn;
    msg.value = out.value;
    msg.isObserved = out.isObserved;
  }
}

/**
 * Reparameterize the sites of `fn` by name (or by a function of the message).
 *
 * @param fn the model.
 * @param config `{site: reparam}` or `(msg) => reparam | null`.
 * @throws ArgumentError naming `config` when it, or one of its entries, is not a reparameterizer.
 * @example
 * ```ts
 * const nonCentred = reparam(model, { theta: new LocScaleReparam(0) });
 * const svi = new SVI(nonCentred, new AutoNormal(nonCentred), tf.train.adam(0.02), new TraceELBO());
 * ```
 */
export function reparam<A extends unknown[], R>(
  fn: Fn<A, R>,
  config: Record<string, Reparam> | ((msg: Message) => Reparam | null),
): Fn<A, R> {
  if (config === null || (typeof config !== 'object' && typeof config !== 'function')) {
    throw new ArgumentError('config', 'expected {site: Reparam} or a function of the message');
  }
  if (typeof config === 'object') {
    for (const [site, r] of Object.entries(config)) {
      if (
        r === null ||
        typeof r !== 'object' ||
        typeof (r as Partial<Reparam>).apply !== 'function'
      ) {
        throw new ArgumentError(
          'config',
          `entry '${site}' is not a Reparam (expected e.g. new LocScaleReparam(0)); ` +
            'the config maps site names to reparameterizers: reparam(model, {theta: ...})',
        );
      }
    }
  }
  return wrapWith(fn, () => new ReparamMessenger(config));
}
