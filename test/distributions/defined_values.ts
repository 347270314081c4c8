/**
 * Helpers of the audit-19 distribution sweeps: read a method's values where the family defines
 * it, and compare a value with its reference under a mixed tolerance.
 */
import type * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { NotDefinedError } from '../../src/index.js';

/** A method's values and shape (the tensor disposed), or undefined where it is not defined. */
export function definedValues(f: () => tf.Tensor): { v: number[]; shape: number[] } | undefined {
  let t: tf.Tensor;
  try {
    t = f();
  } catch (e) {
    if (e instanceof NotDefinedError) return undefined;
    throw e;
  }
  const out = { v: Array.from(t.dataSync()), shape: t.shape };
  t.dispose();
  return out;
}

/** `|a - b| <= atol + rtol |b|`, the message naming `what` and the reference (`ref`). */
export function expectNear(
  a: number,
  b: number,
  rtol: number,
  atol: number,
  what: string,
  ref: string,
): void {
  expect(Math.abs(a - b), `${what}: ${a} vs ${ref} ${b}`).toBeLessThanOrEqual(
    atol + rtol * Math.abs(b),
  );
}
