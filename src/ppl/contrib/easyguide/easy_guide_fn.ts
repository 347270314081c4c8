/**
 * `easyGuide(model, fn)`, Pyro's `@easy_guide(model)` decorator: an {@link EasyGuide} whose
 * guide method is the function `fn(self, ...args)`.
 */
import { ArgumentError } from '../../../utils/errors.js';
import type { Fn } from '../../messenger.js';
import { EasyGuide, type EasyGuideOptions } from './easyguide.js';

/** An {@link EasyGuide} whose guide method is a function. */
class FnEasyGuide<A extends unknown[], R> extends EasyGuide<A, R> {
  constructor(
    model: Fn<A, unknown>,
    private readonly fn: (self: EasyGuide<A, R>, ...args: A) => R,
    options: EasyGuideOptions,
  ) {
    super(model, options);
  }
  guide(...args: A): R {
    return this.fn(this, ...args);
  }
}

/**
 * An {@link EasyGuide} from a guide function (Pyro's `@easy_guide(model)` decorator):
 * `fn(self, ...args)` receives the guide for `self.plate`, `self.group`, `self.mapEstimate`.
 *
 * @example
 * ```ts
 * const guide = easyGuide(model, (self, x: tf.Tensor) => {
 *   self.mapEstimate('sigma');
 * });
 * ```
 * @throws ArgumentError naming `fn` unless it is a function.
 */
export function easyGuide<A extends unknown[], R>(
  model: Fn<A, unknown>,
  fn: (self: EasyGuide<A, R>, ...args: A) => R,
  options: EasyGuideOptions = {},
): EasyGuide<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `expected a guide function (self, ...args), got ${String(fn)}`);
  }
  return new FnEasyGuide(model, fn, options);
}
