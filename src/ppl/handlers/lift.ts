/**
 * `lift`: turn `param` sites into `sample` sites drawn from priors (Pyro's `poutine.lift`), e.g.
 * to put a prior on a model's parameters and infer them, or to draw networks from a prior.
 */
import { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

/** One prior for every param site, or priors by param name (the other params stay params). */
export type LiftPrior = Distribution | Record<string, Distribution>;

/** Rewrites param messages into sample messages. @internal */
export class LiftMessenger extends Messenger {
  /** The lifted value of each param name met in this run (a repeated param reuses it). */
  private cache = new Map<string, Message>();
  private hits = new Set<string>();
  constructor(private readonly prior: LiftPrior) {
    super();
  }
  protected override enter(): void {
    this.cache = new Map();
    this.hits = new Set();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'param') return;
    const p = this.prior;
    let fn: Distribution;
    if (p instanceof Distribution) fn = p;
    else if (Object.hasOwn(p, msg.name)) fn = p[msg.name] as Distribution;
    else return;
    this.hits.add(msg.name);
    msg.type = 'sample';
    msg.fn = fn;
    msg.init = undefined;
    msg.constraint = undefined;
    msg.infer = {};
    const first = this.cache.get(msg.name);
    if (first !== undefined) {
      // the same param read twice in one run: one draw, the repeat hidden and fixed (Pyro's)
      msg.value = first.value;
      msg.isObserved = true;
      msg.stop = true;
      return;
    }
    msg.isObserved = false;
    this.cache.set(msg.name, msg);
  }
  /** Names of the prior record that matched no param site of the run just finished. */
  unmatched(): string[] {
    const p = this.prior;
    return p instanceof Distribution ? [] : Object.keys(p).filter((k) => !this.hits.has(k));
  }
}

/**
 * Lift the `param` sites of `fn` to `sample` sites: with one distribution every param site
 * becomes `name ~ prior`, with a record `{name: prior}` only the named ones do. The param store
 * is not read; the lifted sites are latent sites that guides, autoguides and MCMC infer, and a
 * param read twice in one run is drawn once. Unlike Pyro, which warns, a prior naming no param
 * of the run is an error after the run.
 *
 * $$\text{param}(\theta) \;\longrightarrow\; \theta \sim p(\theta)$$
 *
 * @param prior a `Distribution`, or a non-empty record of them by param name.
 * @throws ArgumentError naming `prior` (not a distribution or record of them; after a run, a
 *   name no param site has).
 * @example
 * ```ts
 * const model = (x: tf.Tensor) => {
 *   const w = param('w', 0.5);
 *   plate('data', x.shape[0], () => sample('y', new Normal(tf.mul(w, x), 1), { obs: y }));
 * };
 * const bayes = lift(model, { w: new Normal(0, 1) }); // w is now a latent site
 * ```
 */
export function lift<A extends unknown[], R>(fn: Fn<A, R>, prior: LiftPrior): Fn<A, R> {
  if (!(prior instanceof Distribution)) {
    if (prior === null || typeof prior !== 'object' || Array.isArray(prior)) {
      throw new ArgumentError(
        'prior',
        `lift: expected a Distribution or {paramName: Distribution}, got ${String(prior)}`,
      );
    }
    const entries = Object.entries(prior as Record<string, unknown>);
    if (entries.length === 0) {
      throw new ArgumentError('prior', 'lift: expected at least one {paramName: Distribution}');
    }
    for (const [k, d] of entries) {
      if (!(d instanceof Distribution)) {
        throw new ArgumentError(
          'prior',
          `lift: param '${k}': expected a Distribution, got ${typeof d}`,
        );
      }
    }
  }
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `lift: expected the function to lift, got ${typeof fn}`);
  }
  return (...args: A) => {
    const m = new LiftMessenger(prior);
    const out = wrapWith(fn, () => m)(...args);
    const missing = m.unmatched();
    if (missing.length > 0) {
      throw new ArgumentError(
        'prior',
        `lift: no param site named ${missing.map((s) => `'${s}'`).join(', ')} in the run`,
      );
    }
    return out;
  };
}
