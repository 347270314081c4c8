/**
 * `AutoDiscreteParallel` (Pyro's): a mean-field guide over the model's discrete latent sites,
 * each a `Bernoulli`, `Categorical` or `OneHotCategorical` with its own learned probabilities
 * (per plate member), drawn in the site's plates and marked for parallel enumeration, so that
 * `TraceEnumELBO` sums each out exactly under `q`:
 *
 * $$q(z) = \prod_s q_s(z_s \mid \pi_s),\qquad
 *   \mathcal L = \sum_z q(z)\big(\log p(x, z) - \log q(z)\big)$$
 *
 * The probabilities start at the prior's (from one prototype run of the model) and are named
 * `${prefix}.${site}_probs` (Pyro: `{site}_probs`). Continuous latent sites are refused: build
 * it on `block(model, {expose: [...]})` and guide the others with another autoguide on
 * `block(model, {hide: [...]})`, as parts of one `AutoGuideList` (or both called by one guide
 * function).
 *
 * It is an `AutoGuide` (Pyro's `AutoDiscreteParallel(AutoGuide)`): `call`, and the summaries of
 * `q` by site, the `q`-quantile being the smallest value whose CDF reaches `q` in the order of the
 * support (`0 < 1`, category indices; a one-hot site gives the one-hot of that index):
 *
 * $$Q_s(q) = \min\{k : \textstyle\sum_{j \le k} \pi_{s,j} \ge q\},\qquad
 *   \mathrm{median}_s = Q_s(1/2)$$
 *
 * `samplePosterior(n)` draws `n` joint values; `getPosterior()` gives the distributions.
 */
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from '../../distributions/bernoulli.js';
import { Categorical } from '../../distributions/categorical.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ExpandedDistribution } from '../../distributions/expanded.js';
import { OneHotCategorical } from '../../distributions/one_hot_categorical.js';
import { ArgumentError } from '../../utils/errors.js';
import { cumsumLast } from '../../utils/linalg.js';
import { simplex, unitInterval } from '../constraints.js';
import { block } from '../handlers/block.js';
import { configEnumerate } from '../handlers/infer_config.js';
import { plate } from '../handlers/plate.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param, sample, type PlateFrame } from '../runtime.js';
import { AutoGuide, checkNumSamples, normalQuantiles } from './guide.js';
import type { LatentSpec } from './prototype.js';

/** Options of {@link AutoDiscreteParallel}. */
export interface AutoDiscreteParallelOptions {
  /** Prefix of the parameter names; default `'AutoDiscreteParallel'`. */
  prefix?: string;
}

type Family = 'Bernoulli' | 'Categorical' | 'OneHotCategorical';

/** One discrete site of the prototype. */
interface DiscreteSite {
  name: string;
  family: Family;
  /** The prior's probabilities at the site's batch shape (kept until the parameter exists). */
  init: tf.Tensor;
  cond: PlateFrame[];
}

/** The family and probabilities (at the site's batch shape) of a supported distribution. */
function familyOf(fn: Distribution): { family: Family; probs: tf.Tensor } | undefined {
  let d = fn;
  while (d instanceof ExpandedDistribution) d = d.base;
  const batch = fn.batchShape;
  if (d instanceof Bernoulli) {
    const p = d.probs;
    return { family: 'Bernoulli', probs: tf.tidy(() => tf.broadcastTo(p, batch).clone()) };
  }
  if (d instanceof Categorical || d instanceof OneHotCategorical) {
    const p = d.probs;
    const k = p.shape.at(-1) as number;
    return {
      family: d instanceof Categorical ? 'Categorical' : 'OneHotCategorical',
      probs: tf.tidy(() => tf.broadcastTo(p, [...batch, k]).clone()),
    };
  }
  return undefined;
}

/**
 * Discrete mean-field guide, enumerated in parallel (Pyro's `AutoDiscreteParallel`).
 *
 * @example
 * ```ts
 * const guide = new AutoDiscreteParallel(model); // model: discrete latents, known parameters
 * const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceEnumELBO());
 * svi.step(data);
 * guide.probs().z; // q(z_i = k), shape [n, K]
 * ```
 */
export class AutoDiscreteParallel<A extends unknown[]> extends AutoGuide<A> {
  private sites: DiscreteSite[] | undefined;

  /**
   * @param model the model (its latent sites all Bernoulli, Categorical or OneHotCategorical).
   * @param options `prefix` (the only option: a discrete guide has no scale or initial location).
   * @throws ArgumentError naming an unknown or bad option.
   */
  constructor(model: Fn<A, unknown>, options: AutoDiscreteParallelOptions = {}) {
    if (options !== null && typeof options === 'object') {
      for (const k of ['initScale', 'initLoc'] as const) {
        if ((options as Record<string, unknown>)[k] !== undefined) {
          throw new ArgumentError(
            k,
            'not an option of AutoDiscreteParallel (options: prefix): its probabilities start at ' +
              "the prior's",
          );
        }
      }
    }
    super(model, options, 'AutoDiscreteParallel');
    const p: unknown = this.prefix;
    if (typeof p !== 'string' || p.length === 0) {
      throw new ArgumentError('prefix', `expected a non-empty string, got ${String(p)}`);
    }
  }

  /** Name of the probabilities of site `name`. */
  probsName(name: string): string {
    return `${this.prefix}.${name}_probs`;
  }

  /**
   * The model's discrete latent sites, from one blocked run with every discrete site marked
   * for enumeration (Pyro's `_setup_prototype`); each must be a Bernoulli, Categorical or
   * OneHotCategorical site in full (not subsampled) plates.
   */
  private setupSites(args: A): DiscreteSite[] {
    if (this.sites !== undefined) return this.sites;
    const tr = block(() => trace(configEnumerate(this.model)).getTrace(...args))();
    const sites: DiscreteSite[] = [];
    try {
      for (const s of tr.latentSites()) {
        const fn = s.fn as Distribution;
        if (s.infer.enumerate !== 'parallel') {
          throw new ArgumentError(
            s.name,
            `latent site '${s.name}' (${fn.name}, support ${fn.support.name}) is not a discrete ` +
              'site for parallel enumeration: AutoDiscreteParallel guides discrete sites only ' +
              '(build it on block(model, {expose: [...discrete sites]}) and guide the others with ' +
              'another autoguide on block(model, {hide: [...]}), both called by one guide function)',
          );
        }
        const fam = familyOf(fn);
        if (fam === undefined) {
          throw new ArgumentError(
            s.name,
            `latent site '${s.name}' is a ${fn.name}: AutoDiscreteParallel supports Bernoulli, ` +
              'Categorical and OneHotCategorical sites',
          );
        }
        const sub = s.cond.find((f) => f.subsampleSize !== f.size);
        if (sub !== undefined) {
          fam.probs.dispose();
          throw new ArgumentError(
            s.name,
            `latent site '${s.name}' is inside the subsampled plate '${sub.name}': ` +
              'AutoDiscreteParallel needs full plates',
          );
        }
        sites.push({
          name: s.name,
          family: fam.family,
          init: tf.keep(fam.probs),
          cond: [...s.cond],
        });
      }
    } catch (e) {
      tf.dispose(sites.map((s) => s.init));
      throw e;
    } finally {
      tr.dispose();
    }
    this.sites = sites;
    return sites;
  }

  /**
   * The guide: draws every discrete site from its learned distribution in the site's plates,
   * marked `{enumerate: 'parallel'}` (under `TraceEnumELBO` it takes all its values). Returns the
   * values by site name; called with no handler active, only they outlive the call.
   */
  call(...args: A): Record<string, tf.Tensor> {
    return this.standalone(() => {
      const out: Record<string, tf.Tensor> = {};
      for (const s of this.setupSites(args)) {
        const probs = param(this.probsName(s.name), () => s.init.clone(), {
          constraint: s.family === 'Bernoulli' ? unitInterval : simplex,
        });
        const d = makeDist(s.family, probs);
        const draw = (): tf.Tensor => sample(s.name, d, { infer: { enumerate: 'parallel' } });
        out[s.name] = s.cond.reduceRight<() => tf.Tensor>(
          (body, f) => () => plate(f.name, f.size, { dim: f.dim }, body),
          draw,
        )();
      }
      return out;
    });
  }

  /**
   * The continuous latent sites the guide covers: none (its sites are discrete, see
   * {@link AutoDiscreteParallel.siteNames}); sets the guide up with the model's arguments.
   */
  override latentSites(...args: A): LatentSpec[] {
    this.setupSites(args);
    return [];
  }

  /** The names of the guide's (discrete) sites, setting it up with the model's arguments. */
  override siteNames(...args: A): string[] {
    return this.setupSites(args).map((s) => s.name);
  }

  /** No continuous sites (after the first call). */
  override get specs(): LatentSpec[] {
    this.requireSites();
    return [];
  }

  private requireSites(): DiscreteSite[] {
    if (this.sites === undefined) {
      throw new ArgumentError('guide', 'call the guide (or take one SVI step) first');
    }
    return this.sites;
  }

  /** The learned probabilities by site (new tensors): `[...batch]` or `[...batch, K]`. */
  probs(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.requireSites()) {
      out[s.name] = getParamStore().value(this.probsName(s.name));
    }
    return out;
  }

  /**
   * The `q`-quantiles of every site at the levels `qs`: shape `[qs.length, ...siteShape]` (see
   * the module's formula; float32 values as the sites').
   */
  quantiles(qs: number[]): Record<string, tf.Tensor> {
    normalQuantiles(qs); // checks the levels
    const sites = this.requireSites();
    const out: Record<string, tf.Tensor> = {};
    try {
      for (const s of sites) {
        out[s.name] = tf.tidy(() => {
          const p = getParamStore().value(this.probsName(s.name));
          return tf.stack(qs.map((q) => quantileOf(s.family, p, q)));
        });
      }
    } catch (e) {
      tf.dispose(Object.values(out));
      throw e;
    }
    return out;
  }

  /**
   * Posterior medians `Q_s(1/2)` by site (new tensors). As Pyro's `median(*args)`, a guide never
   * called is set up with the model's arguments first.
   */
  median(...args: A | []): Record<string, tf.Tensor> {
    if (this.sites === undefined && args.length > 0) {
      tf.dispose(Object.values(this.call(...(args as A))));
    }
    const q = this.quantiles([0.5]);
    for (const k of Object.keys(q)) {
      const t = q[k] as tf.Tensor;
      q[k] = tf.squeeze(t, [0]);
      t.dispose();
    }
    return q;
  }

  /** `n` independent draws from `q` by site: shape `[n, ...siteShape]` (new tensors). */
  samplePosterior(n: number): Record<string, tf.Tensor> {
    checkNumSamples(n);
    const sites = this.requireSites();
    const out: Record<string, tf.Tensor> = {};
    for (const s of sites) {
      out[s.name] = tf.tidy(() => {
        const p = getParamStore().value(this.probsName(s.name));
        return makeDist(s.family, p).sample([n]);
      });
    }
    return out;
  }

  /**
   * The posterior of each site (new distributions holding copies of the probabilities;
   * `dispose()` them).
   */
  getPosterior(): Record<string, Distribution> {
    const out: Record<string, Distribution> = {};
    for (const s of this.requireSites()) {
      const p = getParamStore().value(this.probsName(s.name));
      out[s.name] = makeDist(s.family, p.arraySync() as number[]);
      p.dispose();
    }
    return out;
  }

  /** Free the prototype's initial probabilities (parameters stay in the param store). */
  override dispose(): void {
    tf.dispose((this.sites ?? []).map((s) => s.init));
    this.sites = undefined;
    super.dispose();
  }
}

/** The guide's distribution of a family at `probs`. */
function makeDist(family: Family, probs: tf.Tensor | number[]): Distribution {
  return family === 'Bernoulli'
    ? new Bernoulli({ probs })
    : family === 'Categorical'
      ? new Categorical({ probs })
      : new OneHotCategorical({ probs });
}

/** Float32 rounding of a CDF summed over categories: a CDF within this of `q` reaches it. */
const CDF_TOL = 1e-6;

/** The smallest value whose CDF under `probs` reaches `q` (call inside `tf.tidy`). */
function quantileOf(family: Family, probs: tf.Tensor, q: number): tf.Tensor {
  if (family === 'Bernoulli') {
    // CDF(0) = 1 - p
    return tf.cast(tf.less(tf.sub(1, probs), q - CDF_TOL), 'float32');
  }
  const k = probs.shape[probs.rank - 1] as number;
  // the number of categories whose CDF stays below q is the index (clamped against rounding)
  const below = tf.sum(tf.cast(tf.less(cumsumLast(probs), q - CDF_TOL), 'int32'), -1);
  const idx = tf.minimum(below, k - 1);
  return family === 'Categorical'
    ? tf.cast(idx, 'float32')
    : tf.cast(tf.oneHot(tf.cast(idx, 'int32'), k), 'float32');
}
