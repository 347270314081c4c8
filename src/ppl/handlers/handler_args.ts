/**
 * Argument checks shared by the effect handlers, run when the handler is applied (before the
 * model runs): a wrong argument is an `ArgumentError` naming it, never a raw `TypeError` or a tfjs
 * message from inside the model's run.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { isNumericLike } from '../../utils/tensor.js';

/**
 * Throw unless `data` is a record of site values: live tensors or numeric values (numbers,
 * booleans, nested arrays, typed arrays).
 * @param data the handler's data, e.g. `condition(model, {y: obs})`.
 * @param handler the handler's name, for the message.
 * @param arg the argument's name in the message (default `data`).
 * @throws ArgumentError naming `arg` (and the site).
 */
export function checkSiteData(data: unknown, handler: string, arg = 'data'): void {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ArgumentError(arg, `${handler}: expected {site: value}, got ${String(data)}`);
  }
  for (const [site, v] of Object.entries(data)) {
    const ok = v instanceof tf.Tensor ? !v.isDisposed && v.dtype !== 'string' : isNumericLike(v);
    if (!ok) {
      throw new ArgumentError(
        arg,
        `${handler}: site '${site}': expected a live numeric tensor, a number or an array of ` +
          `numbers, got ${v instanceof tf.Tensor ? (v.isDisposed ? 'a disposed tensor' : v.dtype) : typeof v}`,
      );
    }
  }
}

/**
 * Throw unless `v` is an array of strings.
 * @throws ArgumentError naming `name`.
 */
export function checkStringList(v: unknown, name: string, handler: string): void {
  if (v !== undefined && (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))) {
    throw new ArgumentError(name, `${handler}: expected an array of strings, got ${String(v)}`);
  }
}
