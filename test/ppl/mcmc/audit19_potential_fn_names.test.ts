/**
 * Audit 19: `ppl.potentialFromFn(U, initParams)` types `U`'s argument by the names of
 * `initParams`, so the guide's `({ x, y }) => ...` compiles under `noUncheckedIndexedAccess` (it
 * was `Record<string, tf.Tensor>`: every destructured parameter `tf.Tensor | undefined`). The
 * value and gradient are checked against the closed form of the banana potential.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ppl } from '../../../src/index.js';

describe('potentialFromFn: parameter names from initParams', () => {
  it('U receives a tensor per name of initParams; value and gradient are the closed form', () => {
    // U(x, y) = x²/2 + 2 (y - x²)²; dU/dx = x - 8 x (y - x²), dU/dy = 4 (y - x²)
    const pot = ppl.potentialFromFn(
      ({ x, y }) => {
        expectTypeOf(x).toEqualTypeOf<tf.Tensor>();
        expectTypeOf(y).toEqualTypeOf<tf.Tensor>();
        return tf.add(tf.mul(0.5, tf.square(x)), tf.mul(2, tf.square(tf.sub(y, tf.square(x)))));
      },
      { x: 0, y: 0 },
    );
    const before = tf.memory().numTensors;
    const [x, y] = [0.7, -0.4];
    const { value, grad } = pot.valueAndGrad(Float64Array.from([x, y]));
    expect(value).toBeCloseTo(0.5 * x * x + 2 * (y - x * x) ** 2, 5);
    expect(grad[0]).toBeCloseTo(x - 8 * x * (y - x * x), 4);
    expect(grad[1]).toBeCloseTo(4 * (y - x * x), 4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a name U reads that initParams lacks is a type error', () => {
    // @ts-expect-error 'z' is not a parameter
    const f = () => ppl.potentialFromFn(({ z }) => tf.square(z), { x: 0 });
    expect(typeof f).toBe('function');
  });
});
