/**
 * The options and call forms of `EasyGuide.plate`: `plate(name, fn)`,
 * `plate(name, options, fn)`, or as `ppl.plate`: `plate(name, size, [options,] fn)`; the size,
 * dim and subsampling are the model's plate's unless given.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';

/** Options of `EasyGuide.plate`: as `plate`'s, with the size optional. */
export interface EasyPlateOptions {
  /** Full size; default the model's plate's. */
  size?: number;
  /** Visit a random subset of this size; default the model's plate's subsample size. */
  subsampleSize?: number;
  /** The indices visited (e.g. the minibatch the model is given too). */
  subsample?: tf.Tensor | number[];
  /** The plate's dim; default the model's plate's. */
  dim?: number;
}

/**
 * The options and body of a call of `EasyGuide.plate`, whichever form it took, checked:
 * the body a function, the options an object with known keys.
 * @throws ArgumentError naming `fn` or `options` (and the plate) otherwise.
 * @internal
 */
export function plateArgs<T>(
  name: string,
  options: EasyPlateOptions | number | ((idx: tf.Tensor) => T),
  fn?: ((idx: tf.Tensor) => T) | EasyPlateOptions,
  body3?: (idx: tf.Tensor) => T,
): { o: EasyPlateOptions; body: (idx: tf.Tensor) => T } {
  // plate(name, fn), plate(name, options, fn), or as ppl.plate: plate(name, size, [options,] fn)
  let o: EasyPlateOptions;
  let body: unknown;
  if (typeof options === 'function') {
    o = {};
    body = options;
  } else if (typeof options === 'number') {
    const rest = typeof fn === 'function' ? {} : (fn ?? {});
    if (rest === null || typeof rest !== 'object') {
      throw new ArgumentError(
        'options',
        `plate '${name}': expected an object, got ${String(rest)}`,
      );
    }
    o = { ...rest, size: options };
    body = typeof fn === 'function' ? fn : body3;
  } else {
    o = options;
    body = fn;
  }
  if (typeof body !== 'function') {
    throw new ArgumentError('fn', `plate '${name}' needs a body function`);
  }
  if (o === null || typeof o !== 'object') {
    throw new ArgumentError('options', `plate '${name}': expected an object, got ${String(o)}`);
  }
  checkOptionKeys(o, ['size', 'subsampleSize', 'subsample', 'dim'], `plate '${name}'`);
  return { o, body: body as (idx: tf.Tensor) => T };
}
