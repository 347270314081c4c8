/**
 * Site annotations for inference: `inferConfig` (Pyro's `infer_config`), adding computed `infer`
 * options to every site, and `configEnumerate` (Pyro's `config_enumerate`), marking the discrete
 * latent sites (or every latent site, for sampled enumeration with `S` draws weighted `1/S`) for
 * `'parallel'` or `'sequential'` enumeration.
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import { checkNumSamples } from './enum_support.js';

/** Options of {@link configEnumerate} (Pyro's `expand` and `num_samples`). */
export interface ConfigEnumerateOptions {
  /**
   * Give each enumerated site its values expanded over its batch shape, `[K, 1, ..., 1,
   * ...batchShape]`, instead of `[K, 1, ..., 1]` (Pyro's `expand`; same results, larger tensors).
   * Default: not set on the sites (false).
   */
  expand?: boolean;
  /**
   * Sampled enumeration (Pyro's `num_samples`, with `'parallel'` only): every latent site (discrete
   * or continuous) takes `S` independent draws from its distribution along its enumeration dim
   * instead of its support values; `TraceEnumELBO` weighs each by `1/S` (with the score-function
   * gradient of Pyro's DiCE factor `exp(log p - sg(log p))`), so that summing over the draws gives
   * `log (1/S) sum_s p(x | z_s)` in the model and `(1/S) sum_s f(z_s)` in the guide.
   */
  numSamples?: number;
}

/**
 * Mark the latent sites of `fn` for enumeration (Pyro's `config_enumerate`): every discrete
 * latent site gets `{enumerate: mode}` (with `numSamples`, every latent site gets `{enumerate:
 * 'parallel', numSamples}`); sites that already have an annotation keep it.
 *
 * - `'parallel'`: all values at once along a fresh batch dim (see {@link enumerate}).
 * - `'sequential'` (guides, with `TraceEnumELBO`): the guide runs once per value, each run
 *   weighted by the guide's probability of it (Pyro's `iter_discrete_traces`).
 *
 * @param fn the model or guide.
 * @param mode Pyro's `default` argument: `'parallel'` (default) or `'sequential'`.
 * @param options `expand`, `numSamples` ({@link ConfigEnumerateOptions}).
 * @throws ArgumentError naming `default`, `expand` or `numSamples` for a bad value.
 * @example
 * ```ts
 * const elbo = new TraceEnumELBO();
 * const svi = new SVI(configEnumerate(model), guide, tf.train.adam(0.05), elbo);
 * configEnumerate(guide, 'sequential'); // Pyro's config_enumerate(guide, "sequential")
 * configEnumerate(model, 'parallel', { numSamples: 16 }); // sampled enumeration
 * ```
 */
export function configEnumerate<A extends unknown[], R>(
  fn: Fn<A, R>,
  mode: 'parallel' | 'sequential' = 'parallel',
  options: ConfigEnumerateOptions = {},
): Fn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `configEnumerate: expected a function, got ${typeof fn}`);
  }
  if (mode !== 'parallel' && mode !== 'sequential') {
    throw new ArgumentError(
      'default',
      `configEnumerate: expected 'parallel' or 'sequential', got ${JSON.stringify(mode)}`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(
      'options',
      `configEnumerate: expected an object, got ${String(options)}`,
    );
  }
  checkOptionKeys(options, ['expand', 'numSamples'], 'configEnumerate');
  const { expand, numSamples } = options;
  if (expand !== undefined && typeof expand !== 'boolean') {
    throw new ArgumentError('expand', `configEnumerate: expected a boolean, got ${String(expand)}`);
  }
  if (numSamples !== undefined) {
    checkNumSamples(numSamples, 'configEnumerate');
    if (mode !== 'parallel') {
      throw new ArgumentError(
        'numSamples',
        `configEnumerate: numSamples is only compatible with 'parallel' (got '${mode}'), as in Pyro`,
      );
    }
  }
  const extra: Record<string, unknown> = {};
  if (expand !== undefined) extra.expand = expand;
  return inferConfig(fn, (msg) => {
    if (msg.type !== 'sample' || msg.isObserved || msg.fn === null) return {};
    if (numSamples !== undefined) return { enumerate: mode, numSamples, ...extra };
    return msg.fn.support.isDiscrete ? { enumerate: mode, ...extra } : {};
  });
}

/** Adds `config(msg)` to the `infer` annotations of every site (Pyro's `infer_config`). */
export class InferConfigMessenger extends Messenger {
  constructor(private readonly config: (msg: Message) => Record<string, unknown>) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' && msg.type !== 'param') return;
    msg.infer = { ...this.config(msg), ...msg.infer };
  }
}

/**
 * Annotate the sites of `fn` with `infer` options computed from each message (site options set
 * in the model win).
 *
 * @example
 * ```ts
 * const m = inferConfig(model, (msg) => (msg.name === 'z' ? { enumerate: 'parallel' } : {}));
 * ```
 */
export function inferConfig<A extends unknown[], R>(
  fn: Fn<A, R>,
  config: (msg: Message) => Record<string, unknown>,
): Fn<A, R> {
  if (typeof config !== 'function') throw new ArgumentError('config', 'expected a function');
  return wrapWith(fn, () => new InferConfigMessenger(config));
}
