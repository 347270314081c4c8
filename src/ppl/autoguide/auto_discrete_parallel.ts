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
 * `block(model, {hide: [...]})`, both called by one guide function.
 */
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from '../../distributions/bernoulli.js';
import { Categorical } from '../../distributions/categorical.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ExpandedDistribution } from '../../distributions/expanded.js';
import { OneHotCategorical } from '../../distributions/one_hot_categorical.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { simplex, unitInterval } from '../constraints.js';
import { block } from '../handlers/block.js';
import { configEnumerate } from '../handlers/enum.js';
import { plate } from '../handlers/plate.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { HANDLER_STACK, param, sample, type PlateFrame } from '../runtime.js';

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
export class AutoDiscreteParallel<A extends unknown[]> {
  readonly prefix: string;
  private sites: DiscreteSite[] | undefined;

  constructor(
    readonly model: Fn<A, unknown>,
    options: AutoDiscreteParallelOptions = {},
  ) {
    if (typeof model !== 'function') throw new ArgumentError('model', 'expected a function');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['prefix'], 'AutoDiscreteParallel');
    const p = options.prefix ?? 'AutoDiscreteParallel';
    if (typeof p !== 'string' || p.length === 0) {
      throw new ArgumentError('prefix', `expected a non-empty string, got ${String(p)}`);
    }
    this.prefix = p;
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
  private setup(args: A): DiscreteSite[] {
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
    const run = (): Record<string, tf.Tensor> => {
      const out: Record<string, tf.Tensor> = {};
      for (const s of this.setup(args)) {
        const probs = param(this.probsName(s.name), () => s.init.clone(), {
          constraint: s.family === 'Bernoulli' ? unitInterval : simplex,
        });
        const d =
          s.family === 'Bernoulli'
            ? new Bernoulli({ probs })
            : s.family === 'Categorical'
              ? new Categorical({ probs })
              : new OneHotCategorical({ probs });
        const draw = (): tf.Tensor => sample(s.name, d, { infer: { enumerate: 'parallel' } });
        out[s.name] = s.cond.reduceRight<() => tf.Tensor>(
          (body, f) => () => plate(f.name, f.size, { dim: f.dim }, body),
          draw,
        )();
      }
      return out;
    };
    return HANDLER_STACK.length === 0 ? tf.tidy(run) : run();
  }

  /** The learned probabilities by site (new tensors): `[...batch]` or `[...batch, K]`. */
  probs(): Record<string, tf.Tensor> {
    if (this.sites === undefined) {
      throw new ArgumentError('guide', 'call the guide (or take one SVI step) first');
    }
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.sites) out[s.name] = getParamStore().value(this.probsName(s.name));
    return out;
  }

  /** Free the prototype's initial probabilities (parameters stay in the param store). */
  dispose(): void {
    tf.dispose((this.sites ?? []).map((s) => s.init));
    this.sites = undefined;
  }
}
