/**
 * A negative axis for tfjs's cumulative ops. `tf.cumsum(x, -1)` (and `tf.cumprod`) hand the axis
 * to the kernel as given, and every stock kernel (cpu, wasm, webgl) reads `-1` as an index: the
 * result has shape `[undefined]`, and on wasm the kernel writes outside its output, corrupting
 * the heap ("memory access out of bounds" at a later, unrelated op). A Pyro port writes
 * `beta.cumprod(-1)` (the stick-breaking weights of the Dirichlet-process tutorial) as exactly
 * this. `Cumprod` also gets the gradient tfjs lacks ({@link cumprodGradient}).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { wrapKernelOnce } from './kernels/wrap_kernel.js';

const CUMULATIVE_KERNELS = ['Cumsum', 'Cumprod'];
let gradientInstalled = false;

/**
 * `Cumsum`'s gradient with the axis counted from the right when negative (tfjs's reads the
 * recorded attribute as given and fails in a transpose): `dL/dx = cumsum(dy, axis, exclusive,
 * !reverse)`, the adjoint of a running sum being the running sum from the other end; and
 * `Cumprod`'s, which tfjs lacks ({@link cumprodGradient}).
 */
function installCumsumGradient(): void {
  if (gradientInstalled) return;
  gradientInstalled = true;
  registerCumulativeGradient('Cumsum', (x, dy, axis, exclusive, reverse) =>
    tf.cumsum(dy, axis, exclusive, !reverse),
  );
  // tfjs 4.22 has no gradient for Cumprod at all: `tf.grad` of a stick-breaking weight threw
  // "gradient function not found for Cumprod" (a Pyro/NumPyro port under SVI or NUTS)
  if (tf.getGradient('Cumprod') === undefined)
    registerCumulativeGradient('Cumprod', cumprodGradient);
}

/** Register a cumulative kernel's gradient, its recorded axis counted from the right when negative. */
function registerCumulativeGradient(
  kernelName: 'Cumsum' | 'Cumprod',
  grad: (
    x: tf.Tensor,
    dy: tf.Tensor,
    axis: number,
    exclusive: boolean,
    reverse: boolean,
  ) => tf.Tensor,
): void {
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const a = attrs as unknown as { axis: number; exclusive: boolean; reverse: boolean };
      const axis = normalizeCumulativeAxis(a.axis, x.rank);
      return { x: () => grad(x, dy as tf.Tensor, axis, a.exclusive, a.reverse) };
    },
  });
}

/**
 * The cotangent of `x` for `y = cumprod(x, axis, exclusive, reverse)` (TensorFlow's rule): with
 * `y_j = prod_{k <= j} x_k` (`k < j` when exclusive; from the other end when reversed),
 *
 * $$\frac{\partial L}{\partial x_i} = \frac{1}{x_i}\sum_{j \ge i} \frac{\partial L}{\partial y_j}\,y_j
 *   = \frac{\operatorname{cumsum}(y \odot \bar y, \text{axis}, \text{exclusive}, \lnot\text{reverse})_i}{x_i}$$
 *
 * and 0 where `x_i = 0` (`divNoNan`, as TensorFlow: exact wherever no factor is zero).
 *
 * @param x the input. @param dy the output's cotangent. @param axis a non-negative axis.
 * @param exclusive the op's flag. @param reverse the op's flag.
 * @returns the input's cotangent (shape of `x`).
 * @example
 * ```ts
 * cumprodGradient(tf.tensor1d([2, 3]), tf.ones([2]), 0, false, false); // [1 + 3, 2]
 * ```
 */
export function cumprodGradient(
  x: tf.Tensor,
  dy: tf.Tensor,
  axis: number,
  exclusive: boolean,
  reverse: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.cumprod(x, axis, exclusive, reverse);
    return tf.divNoNan(tf.cumsum(tf.mul(y, dy), axis, exclusive, !reverse), x);
  });
}

/**
 * The axis numpy means: `a + rank` for `-rank <= a < 0`, `a` for `0 <= a < rank`.
 *
 * $$\operatorname{axis}(a) = \begin{cases}a + r & -r \le a < 0\\ a & 0 \le a < r\end{cases}$$
 *
 * @param axis the axis given (an integer). @param rank the input's rank.
 * @throws ArgumentError naming `axis` when it is outside `[-rank, rank)` or not an integer.
 * @example
 * ```ts
 * normalizeCumulativeAxis(-1, 2); // 1
 * ```
 */
export function normalizeCumulativeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ArgumentError(
      'axis',
      `cumsum/cumprod: expected an integer in [${-rank}, ${rank}) for a tensor of rank ${rank}, got ${axis}`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Wrap `backendName`'s `Cumsum` and `Cumprod` kernels so that a negative axis counts from the
 * right ({@link normalizeCumulativeAxis}), and `Cumsum`'s gradient likewise; idempotent.
 *
 * @param backendName a registered tfjs backend (`'cpu'`, `'wasm'`, ...).
 */
export function installCumulativeAxisFix(backendName: string): void {
  installCumsumGradient();
  for (const kernelName of CUMULATIVE_KERNELS) {
    wrapKernelOnce(kernelName, backendName, (stock) => (args) => {
      const x = (args.inputs as { x?: tf.TensorInfo }).x;
      const attrs = args.attrs as { axis?: number } | undefined;
      if (x === undefined || attrs?.axis === undefined) return stock(args);
      const axis = normalizeCumulativeAxis(attrs.axis, x.shape.length);
      return stock({ ...args, attrs: { ...args.attrs, axis } });
    });
  }
}
