import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/**
 * Run `fn`, dispose what it returns, and assert the number of live tensors is unchanged.
 * Use it around every public call in tests: memory is correctness.
 */
export function expectNoLeak(fn: () => tf.Tensor | tf.Tensor[] | void): number[] {
  const before = tf.memory().numTensors;
  const out = fn();
  const values = out instanceof tf.Tensor ? Array.from(out.dataSync()) : [];
  disposeAll(out);
  expect(tf.memory().numTensors).toBe(before);
  return values;
}

/** Async variant of {@link expectNoLeak}. */
export async function expectNoLeakAsync<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  disposeAll(out);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function disposeAll(x: unknown): void {
  if (x instanceof tf.Tensor) x.dispose();
  else if (Array.isArray(x)) x.forEach(disposeAll);
}

/** Central finite-difference gradient of a scalar function of a flat parameter vector (float64). */
export function finiteDiff(f: (x: number[]) => number, x: number[], h = 1e-3): number[] {
  return x.map((_, i) => {
    const xp = [...x];
    const xm = [...x];
    xp[i] = (xp[i] as number) + h;
    xm[i] = (xm[i] as number) - h;
    return (f(xp) - f(xm)) / (2 * h);
  });
}
