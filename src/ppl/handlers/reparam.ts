/**
 * `reparam`: rewrite sample sites into equivalent, easier-to-infer forms (Pyro's
 * `ReparamMessenger` and `pyro.infer.reparam`). A {@link Reparam} replaces a site `x ~ p` by new
 * auxiliary sample sites and a deterministic function of them; the original site becomes an
 * observed point mass at that value (log-density 0, or the density a rewrite that is not a
 * change of variables leaves there), so guides and ELBOs see only the new sites.
 *
 * The reparameterizers, one file each in `handlers/reparam/`:
 *
 * - `LocScaleReparam` (automatic non-centring of a location-scale site, `loc_scale.ts`);
 * - `TransformReparam` (`x ~ T_# base` as `T(x_base)`, `transform.ts`);
 * - `CircularReparam` (a von Mises latent as a wrapped real, `circular.ts`);
 * - `SplitReparam` (a vector site as independent parts, `split.ts`);
 * - `ProjectedNormalReparam` (a `ProjectedNormal` latent as a normalized Normal,
 *   `projected_normal.ts`);
 * - `NeuTraReparam` (neural transport: all latents as one draw of a trained `AutoContinuous`
 *   guide's base, `neutra.ts`);
 * - `UnitJacobianReparam`, `DiscreteCosineReparam`, `HaarReparam` (a time-series site sampled in
 *   the coordinates of an orthonormal transform along a time dim, `unit_jacobian.ts`,
 *   `discrete_cosine.ts`, `haar.ts`);
 * - `ConjugateReparam` (a latent drawn from its conjugate update by a likelihood-shaped density,
 *   `conjugate.ts`);
 * - `GumbelSoftmaxReparam` (a `RelaxedOneHotCategorical` from its uniform noise,
 *   `gumbel_softmax.ts`).
 *
 * The config may also be a strategy (`AutoReparam`, `MinimalReparam`, `strategies.ts`), which
 * chooses each site's reparameterizer from the site on first sight.
 *
 * They see through the generic wrappers of the site's distribution, `toEvent` (Independent),
 * `expand` and `mask` (Masked), in any nesting (`wrappers.ts`): the rewrite applies to the inner
 * family and the auxiliary site gets the same wrappers, so it keeps the site's batch and event
 * shapes and its mask (a masked-out entry adds nothing to the log joint, before or after).
 *
 * A rewrite that is not a pure change of variables keeps the site's density on a point mass:
 * `Delta(value, {logDensity})` (Pyro's `Delta(value, log_density)`), which MCMC, the ELBOs and
 * the traces score like any site, and which MCMC records with the draws as it does a
 * `deterministic` site.
 */
import type { Distribution } from '../../distributions/distribution.js';
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

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

/**
 * A reparameterization strategy (Pyro's `pyro.infer.reparam.strategies.Strategy`): chooses the
 * reparameterizer of each site from what the site is (`AutoReparam`, `MinimalReparam`).
 */
export interface ReparamChooser {
  /** The reparameterizer of a site, or `null` to leave it as it is. */
  forSite(msg: ReparamMessage): Reparam | null;
}

/** What `reparam` takes: a map by site name, a function of the message, or a strategy. */
export type ReparamConfig =
  Record<string, Reparam> | ((msg: Message) => Reparam | null) | ReparamChooser;

/** Whether a config is a {@link ReparamChooser} (an object with a `forSite` method). */
function isStrategy(config: ReparamConfig): config is ReparamChooser {
  return typeof (config as Partial<ReparamChooser>).forSite === 'function';
}

/** Applies the configured reparameterizer to each matching sample site. */
export class ReparamMessenger extends Messenger {
  constructor(private readonly config: ReparamConfig) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.fn === null || msg.infer._noReparam === true) return;
    // a scan's stacked site (its steps were reparameterized one by one) and its stand-in
    if (msg.infer._scanStacked === true || msg.infer._scanProbe === true) return;
    this.rewrite(msg);
  }

  /**
   * A step of a site made inside a `scan` (`ScanStepRewriter`): reparameterized as a site of a
   * hand-written loop; its auxiliary sites, made inside the scan, are stacked by it.
   */
  processScanStep(msg: Message): void {
    if (msg.type !== 'sample' || msg.fn === null || msg.infer._noReparam === true) return;
    this.rewrite(msg);
  }

  private rewrite(msg: Message): void {
    if (msg.fn === null) return;
    const c = this.config;
    const r =
      typeof c === 'function'
        ? c(msg)
        : isStrategy(c)
          ? c.forSite({ name: msg.name, fn: msg.fn, value: msg.value, isObserved: msg.isObserved })
          : c[msg.name];
    if (r === undefined || r === null) return;
    if (typeof (r as Partial<Reparam>).apply !== 'function') {
      throw new ArgumentError(
        msg.name,
        `reparam: the config gave site '${msg.name}' something that is not a Reparam`,
      );
    }
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
 * Reparameterize the sites of `fn` by name (or by a function of the message, or by a strategy
 * such as `new AutoReparam()`).
 *
 * @param fn the model.
 * @param config `{site: reparam}`, `(msg) => reparam | null` or a {@link ReparamChooser}.
 * @throws ArgumentError naming `config` when it, or one of its entries, is not a reparameterizer.
 * @example
 * ```ts
 * const nonCentred = reparam(model, { theta: new LocScaleReparam(0) });
 * const svi = new SVI(nonCentred, new AutoNormal(nonCentred), tf.train.adam(0.02), new TraceELBO());
 * ```
 */
export function reparam<A extends unknown[], R>(
  fn: Fn<A, R>,
  config: ReparamConfig | { config: ReparamChooser | ((msg: Message) => Reparam | null) },
): Fn<A, R> {
  if (config === null || (typeof config !== 'object' && typeof config !== 'function')) {
    throw new ArgumentError(
      'config',
      'expected {site: Reparam}, a function of the message or a strategy (new AutoReparam())',
    );
  }
  const c = unwrapConfigKeyword(config);
  if (typeof c === 'object' && !isStrategy(c)) {
    for (const [site, r] of Object.entries(c)) {
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
  return wrapWith(fn, () => new ReparamMessenger(c));
}

/**
 * Pyro's keyword form `reparam(model, config=strategy)` written `{config: strategy}` (or `{config:
 * fn}`): the strategy or function itself. A map `{config: {...}}` stays a (refused) site map, and
 * a site named `config` mapped to a `Reparam` stays a site map.
 */
function unwrapConfigKeyword(
  config: ReparamConfig | { config: ReparamChooser | ((msg: Message) => Reparam | null) },
): ReparamConfig {
  if (typeof config !== 'object' || isStrategy(config as ReparamConfig)) {
    return config as ReparamConfig;
  }
  const keys = Object.keys(config);
  const inner = (config as { config?: unknown }).config;
  if (
    keys.length === 1 &&
    keys[0] === 'config' &&
    inner !== null &&
    (typeof inner === 'function' ||
      (typeof inner === 'object' &&
        typeof (inner as Partial<ReparamChooser>).forSite === 'function'))
  ) {
    return inner as ReparamConfig;
  }
  return config as ReparamConfig;
}
