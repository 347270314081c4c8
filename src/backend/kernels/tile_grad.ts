/**
 * The gradient of `Tile` at every rank. tfjs 4.22's own gradient handles ranks 1 to 4 only (it
 * throws "Gradient for tile operation is not implemented for rank-5 tensors yet", e.g. under NUTS
 * for a model that calls `tf.where` on rank-5 operands: NumPyro's MACE with two enumerated sites
 * in nested plates) and adds one slice per repetition. With `y = tile(x, r)`, `y` of shape
 * `[r_0 s_0, ..., r_{n-1} s_{n-1}]` for `x` of shape `s`, every axis `i` with `r_i > 1` is summed
 * over its repetitions, one axis at a time on a 4-d view:
 *
 * $$\frac{\partial L}{\partial x}[\ldots, j_i, \ldots] = \sum_{k=0}^{r_i - 1}
 *   \frac{\partial L}{\partial y}[\ldots, k s_i + j_i, \ldots]$$
 *
 * (`dy` viewed as `[prod(before), r_i, s_i, prod(after)]`, summed over its second axis). This
 * replaces tfjs's gradient at every rank (one reduction per tiled axis instead of one slice per
 * repetition).
 */
import * as tf from '@tensorflow/tfjs';

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/**
 * `dL/dx` from `dL/dy` for `y = tile(x, reps)`.
 *
 * @param dy the output's cotangent, shape `[reps_i * xShape_i]`.
 * @param xShape the input's shape.
 * @param reps the repetitions per axis.
 * @returns the input's cotangent, shape `xShape`.
 * @example
 * ```ts
 * tileGradient(tf.ones([4, 6]), [2, 3], [2, 2]); // [[4, 4, 4], [4, 4, 4]]
 * ```
 */
export function tileGradient(
  dy: tf.Tensor,
  xShape: readonly number[],
  reps: readonly number[],
): tf.Tensor {
  return tf.tidy(() => {
    let g = dy;
    const shape = [...dy.shape];
    for (let i = 0; i < xShape.length; i++) {
      const r = reps[i] ?? 1;
      if (r === 1) continue;
      const before = prod(shape.slice(0, i));
      const after = prod(shape.slice(i + 1));
      g = tf.sum(tf.reshape(g, [before, r, xShape[i] as number, after]), 1);
      shape[i] = xShape[i] as number;
      g = tf.reshape(g, shape);
    }
    return tf.reshape(g, [...xShape]);
  });
}

/** Register {@link tileGradient} as the gradient of `Tile` (idempotent). */
export function installTileGrad(): void {
  tf.registerGradient({
    kernelName: 'Tile',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const reps = (attrs as unknown as { reps: number[] }).reps;
      return { x: () => tileGradient(dy as tf.Tensor, x.shape, reps) };
    },
  });
}
