/**
 * `AutoCallable` (Pyro's): a hand-written guide function wrapped as an autoguide, so that it can
 * be a part of an {@link AutoGuideList} next to autoguides (e.g. a custom guide for some sites,
 * `AutoNormal` for the rest), with an optional `median` function for the summaries. The model it
 * is built on (typically `block(model, {expose: [...]})`) names its sites, discrete ones
 * included, which the list checks disjoint from the other parts' without running the guide.
 *
 * Its posterior summaries are the wrapped guide's: `median()` calls the given function (without
 * one, Pyro's empty record), `samplePosterior(n)` runs the guide `n` times (at the arguments of
 * its last call) and stacks the values of its latent sites, and `quantiles(qs)` are the empirical
 * quantiles of 1000 such draws: for draws `z_(1) <= ... <= z_(n)`, `Q(q) = z_(ceil(q n))`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { block } from '../handlers/block.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import { HANDLER_STACK } from '../runtime.js';
import type { Trace } from '../trace.js';
import { AutoGuide, checkNumSamples, normalQuantiles } from './guide.js';

/** Options of {@link AutoCallable}. */
export interface AutoCallableOptions<A extends unknown[]> {
  /** Posterior medians by site name (new tensors), given the model's arguments (or none). */
  median?: (...args: A | []) => Record<string, tf.Tensor>;
  /** Name prefix (used in messages). Default `'AutoCallable'`. */
  prefix?: string;
}

/** Number of guide draws behind {@link AutoCallable.quantiles}. */
const QUANTILE_DRAWS = 1000;

/**
 * A user guide as an autoguide (Pyro's `AutoCallable`).
 *
 * @example
 * ```ts
 * const guide = new AutoGuideList(model);
 * guide.append(new AutoCallable(block(model, { expose: ['sigma'] }), (x) => {
 *   sample('sigma', new Delta(param('sigma_map', 1, { constraint: positive })));
 * }, { median: () => ({ sigma: getParamStore().value('sigma_map') }) }));
 * guide.append(new AutoNormal(block(model, { hide: ['sigma'] })));
 * ```
 */
export class AutoCallable<A extends unknown[]> extends AutoGuide<A> {
  readonly guide: Fn<A, unknown>;
  private readonly medianFn: ((...args: A | []) => Record<string, tf.Tensor>) | undefined;
  private lastArgs: A | undefined;
  private names: string[] | undefined;

  /**
   * @param model the model restricted to the guide's sites (names them for `AutoGuideList`).
   * @param guide the guide function: draws the model's latent sites with `sample`.
   * @param options `median`, `prefix`; or the median function itself (Pyro's positional
   *   `AutoCallable(model, guide, median)`).
   * @throws ArgumentError naming `guide`, `median` or an unknown option.
   */
  constructor(
    model: Fn<A, unknown>,
    guide: Fn<A, unknown>,
    medianOrOptions: AutoCallableOptions<A> | ((...args: A | []) => Record<string, tf.Tensor>) = {},
  ) {
    const options: AutoCallableOptions<A> =
      typeof medianOrOptions === 'function' ? { median: medianOrOptions } : medianOrOptions;
    if (typeof guide !== 'function') {
      throw new ArgumentError('guide', `expected a guide function, got ${String(guide)}`);
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['median', 'prefix'], 'AutoCallable');
    if (options.median !== undefined && typeof options.median !== 'function') {
      throw new ArgumentError(
        'median',
        `expected a function returning the medians by site, got ${String(options.median)}`,
      );
    }
    super(model, options.prefix === undefined ? {} : { prefix: options.prefix }, 'AutoCallable');
    this.guide = guide;
    this.medianFn = options.median;
  }

  /** The wrapped guide's latent draws in a trace: the non-auxiliary latent sample sites. */
  private static draws(tr: Trace): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of tr.latentSites()) {
      if (s.infer.isAuxiliary === true || s.value === null) continue;
      out[s.name] = s.value;
    }
    return out;
  }

  /**
   * The latent sample sites of its model (one blocked run, cached), discrete ones included (a
   * hand-written guide may draw them): what {@link AutoGuideList} checks disjoint.
   */
  override siteNames(...args: A): string[] {
    if (this.names === undefined) {
      const names: string[] = [];
      tf.tidy(() => {
        const tr = block(() => trace(this.model).getTraceUntidied(...args).trace)();
        for (const s of tr.latentSites()) {
          if (s.infer.enumerate !== 'parallel' && s.infer.isAuxiliary !== true) names.push(s.name);
        }
      });
      this.names = names;
    }
    return [...this.names];
  }

  /** The guide: runs the wrapped function; the values of its latent sites by name. */
  call(...args: A): Record<string, tf.Tensor> {
    this.siteNames(...args);
    this.lastArgs = args;
    return this.standalone(() =>
      AutoCallable.draws(trace(this.guide).getTraceUntidied(...args).trace),
    );
  }

  /** The given `median` function's record (Pyro's default: none, `{}`). */
  median(...args: A | []): Record<string, tf.Tensor> {
    if (this.medianFn === undefined) return {};
    const m = this.medianFn(...args);
    if (m === null || typeof m !== 'object') {
      throw new ArgumentError('median', `expected a record of tensors by site, got ${String(m)}`);
    }
    return m;
  }

  /** `n` runs of the guide at its last call's arguments, by site: `[n, ...siteShape]`. */
  samplePosterior(n: number): Record<string, tf.Tensor> {
    checkNumSamples(n);
    const args = this.lastArgs;
    if (args === undefined) {
      throw new ArgumentError('guide', 'call the guide (or take one SVI step) first');
    }
    if (HANDLER_STACK.length > 0) {
      throw new ArgumentError(
        'samplePosterior',
        'draws of an AutoCallable are made outside handlers (call it outside SVI/trace)',
      );
    }
    return tf.tidy(() => {
      const runs: Record<string, tf.Tensor>[] = [];
      for (let i = 0; i < n; i++) {
        runs.push(AutoCallable.draws(trace(this.guide).getTraceUntidied(...args).trace));
      }
      const out: Record<string, tf.Tensor> = {};
      for (const name of Object.keys(runs[0] ?? {})) {
        out[name] = tf.stack(runs.map((r) => r[name] as tf.Tensor));
      }
      return out;
    });
  }

  /** Empirical quantiles of 1000 guide draws, by site: `[qs.length, ...siteShape]`. */
  quantiles(qs: number[]): Record<string, tf.Tensor> {
    normalQuantiles(qs); // the same checks (and messages) as the other guides
    const draws = this.samplePosterior(QUANTILE_DRAWS);
    try {
      const out: Record<string, tf.Tensor> = {};
      for (const [name, d] of Object.entries(draws)) {
        out[name] = tf.tidy(() => {
          const shape = d.shape.slice(1);
          const flat = tf.transpose(tf.reshape(d, [QUANTILE_DRAWS, -1]));
          // ascending order statistics per element: [m, n]
          const sorted = tf.reverse(tf.topk(flat, QUANTILE_DRAWS).values, -1);
          const picks = qs.map((q) =>
            Math.min(QUANTILE_DRAWS - 1, Math.max(0, Math.ceil(q * QUANTILE_DRAWS) - 1)),
          );
          const at = tf.gather(sorted, tf.tensor1d(picks, 'int32'), 1); // [m, qs]
          return tf.reshape(tf.transpose(at), [qs.length, ...shape]);
        });
      }
      return out;
    } finally {
      tf.dispose(Object.values(draws));
    }
  }
}
