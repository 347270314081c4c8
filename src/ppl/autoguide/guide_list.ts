/**
 * `AutoGuideList` (Pyro's): one guide made of autoguides over disjoint sets of the model's latent
 * sites, e.g. a MAP point mass on some sites and a Normal on the rest:
 *
 * $$q(z) = \prod_k q_k(z_{S_k}),\qquad S_k \cap S_l = \emptyset \ (k \ne l)$$
 *
 * Each part is built on the model restricted to its sites with `block`
 * (`block(model, {expose: [...]})`, `block(model, {hide: [...]})`); calling the list calls every
 * part in order and merges their values, and `median()`, `quantiles(qs)` and `samplePosterior(n)`
 * merge the parts' summaries. The parts' site sets are checked to be disjoint on the first call,
 * before any part runs.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { Fn } from '../messenger.js';
import { AutoGuide, checkNumSamples, normalQuantiles } from './guide.js';
import type { LatentSpec } from './prototype.js';

/** Options of {@link AutoGuideList}. */
export interface AutoGuideListOptions {
  /** Name prefix (the parts keep their own). Default `'AutoGuideList'`. */
  prefix?: string;
}

function checkListOptions(options: AutoGuideListOptions): AutoGuideListOptions {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['prefix'], 'AutoGuideList');
  return options;
}

/**
 * A guide composed of autoguides over disjoint sets of sites.
 *
 * @example
 * ```ts
 * const guide = new AutoGuideList(model);
 * guide.append(new AutoDelta(block(model, { expose: ['sigma'] })));
 * guide.append(new AutoNormal(block(model, { hide: ['sigma'] })));
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * svi.step(data);
 * guide.median(); // {sigma: MAP estimate, ...: Normal medians}
 * ```
 */
export class AutoGuideList<A extends unknown[]> extends AutoGuide<A> {
  private readonly parts: AutoGuide<A>[] = [];
  /** Number of parts whose sites were checked disjoint. */
  private checked = 0;

  /**
   * @param model the whole model (each part holds its own restriction of it).
   * @param options the list's options.
   */
  constructor(model: Fn<A, unknown>, options: AutoGuideListOptions = {}) {
    super(model, checkListOptions(options), 'AutoGuideList');
  }

  /**
   * Add a part (Pyro's `append`); returns the list.
   * @throws ArgumentError naming `part` unless it is an autoguide other than the list.
   */
  append(part: AutoGuide<A>): this {
    if (!(part instanceof AutoGuide) || part === this) {
      throw new ArgumentError(
        'part',
        'expected an autoguide (AutoNormal, AutoDelta, AutoDiscreteParallel, ...) built on the ' +
          'model, e.g. on ' +
          "block(model, {expose: ['a']})",
      );
    }
    this.parts.push(part);
    return this;
  }

  /** The parts, in order. */
  get guides(): readonly AutoGuide<A>[] {
    return this.parts;
  }

  /** The latent sites of every part, in order. */
  override get specs(): LatentSpec[] {
    return this.parts.flatMap((p) => p.specs);
  }

  override latentSites(...args: A): LatentSpec[] {
    return this.parts.flatMap((p) => p.latentSites(...args));
  }

  /** The names of every part's sites, in order. */
  override siteNames(...args: A): string[] {
    return this.parts.flatMap((p) => p.siteNames(...args));
  }

  /** Check that the parts' site sets are disjoint (once per new part; runs no part). */
  private checkDisjoint(args: A): void {
    if (this.parts.length === 0) {
      throw new ArgumentError('parts', 'AutoGuideList has no parts: append autoguides first');
    }
    if (this.checked === this.parts.length) return;
    const owner = new Map<string, number>();
    this.parts.forEach((p, k) => {
      for (const name of p.siteNames(...args)) {
        const other = owner.get(name);
        if (other !== undefined) {
          throw new ArgumentError(
            'parts',
            `site '${name}' is a latent site of part ${other} (${this.parts[other]?.prefix}) ` +
              `and of part ${k} (${p.prefix}): give each part its own sites, e.g. with ` +
              'block(model, {expose: [...]}) / block(model, {hide: [...]})',
          );
        }
        owner.set(name, k);
      }
    });
    this.checked = this.parts.length;
  }

  /** Merge the parts' records (site sets are disjoint); frees them if a part throws. */
  private merge(f: (p: AutoGuide<A>) => Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    try {
      for (const p of this.parts) Object.assign(out, f(p));
    } catch (e) {
      tf.dispose(Object.values(out));
      throw e;
    }
    return out;
  }

  /** Throw unless the list was called (its parts have their sites). */
  private requireCalled(): void {
    if (this.checked === 0) {
      throw new ArgumentError('guide', 'call the guide (or take one SVI step) first');
    }
  }

  /** The guide: runs every part in order; the values of all their sites by name. */
  call(...args: A): Record<string, tf.Tensor> {
    this.checkDisjoint(args);
    return this.merge((p) => p.call(...args));
  }

  /** Every part's medians, by site (new tensors). */
  median(...args: A | []): Record<string, tf.Tensor> {
    if (this.checked === 0 && args.length > 0) tf.dispose(Object.values(this.call(...(args as A))));
    this.requireCalled();
    return this.merge((p) => p.median());
  }

  /** Every part's quantiles at `qs`, by site: shape `[qs.length, ...siteShape]`. */
  quantiles(qs: number[]): Record<string, tf.Tensor> {
    normalQuantiles(qs);
    this.requireCalled();
    return this.merge((p) => p.quantiles(qs));
  }

  /** `n` draws from every part, by site: shape `[n, ...siteShape]`. */
  samplePosterior(n: number): Record<string, tf.Tensor> {
    checkNumSamples(n);
    this.requireCalled();
    return this.merge((p) => p.samplePosterior(n));
  }

  /** Free every part's prototype. */
  override dispose(): void {
    for (const p of this.parts) p.dispose();
    super.dispose();
  }
}
