/**
 * `lift`: turn `param` sites into `sample` sites drawn from priors (Pyro's `poutine.lift`), e.g.
 * to put a prior on a model's parameters and infer them, or to draw networks from a prior.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { Delta } from '../../distributions/delta.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

/**
 * A stochastic function as a prior (Pyro's callable prior): called with the param's initial value
 * (`undefined` when the param has none) and its name, it returns the lifted value; the sample
 * sites it makes are ordinary sites of the run.
 */
export type LiftFn = (init: tf.Tensor | undefined, name: string) => tf.Tensor;

/**
 * One prior for every param site (a distribution or a stochastic function), or priors by param
 * name (the other params stay params).
 */
export type LiftPrior = Distribution | LiftFn | Record<string, Distribution | LiftFn>;

/** The param's initial value as a tensor (made here when it is not one), or `undefined`. */
function initTensor(msg: Message): { t: tf.Tensor | undefined; own: boolean } {
  const init = msg.init;
  if (init === undefined) return { t: undefined, own: false };
  if (init instanceof tf.Tensor) return { t: init, own: false };
  if (typeof init === 'function') return { t: init(), own: true };
  return { t: tf.tensor(init), own: true };
}

/** `prior(init, name)`, checked to be a live tensor (an error naming `prior` and the param). */
function callPrior(prior: LiftFn, msg: Message): tf.Tensor {
  const { t, own } = initTensor(msg);
  let v: unknown;
  try {
    v = prior(t, msg.name);
  } finally {
    if (own && t !== undefined && v !== t) t.dispose();
  }
  if (!(v instanceof tf.Tensor) || v.isDisposed) {
    throw new ArgumentError(
      'prior',
      `lift: the prior function of param '${msg.name}' returned ${
        v instanceof tf.Tensor ? 'a disposed tensor' : typeof v
      }; expected a tensor (the lifted value)`,
    );
  }
  return v;
}

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
  override reset(): void {
    this.enter();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'param') return;
    const p = this.prior;
    const whole = p instanceof Distribution || typeof p === 'function';
    let fn: Distribution | LiftFn;
    if (whole) fn = p;
    else if (Object.hasOwn(p, msg.name)) fn = p[msg.name] as Distribution | LiftFn;
    else return;
    this.hits.add(msg.name);
    const first = this.cache.get(msg.name);
    if (first === undefined && !(fn instanceof Distribution)) {
      // Pyro's callable prior: the value is the function's; one prior for all hides the site
      // (Pyro's `msg["stop"] = True`), a named one records it, here as a deterministic site
      const value = callPrior(fn, msg);
      msg.value = value;
      msg.fn = new Delta(value, value.rank);
      msg.mask = false;
      msg.stop = whole;
    } else msg.fn = fn instanceof Distribution ? fn : (first?.fn ?? null);
    msg.type = 'sample';
    msg.init = undefined;
    msg.constraint = undefined;
    msg.infer = fn instanceof Distribution ? {} : { deterministic: true, lifted: true };
    if (first !== undefined) {
      // the same param read twice in one run: one draw, the repeat hidden and fixed (Pyro's)
      msg.value = first.value;
      msg.isObserved = true;
      msg.stop = true;
      return;
    }
    msg.isObserved = !(fn instanceof Distribution);
    this.cache.set(msg.name, msg);
  }
  /** Names of the prior record that matched no param site of the run just finished. */
  unmatched(): string[] {
    const p = this.prior;
    return p instanceof Distribution || typeof p === 'function'
      ? []
      : Object.keys(p).filter((k) => !this.hits.has(k));
  }
}

/**
 * Lift the `param` sites of `fn` to `sample` sites: with one prior every param site becomes
 * `name ~ prior`, with a record `{name: prior}` only the named ones do. The param store is not
 * read; the lifted sites are latent sites that guides, autoguides and MCMC infer, and a param
 * read twice in one run is drawn once. Unlike Pyro, which warns, a prior naming no param of the
 * run is an error after the run.
 *
 * $$\text{param}(\theta) \;\longrightarrow\; \theta \sim p(\theta)$$
 *
 * A prior may also be a stochastic function (Pyro's callable prior, e.g. `scale1_prior(tensor)`
 * in Pyro's tests): `prior(init, name)` gets the param's initial value and returns the value; the
 * sample sites it makes are the run's latent sites. As in Pyro, one function for every param
 * hides the lifted site from outer handlers (only the function's own sites are seen); a function
 * in the record leaves the site in the trace, as a `deterministic` site (`infer.deterministic`,
 * `infer.lifted`; log-density 0) holding the value, where Pyro records a sample site whose `fn`
 * is the function and which no ELBO could score.
 *
 * @param prior a `Distribution` or a function, or a non-empty record of them by param name.
 * @throws ArgumentError naming `prior` (not a distribution, function or record of them; a
 *   function that returns no tensor; after a run, a name no param site has).
 * @example
 * ```ts
 * const model = (x: tf.Tensor) => {
 *   const w = param('w', 0.5);
 *   plate('data', x.shape[0], () => sample('y', new Normal(tf.mul(w, x), 1), { obs: y }));
 * };
 * const bayes = lift(model, { w: new Normal(0, 1) }); // w is now a latent site
 * // a stochastic prior: w = exp(u), u ~ N(0, 1) the latent site
 * const logNormalW = lift(model, { w: () => tf.exp(sample('u', new Normal(0, 1))) });
 * ```
 */
export function lift<A extends unknown[], R>(fn: Fn<A, R>, prior: LiftPrior): Fn<A, R> {
  if (!(prior instanceof Distribution) && typeof prior !== 'function') {
    if (prior === null || typeof prior !== 'object' || Array.isArray(prior)) {
      throw new ArgumentError(
        'prior',
        `lift: expected a Distribution, a function or {paramName: Distribution | function}, ` +
          `got ${String(prior)}`,
      );
    }
    const entries = Object.entries(prior as Record<string, unknown>);
    if (entries.length === 0) {
      throw new ArgumentError(
        'prior',
        'lift: expected at least one {paramName: Distribution | function}',
      );
    }
    for (const [k, d] of entries) {
      if (!(d instanceof Distribution) && typeof d !== 'function') {
        throw new ArgumentError(
          'prior',
          `lift: param '${k}': expected a Distribution or a function, got ${typeof d}`,
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
