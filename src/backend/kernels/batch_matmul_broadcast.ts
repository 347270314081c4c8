/**
 * `BatchMatMul` with broadcast batch dimensions, forward and gradient (tfjs 4.22 gets both wrong).
 *
 * Forward: every tfjs backend indexes the flattened batch of each operand modulo its size
 * (`A[b mod |b_A|]`), which is numpy's broadcasting only when an operand's batch shape, after its
 * leading ones, is the output's trailing batch shape. Otherwise (`[2, 1, m, k] @ [5, k, n]`) the
 * product is silently wrong. {@link installBatchMatMulBroadcast} wraps the backend's kernel: such
 * operands are first tiled to the output's batch shape (`tile` of `A` reshaped to
 * `[1,…,1, b_A, m, k]`), which the stock kernel then multiplies correctly.
 *
 * Gradient:
 * tfjs 4.22's own gradient returns `∂L/∂A = dY Bᵀ` and `∂L/∂B = Aᵀ dY` with the *output's* batch
 * shape, so `tf.grads` throws ("The gradient of input 'b' has shape '2,4,5', which does not match
 * the shape of the input '4,5'") whenever `tf.matMul` broadcast a batch dimension — e.g. a
 * vectorized `[P, N, D]` design times a `[D, K]` weight in a model with particles. For
 * `Y = op(A) op(B)` with `op` the optional transpose, batch shape `b_Y = broadcast(b_A, b_B)`:
 *
 * $$\frac{\partial L}{\partial A} = \operatorname{sum}_{b_Y \to b_A}\big(\mathrm{d}Y\,
 * \mathrm{op}(B)^\top\big)\ (\text{transposed back when } A \text{ was}),\qquad
 * \frac{\partial L}{\partial B} = \operatorname{sum}_{b_Y \to b_B}\big(\mathrm{op}(A)^\top
 * \mathrm{d}Y\big)\ (\text{likewise}),$$
 *
 * where `sum_{b_Y → b_A}` sums over the batch axes `A` was broadcast along (absent or of size 1)
 * and reshapes to `A`'s shape. Without broadcasting the values are tfjs's own.
 */
import * as tf from '@tensorflow/tfjs';
import { wrapKernelOnce } from './wrap_kernel.js';

/**
 * Sum `g` over the leading axes broadcast from `shape` (absent, or 1 where `g` is larger) and
 * reshape to `shape`: the adjoint of broadcasting `shape` to `g.shape`.
 */
export function sumToShape(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const axes = tf.backend_util.getReductionAxes([...shape], g.shape);
  return tf.tidy(() => tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, [...shape]));
}

/**
 * Whether the stock kernels' modulo indexing of an operand with batch shape `batch` is numpy
 * broadcasting into the output batch shape `out`: after its leading ones, `batch` must be the
 * trailing part of `out`.
 */
export function moduloBroadcasts(batch: readonly number[], out: readonly number[]): boolean {
  const p = [...new Array<number>(out.length - batch.length).fill(1), ...batch];
  let k = 0;
  while (k < p.length && p[k] === 1) k++;
  for (let i = k; i < p.length; i++) if (p[i] !== out[i]) return false;
  return true;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** `x` (rank `r`) as `[1,…,1, ...batch, rows, cols]` tiled to the batch shape `out`. */
function expandBatch(x: tf.TensorInfo, out: readonly number[]): tf.Tensor[] {
  const engine = tf.engine();
  const batch = x.shape.slice(0, -2);
  const mat = x.shape.slice(-2);
  const padded = [...new Array<number>(out.length - batch.length).fill(1), ...batch];
  const input = x as unknown as tf.Tensor; // a kernel's input, read only
  const r = engine.runKernel('Reshape', { x: input }, { shape: [...padded, ...mat] }) as tf.Tensor;
  const reps = [...padded.map((d, i) => (d === 1 ? (out[i] as number) : 1)), 1, 1];
  return [r, engine.runKernel('Tile', { x: r }, { reps }) as tf.Tensor];
}

/** `previous`, with operands whose batch would be indexed wrongly tiled to the output batch. */
export function broadcastingBatchMatMul(previous: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    // the common products (a plain matrix on one side, or equal batches) index rightly: no work
    // beyond this test on the hot path
    if (
      batchA.length === 0 ||
      batchB.length === 0 ||
      (batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]))
    )
      return previous(args);
    let out: number[];
    try {
      out = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
    } catch {
      return previous(args); // the stock kernel reports incompatible shapes its own way
    }
    if (moduloBroadcasts(batchA, out) && moduloBroadcasts(batchB, out)) return previous(args);
    const temps: tf.Tensor[] = [];
    try {
      const ea = expandBatch(a, out);
      temps.push(...ea);
      const eb = expandBatch(b, out);
      temps.push(...eb);
      return previous({ ...args, inputs: { ...args.inputs, a: ea[1], b: eb[1] } });
    } finally {
      tf.dispose(temps);
    }
  };
}

/**
 * Wrap `backendName`'s `BatchMatMul` kernel with {@link broadcastingBatchMatMul} (idempotent per
 * backend; call after any other wrapper of that kernel is installed).
 */
export function installBatchMatMulBroadcast(backendName: string): void {
  wrapKernelOnce('BatchMatMul', backendName, broadcastingBatchMatMul);
}

let installed = false;

/** Register the broadcasting-aware `BatchMatMul` gradient (idempotent; any backend). */
export function installBatchMatMulGrad(): void {
  if (installed) return;
  installed = true;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const { transposeA = false, transposeB = false } = (attrs ?? {}) as {
        transposeA?: boolean;
        transposeB?: boolean;
      };
      const g = dy as tf.Tensor;
      const da = (): tf.Tensor =>
        !transposeA
          ? tf.matMul(g, b, false, !transposeB)
          : transposeB
            ? tf.matMul(b, g, true, true)
            : tf.matMul(b, g, false, true);
      const db = (): tf.Tensor =>
        !transposeB
          ? tf.matMul(a, g, !transposeA, false)
          : transposeA
            ? tf.matMul(g, a, true, true)
            : tf.matMul(g, a, true, false);
      return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
    },
  });
}
