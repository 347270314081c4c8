/**
 * Reparameterization strategies (Pyro's `pyro.infer.reparam.strategies`): a {@link ReparamStrategy}
 * chooses each site's reparameterizer from the site itself, the first time the model runs, and
 * keeps the choice in {@link ReparamStrategy.config} (`{site: Reparam | null}`), which later runs reuse
 * and which can be read, saved or passed to `reparam` as a plain map.
 *
 * - `MinimalReparam`: only the sites that would otherwise fail (a latent `ProjectedNormal`, which
 *   has no bijection from the reals, as `ProjectedNormalReparam`; a `TransformedDistribution`
 *   whose base needs one, as a `TransformReparam` whose base site is reparameterized in turn;
 *   a `Stable` site, which has no density, as `LatentStableReparam` when latent, else
 *   `SymmetricStableReparam` (skew 0, stability < 2) or `StableReparam`, as Pyro's).
 * - `AutoReparam`: for latent sites, a `TransformReparam` of every `TransformedDistribution`
 *   and `LogNormal` (`exp` of a Normal, a `TransformedDistribution` in Pyro; the new base site is
 *   configured again), a `GumbelSoftmaxReparam` of a `RelaxedOneHotCategorical`, a
 *   `LocScaleReparam` with a learnable centring `c ∈ [0, 1]` (param `<site>_centered`, one per
 *   event element) of every location-scale family on the real line,
 *
 * $$x_{dec} \sim F(c\,\mathrm{loc}, \mathrm{scale}^{c}),\qquad
 *   x = \mathrm{loc} + \mathrm{scale}^{1-c}\,(x_{dec} - c\,\mathrm{loc}),$$
 *
 *   (or a fixed `centered`), then the minimal ones. As Pyro's, it applies `LocScaleReparam` to
 *   every latent location-scale site, not only hierarchical ones: a site with constant `loc` and
 *   `scale` is left exact for every `c`, so the extra parameter is harmless there.
 */
import { Exp } from '../../../bijectors/exp.js';
import type { Bijector } from '../../../bijectors/bijector.js';
import type { Distribution } from '../../../distributions/distribution.js';
import { LogNormal } from '../../../distributions/log_normal.js';
import { Normal } from '../../../distributions/normal.js';
import { RelaxedOneHotCategorical } from '../../../distributions/relaxed_one_hot_categorical.js';
import { ProjectedNormal } from '../../../distributions/projected_normal.js';
import { Stable } from '../../../distributions/stable.js';
import { StableWithLogProb } from '../../../distributions/stable_log_prob.js';
import { TransformedDistribution } from '../../../distributions/transformed.js';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import { Delta } from '../../../distributions/delta.js';
import type { Fn } from '../../messenger.js';
import { sample } from '../../runtime.js';
import { reparam, type Reparam, type ReparamMessage, type ReparamChooser } from '../reparam.js';
import { GumbelSoftmaxReparam } from './gumbel_softmax.js';
import { LocScaleReparam, locScaleFamily } from './loc_scale.js';
import { ProjectedNormalReparam } from './projected_normal.js';
import { LatentStableReparam, StableReparam, SymmetricStableReparam } from './stable.js';
import { NO_REPARAM, rewrap, unwrap } from './wrappers.js';

/**
 * The base of the strategies: `configure(msg)` once per site name, the choice cached in
 * {@link ReparamStrategy.config}.
 *
 * @example
 * ```ts
 * const auto = new AutoReparam();
 * const m = reparam(model, auto); // or auto.reparam(model)
 * // after the first run: auto.config, e.g. {theta: LocScaleReparam, mu: LocScaleReparam, obs: null}
 * ```
 */
export abstract class ReparamStrategy implements ReparamChooser {
  /** The choice for each site seen so far (`null`: left as it is). */
  readonly config: Record<string, Reparam | null> = {};

  /**
   * Choose a site's reparameterizer (called once per site name).
   * @param msg the site: name, distribution, value, whether observed.
   */
  abstract configure(msg: ReparamMessage): Reparam | null;

  /**
   * The cached choice for the site, or `configure(msg)` on first sight.
   * @throws ArgumentError naming the site when `configure` gives something that is not a Reparam.
   */
  forSite(msg: ReparamMessage): Reparam | null {
    if (Object.prototype.hasOwnProperty.call(this.config, msg.name)) {
      return this.config[msg.name] as Reparam | null;
    }
    const r = this.configure(msg);
    if (r !== null && (typeof r !== 'object' || typeof r.apply !== 'function')) {
      throw new ArgumentError(
        msg.name,
        `${this.constructor.name}.configure gave site '${msg.name}' ${String(r)}; expected a ` +
          'Reparam or null',
      );
    }
    this.config[msg.name] = r;
    return r;
  }

  /** The model reparameterized by this strategy (Pyro's `@AutoReparam()` decorator). */
  reparam<A extends unknown[], R>(model: Fn<A, R>): Fn<A, R> {
    return reparam(model, this);
  }
}

/**
 * A site's family as a pushforward `T_# base`: a `TransformedDistribution`, or a `LogNormal` as
 * `exp_# Normal(loc, scale)` (a `TransformedDistribution` in Pyro, whose strategies rewrite it so);
 * null for the others.
 */
function asPushforward(d: Distribution): { inner: Distribution; bijector: Bijector } | null {
  if (d instanceof TransformedDistribution) return { inner: d.distribution, bijector: d.bijector };
  if (d instanceof LogNormal) return { inner: new Normal(d.loc, d.scale), bijector: new Exp() };
  return null;
}

/**
 * A `TransformReparam` whose new base site `<name>_base` is configured by the strategy in turn
 * (Pyro's "then reparametrize new sites"): `x = T(x_base)`, `x_base` reparameterized as the
 * strategy chooses for it (e.g. non-centred when it is a Normal with latent parameters).
 */
class StrategyTransformReparam implements Reparam {
  constructor(private readonly strategy: ReparamStrategy) {}
  apply(msg: ReparamMessage): ReparamMessage {
    if (msg.isObserved) {
      throw new ArgumentError(msg.name, `TransformReparam: site '${msg.name}' is observed`);
    }
    const { base, wrappers } = unwrap(msg.fn);
    const push = asPushforward(base);
    if (push === null) {
      throw new ArgumentError(
        msg.name,
        `TransformReparam: site '${msg.name}' has a ${base.name}; expected a ` +
          'TransformedDistribution or a LogNormal',
      );
    }
    const inner = rewrap(push.inner, wrappers);
    const site: ReparamMessage = {
      name: `${msg.name}_base`,
      fn: inner,
      value: null,
      isObserved: false,
    };
    const sub = this.strategy.forSite(site);
    let x;
    if (sub === null) x = sample(site.name, inner, NO_REPARAM);
    else {
      const out = sub.apply(site);
      x =
        out.isObserved && out.value !== null
          ? sample(site.name, out.fn, { obs: out.value, infer: NO_REPARAM.infer })
          : sample(site.name, out.fn, NO_REPARAM);
    }
    const value = push.bijector.forward(x);
    return {
      name: msg.name,
      fn: new Delta(value, msg.fn.eventShape.length),
      value,
      isObserved: true,
    };
  }
}

/**
 * The reparameterizer of a `Stable` site without a density (Pyro's `_minimal_reparam`):
 * `LatentStableReparam` for a latent one, `SymmetricStableReparam` for an observed one with skew
 * 0 and stability < 2, else `StableReparam`; null for other families and `StableWithLogProb`.
 */
function stableReparam(msg: ReparamMessage): Reparam | null {
  const { base } = unwrap(msg.fn);
  if (!(base instanceof Stable) || base instanceof StableWithLogProb) return null;
  if (!msg.isObserved) return new LatentStableReparam();
  const symmetric =
    base.skew.dataSync().every((v) => v === 0) && base.stability.dataSync().every((v) => v < 2);
  return symmetric ? new SymmetricStableReparam() : new StableReparam();
}

/** Pyro's `_minimal_reparam`: the reparameterizer a site needs to be sampled at all, or null. */
function minimalReparam(msg: ReparamMessage, strategy: ReparamStrategy): Reparam | null {
  const stable = stableReparam(msg);
  if (stable !== null) return stable;
  if (msg.isObserved) return null;
  const needs = (fn: ReparamMessage['fn']): boolean => {
    const { base } = unwrap(fn);
    if (base instanceof ProjectedNormal) return true;
    return base instanceof TransformedDistribution && needs(base.distribution);
  };
  const { base } = unwrap(msg.fn);
  if (base instanceof ProjectedNormal) return new ProjectedNormalReparam();
  if (base instanceof TransformedDistribution && needs(base.distribution)) {
    return new StrategyTransformReparam(strategy);
  }
  return null;
}

/**
 * Reparameterize only the sites that could not be sampled or scored otherwise (Pyro's
 * `MinimalReparam`): a latent `ProjectedNormal` (by `ProjectedNormalReparam`) and a
 * `TransformedDistribution` of one; a `Stable` site (no density), latent by `LatentStableReparam`,
 * observed by `SymmetricStableReparam` (skew 0, stability < 2) or `StableReparam`.
 *
 * @example
 * ```ts
 * const m = new MinimalReparam().reparam(model);
 * ```
 */
export class MinimalReparam extends ReparamStrategy {
  configure(msg: ReparamMessage): Reparam | null {
    return minimalReparam(msg, this);
  }
}

/** Options of {@link AutoReparam}. */
export interface AutoReparamOptions {
  /**
   * The centring of the `LocScaleReparam`s: a number in `[0, 1]` (0 fully non-centred, e.g. for
   * MCMC) or undefined (default) for a learnable centring per site (param `<site>_centered`).
   */
  centered?: number;
}

/**
 * Pyro's recommended reparameterizers, chosen per latent site (`AutoReparam`): `TransformReparam`
 * for a `TransformedDistribution` or a `LogNormal` (its base site configured in turn),
 * `GumbelSoftmaxReparam` for a `RelaxedOneHotCategorical`, a `LocScaleReparam` with
 * learnable (or fixed `centered`) centring for a location-scale family on the real line (Normal,
 * Cauchy, Laplace, Logistic, Gumbel, StudentT, AsymmetricLaplace, SkewNormal, ...; shape parameters
 * kept, Pyro's `shape_params`), and the {@link MinimalReparam} ones. Observed sites (but `Stable` ones) are
 * left as they are. The choices are in {@link ReparamStrategy.config} after the first run.
 *
 * @example
 * ```ts
 * // eight schools, written centred: theta ~ Normal(mu, tau) is non-centred with a learned c
 * const auto = new AutoReparam();
 * const m = reparam(eightSchools, auto);
 * const svi = new SVI(m, new AutoNormal(m), tf.train.adam(0.05), new TraceELBO());
 * ```
 */
export class AutoReparam extends ReparamStrategy {
  /** The fixed centring, or undefined for learnable ones. */
  readonly centered: number | undefined;

  /**
   * @param options `centered` (see {@link AutoReparamOptions}).
   * @throws ArgumentError naming `options`, `centered` or an unknown option key.
   */
  constructor(options: AutoReparamOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an options object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['centered'], 'AutoReparam');
    const c = options.centered;
    if (c !== undefined && !(typeof c === 'number' && c >= 0 && c <= 1)) {
      throw new ArgumentError('centered', `expected a number in [0, 1], got ${String(c)}`);
    }
    this.centered = c;
  }

  configure(msg: ReparamMessage): Reparam | null {
    if (!msg.isObserved) {
      const { base } = unwrap(msg.fn);
      if (asPushforward(base) !== null) return new StrategyTransformReparam(this);
      if (base instanceof RelaxedOneHotCategorical) return new GumbelSoftmaxReparam();
      if (locScaleFamily(base) !== null && !msg.name.endsWith('_decentered')) {
        return new LocScaleReparam(this.centered);
      }
    }
    return minimalReparam(msg, this);
  }
}
