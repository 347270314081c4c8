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
 *   with `centered` left out `c` is a learnable parameter `<site>_centered` (Gorinova et al.).
 * - {@link TransformReparam}: `x ~ T_# base` becomes `x_base ~ base`, `x = T(x_base)`.
 */
import type { Distribution } from '../../distributions/distribution.js';
import * as tf from '@tensorflow/tfjs';
import { ExpandedDistribution } from '../../distributions/expanded.js';
import { Independent } from '../../distributions/independent.js';
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

/** Strip `expand` and `toEvent` wrappers: the inner family, the batch shape and event dims. */
function unwrap(fn: Distribution): { base: Distribution; batchShape: number[]; eventDim: number } {
  const batchShape = fn.batchShape;
  let eventDim = 0;
  let d = fn;
  for (;;) {
    if (d instanceof Independent) {
      eventDim += d.eventShape.length - d.base.eventShape.length;
      d = d.base;
    } else if (d instanceof ExpandedDistribution) {
      d = d.base;
    } else break;
  }
  return { base: d, batchShape: [...batchShape, ...fn.eventShape.slice(0, eventDim)], eventDim };
}

/** Re-wrap `d` to `batchShape` with `eventDim` event dims. */
function rewrap(d: Distribution, batchShape: number[], eventDim: number): Distribution {
  const same =
    d.batchShape.length === batchShape.length && d.batchShape.every((v, i) => v === batchShape[i]);
  const e = same ? d : d.expand(batchShape);
  return eventDim > 0 ? e.toEvent(eventDim) : e;
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
    const { base, batchShape, eventDim } = unwrap(msg.fn);
    if (!(base instanceof LocationScaleDistribution) || base.support.kind !== 'real') {
      throw new ArgumentError(
        msg.name,
        `LocScaleReparam: site '${msg.name}' has a ${base.name}; expected a location-scale ` +
          'family on the real line (Normal, Cauchy, Laplace, Logistic, Gumbel, ...)',
      );
    }
    if (this.centered === 1) return msg;
    const c =
      this.centered ??
      param(
        `${msg.name}_centered`,
        () => tf.fill(batchShape.slice(batchShape.length - base.batchShape.length), 0.5),
        {
          constraint: unitInterval,
        },
      );
    const Family = base.constructor as new (loc: tf.Tensor, scale: tf.Tensor) => Distribution;
    const { loc, scale } = base;
    const decLoc = tf.mul(loc, c);
    const decScale = c === 0 ? tf.onesLike(scale) : tf.pow(scale, c);
    const dec = rewrap(
      new Family(decLoc, decScale),
      batchShape.slice(0, batchShape.length - eventDim),
      eventDim,
    );
    const xDec = sample(`${msg.name}_decentered`, dec, NO_REPARAM);
    const oneMinus = typeof c === 'number' ? 1 - c : tf.sub(1, c);
    const value = tf.add(loc, tf.mul(tf.pow(scale, oneMinus), tf.sub(xDec, decLoc)));
    return { name: msg.name, fn: new Delta(value, eventDim), value, isObserved: true };
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
    const { base, batchShape, eventDim } = unwrap(msg.fn);
    if (!(base instanceof TransformedDistribution)) {
      throw new ArgumentError(
        msg.name,
        `TransformReparam: site '${msg.name}' has a ${base.name}; expected a TransformedDistribution`,
      );
    }
    const inner = rewrap(
      base.distribution,
      batchShape.slice(0, batchShape.length - eventDim),
      eventDim,
    );
    const x = sample(`${msg.name}_base`, inner, NO_REPARAM);
    const value = base.bijector.forward(x);
    return {
      name: msg.name,
      fn: new Delta(value, eventDim + base.eventShape.length),
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
