/**
 * Site-value validation of the effect-handler runtime (Pyro's `enable_validation`): the global
 * switch and the check that a value given to a sample site broadcasts with the distribution's
 * `batchShape + eventShape` (event dims equal) and lies in its support.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { IndependentConstraint } from '../constraints/structured.js';
import type { Message } from './runtime.js';

let validation = true;

/**
 * Turn the checks of site values on or off (Pyro's `enable_validation`; on by default). With
 * validation, a value given to a sample site by `obs`, `condition`, `replay` or `substitute` must
 * broadcast with the site's batch and event shapes and lie in the distribution's support; the
 * error names the site. The check reads the value on the host once per site and run.
 *
 * @param on whether to validate.
 * @example
 * ```ts
 * enableValidation(false); // trusted inner loop
 * ```
 */
export function enableValidation(on = true): void {
  validation = on;
}

/** Whether site values are validated (see {@link enableValidation}). */
export function isValidationEnabled(): boolean {
  return validation;
}

/** A shape as `[a,b,c]` for error messages. @internal */
export function shapeStr(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

/**
 * Check that the value of sample site `msg` broadcasts with `batchShape + eventShape` of its
 * distribution (event dims equal) and lies in its support; throws an `ArgumentError` naming the
 * site otherwise.
 */
export function validateSampleValue(msg: Message): void {
  const fn = msg.fn;
  const v = msg.value;
  if (fn === null || v === null) return;
  const event = fn.eventShapeFor(v.shape);
  const full = [...fn.batchShape, ...event];
  const tail = v.shape.slice(v.rank - event.length);
  let ok = v.rank >= event.length && tail.every((d, i) => d === event[i]);
  for (let i = 1; ok && i <= Math.min(v.rank, full.length); i++) {
    const a = v.shape[v.rank - i] as number;
    const b = full[full.length - i] as number;
    ok = a === b || a === 1 || b === 1;
  }
  if (!ok) {
    throw new ArgumentError(
      msg.name,
      `sample site '${msg.name}': value of shape ${shapeStr(v.shape)} does not broadcast with ` +
        `the distribution's batch shape ${shapeStr(fn.batchShape)} and event shape ` +
        `${shapeStr(event)}`,
    );
  }
  const support = fn.support;
  // `independent(c, n)` holds iff `c` holds at every element of its event: check with `c`, so
  // that the offending element (not its whole event) is the one named
  let finest = support;
  while (finest instanceof IndependentConstraint) finest = finest.base;
  const inside = finest.check(v);
  const flags = inside.dataSync();
  inside.dispose();
  for (let i = 0; i < flags.length; i++) {
    if (!flags[i]) {
      const per = Math.max(1, v.size / flags.length); // the values of one checked event
      const bad = tf.tidy(() =>
        Array.from(
          tf
            .reshape(v, [-1])
            .dataSync()
            .slice(i * per, (i + 1) * per),
        ),
      );
      const shown = per === 1 ? String(bad[0]) : `[${bad.join(', ')}]`;
      throw new ArgumentError(
        msg.name,
        `sample site '${msg.name}': value ${shown} (element ${i}) is outside the support ` +
          `${support.name} of ${fn.name}`,
      );
    }
  }
}
