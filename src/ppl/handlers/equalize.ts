/**
 * `equalize`: give every site whose name matches one of some patterns the value of the first of
 * them (Pyro's `poutine.equalize`), e.g. one shared scale for per-category scale sites, or, with
 * `keepDist`, the model conditioned on the sites being equal.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { Delta } from '../../distributions/delta.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message, SiteType } from '../runtime.js';

/** Options of {@link equalize} (Pyro's `type` and `keep_dist`). */
export interface EqualizeOptions {
  /** The type of the sites to equalize: `'sample'` (default) or `'param'`. */
  type?: 'sample' | 'param';
  /**
   * Keep the distributions of the second and later matching sample sites (default `false`): they
   * are observed at the first site's value and scored, which conditions the model on the sites
   * being equal; without it they become point masses at that value with log-density 0.
   */
  keepDist?: boolean;
}

/** Sets matching sites to the first one's value. @internal */
export class EqualizeMessenger extends Messenger {
  private value: tf.Tensor | null = null;
  constructor(
    private readonly patterns: RegExp[],
    private readonly type: SiteType,
    private readonly keepDist: boolean,
  ) {
    super();
  }
  protected override enter(): void {
    this.value = null;
  }
  override reset(): void {
    this.value = null;
  }
  private matches(msg: Message): boolean {
    return msg.type === this.type && this.patterns.some((p) => p.test(msg.name));
  }
  override processMessage(msg: Message): void {
    if (this.value === null || !this.matches(msg)) return;
    msg.value = this.value;
    if (msg.type !== 'sample') return;
    msg.isObserved = true;
    if (!this.keepDist) {
      // Pyro's Delta(value, event_dim).mask(False) with infer {_deterministic: True}
      msg.fn = new Delta(this.value, (msg.fn?.eventShape ?? []).length);
      msg.mask = false;
      msg.infer = { deterministic: true };
    }
  }
  override postprocessMessage(msg: Message): void {
    if (this.value === null && this.matches(msg) && msg.value !== null) this.value = msg.value;
  }
}

/**
 * Make the sites of `fn` whose names fully match one of `sites` (regular expressions, Pyro's
 * `re.fullmatch`) take the value of the first of them met in the run:
 *
 * $$x_{s_2} = x_{s_3} = \dots = x_{s_1}$$
 *
 * Sample sites after the first become observed at that value: point masses with log-density 0
 * (`infer.deterministic`, so guides and MCMC do not infer them), or, with `keepDist`, scored
 * under their own distributions, which conditions the model on the equality,
 * `p(x_1 = ... = x_n = v) ∝ prod_i p_i(v)` (the density of that event, up to a constant). With
 * `type: 'param'`, params after the first read the first one's value (they are never created in
 * the param store).
 *
 * @param sites a pattern or a non-empty list of them.
 * @param options `type` (default `'sample'`), `keepDist` (default `false`).
 * @throws ArgumentError naming `sites` (not a string or list of strings, an invalid regular
 *   expression) or the option.
 * @example
 * ```ts
 * // Pyro's example: one std for every category
 * const equalStd = equalize(model, '.+_std');
 * const equalShift = equalize(equalStd, '.+_shift', { type: 'param' });
 * // x and y conditioned on being equal
 * const conditioned = equalize(model, ['x', 'y'], { keepDist: true });
 * ```
 */
export function equalize<A extends unknown[], R>(
  fn: Fn<A, R>,
  sites: string | string[],
  options: EqualizeOptions = {},
): Fn<A, R> {
  const list = typeof sites === 'string' ? [sites] : sites;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string')) {
    throw new ArgumentError(
      'sites',
      `equalize: expected a site-name pattern or a non-empty list of them, got ${String(sites)}`,
    );
  }
  const patterns = list.map((s) => {
    try {
      return new RegExp(`^(?:${s})$`);
    } catch (e) {
      throw new ArgumentError(
        'sites',
        `equalize: '${s}' is not a valid regular expression (${(e as Error).message})`,
      );
    }
  });
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `equalize: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['type', 'keepDist'], 'equalize');
  const type = options.type ?? 'sample';
  if (type !== 'sample' && type !== 'param') {
    throw new ArgumentError('type', `equalize: expected 'sample' or 'param', got ${String(type)}`);
  }
  const keepDist = options.keepDist ?? false;
  if (typeof keepDist !== 'boolean') {
    throw new ArgumentError('keepDist', `equalize: expected a boolean, got ${String(keepDist)}`);
  }
  return wrapWith(fn, () => new EqualizeMessenger(patterns, type, keepDist));
}
