/**
 * Fused ops of the Normal distribution: reparameterized sampling and the log-density (element-wise
 * or summed), each one kernel forward and one backward where the backend has deepprob's Normal
 * kernels (wasm, cpu; `kernels/normal.ts`), and the equivalent composed tfjs ops elsewhere (webgl,
 * webgpu, tensorflow, `DEEPPROB_KERNELS=stock`) or when the parameters broadcast in a way the
 * kernels do not index (see {@link normalFusable}). Both paths draw the same seeded noise
 * (`randomNormal`), so they agree to float32 rounding.
 *
 * The kernels' gradients are registered (no `customGrad` scope): autodiff calls only the closures
 * of the inputs on the path to the loss, each one kernel, so a prior with constant `loc`/`scale`
 * costs one gradient kernel (in `x`), a guide's `log q` three.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes } from '../utils/tensor.js';
import { nextSeed } from '../utils/seed.js';
import { randomNormal } from './random.js';
import {
  HALF_LOG_2PI,
  NORMAL_LOG_PROB,
  NORMAL_LOG_PROB_GRAD,
  NORMAL_LOG_PROB_SUM,
  NORMAL_RSAMPLE,
  NORMAL_RSAMPLE_GRAD,
} from './kernels/normal.js';

/** `dy` as float32 (gradients may arrive as another dtype). */
function f32(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/** `dy` summed down to a cyclically indexed parameter's shape (gradient of broadcasting). */
function reduceTo(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  if (size === dy.size) return tf.reshape(dy, shape);
  return tf.reshape(tf.sum(tf.reshape(dy, [-1, size]), 0), shape);
}

/**
 * Gradients of the fused kernels, registered once (they run only where the forward kernel ran).
 * `DeepprobNormalRsample`: d/dloc = dy, d/dscale = dy eps, d/deps = dy scale (summed over shared
 * parameters). `DeepprobNormalLogProb(Sum)`: one `DeepprobNormalLogProbGrad` kernel per input.
 */
function registerGradients(): void {
  tf.registerGradient({
    kernelName: NORMAL_RSAMPLE,
    // loc only by its shape (an attribute): saving it would copy it on wasm
    inputsToSave: ['scale', 'eps'],
    gradFunc: (dy, saved, attrs) => {
      const [scale, eps] = saved as [tf.Tensor, tf.Tensor];
      const { locShape } = attrs as unknown as { locShape: number[] };
      const g = f32(dy as tf.Tensor);
      return {
        loc: () => reduceTo(g, locShape),
        // one scale per element: dy * eps is a single (multithreaded SIMD) multiply
        scale: () =>
          scale.size === g.size
            ? tf.mul(g, eps)
            : (tf.engine().runKernel(NORMAL_RSAMPLE_GRAD, { dy: g, eps }, {
                scaleShape: scale.shape,
              } as unknown as tf.NamedAttrMap) as tf.Tensor),
        eps: () => tf.mul(g, scale),
      };
    },
  });
  for (const kernelName of [NORMAL_LOG_PROB, NORMAL_LOG_PROB_SUM]) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x', 'loc', 'scale'],
      gradFunc: (dy, saved) => {
        const [x, loc, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const g = f32(dy as tf.Tensor);
        const grad = (wrt: number) => (): tf.Tensor =>
          tf.engine().runKernel(NORMAL_LOG_PROB_GRAD, { dy: g, x, loc, scale }, {
            wrt,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return { x: grad(0), loc: grad(1), scale: grad(2) };
      },
    });
  }
}
registerGradients();

/** Whether the current backend has the fused kernel `name`. */
function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Whether a parameter of shape `param` is indexed cyclically inside an output of shape `out`:
 * it has one element, or (leading 1s dropped) it equals the trailing dimensions of `out`. Then
 * output element `i` uses parameter element `i % size`.
 */
function cyclic(param: readonly number[], out: readonly number[]): boolean {
  const size = param.reduce((a, d) => a * d, 1);
  if (size === 1) return true;
  let k = 0;
  while (k < param.length && param[k] === 1) k++;
  const p = param.slice(k);
  return p.length <= out.length && sameShape(p, out.slice(out.length - p.length));
}

/**
 * Whether the fused Normal kernels can compute an output of shape `out` from parameters `loc`
 * and `scale` on the current backend: the kernels are registered there and each parameter has
 * one element or (leading 1s dropped) the trailing shape of `out`, as `loc + scale * eps` with
 * `loc: [1024]`, `scale: []`, `out: [10, 1024]`.
 *
 * @param kernel the kernel name (`NORMAL_RSAMPLE`, `NORMAL_LOG_PROB`, ...).
 * @param out the output (or value) shape.
 * @param loc the shape of `loc`.
 * @param scale the shape of `scale`.
 * @returns true when the fused kernel applies.
 * @example
 * ```ts
 * normalFusable(NORMAL_LOG_PROB, [10, 1024], [1024], []); // true on wasm/cpu
 * ```
 */
export function normalFusable(
  kernel: string,
  out: readonly number[],
  loc: readonly number[],
  scale: readonly number[],
): boolean {
  return hasKernel(kernel) && cyclic(loc, out) && cyclic(scale, out);
}

/**
 * A reparameterized draw of `x ~ N(loc, scale^2)` of shape `shape`:
 * `x = loc + scale * eps`, `eps ~ N(0, I)`, with gradients `dx/dloc = 1`, `dx/dscale = eps`
 * (summed over the elements that share a parameter). On wasm/cpu: the seeded noise kernel, then
 * one kernel forward and one per gradient backward.
 *
 * @param loc means; must broadcast to `shape`.
 * @param scale standard deviations (> 0, not checked here); must broadcast to `shape`.
 * @param shape output shape `[...sampleShape, ...broadcast(loc.shape, scale.shape)]`.
 * @param seed integer seed of the noise (default: the global stream, `setSeed`).
 * @returns a new float32 tensor of shape `shape`.
 * @example
 * ```ts
 * const w = normalRsample(mu, tf.softplus(rho), mu.shape); // one weight sample
 * ```
 */
export function normalRsample(
  loc: tf.Tensor,
  scale: tf.Tensor,
  shape: number[],
  seed?: number,
): tf.Tensor {
  let full: number[];
  try {
    full = broadcastShapes({ shape, loc: loc.shape, scale: scale.shape });
  } catch (e) {
    throw new ArgumentError('shape', `loc/scale do not broadcast to [${shape.join(', ')}]: ${e}`);
  }
  if (!sameShape(full, shape)) {
    throw new ArgumentError(
      'shape',
      `expected a shape ending with the batch shape of loc and scale, got [${shape.join(', ')}]`,
    );
  }
  const s = nextSeed(seed) >>> 0;
  return tf.tidy(() => {
    const eps = randomNormal(shape, 0, 1, s);
    if (!normalFusable(NORMAL_RSAMPLE, shape, loc.shape, scale.shape)) {
      return tf.add(loc, tf.mul(scale, eps));
    }
    return tf.engine().runKernel(NORMAL_RSAMPLE, { loc: f32(loc), scale: f32(scale), eps }, {
      locShape: loc.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
  });
}

/** The composed log-density `-z^2/2 - log(scale) - log(2 pi)/2`, `z = (x - loc)/scale`. */
function composedLogProb(x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  const z = tf.div(tf.sub(x, loc), scale);
  return tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(scale)));
}

function fusedLogProb(kernel: string, x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf
    .engine()
    .runKernel(kernel, { x: f32(x), loc: f32(loc), scale: f32(scale) }) as tf.Tensor;
}

/** Whether the log-density kernels apply: the value has the full broadcast shape. */
function logProbFusable(kernel: string, x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): boolean {
  if (!hasKernel(kernel)) return false;
  let full: number[];
  try {
    full = broadcastShapes({ value: x.shape, loc: loc.shape, scale: scale.shape });
  } catch {
    return false; // the composed ops raise tfjs's own broadcasting error
  }
  return sameShape(full, x.shape) && normalFusable(kernel, x.shape, loc.shape, scale.shape);
}

/**
 * The Normal log-density, element-wise:
 * `log N(x; loc, scale) = -((x - loc)/scale)^2 / 2 - log(scale) - log(2 pi)/2`,
 * differentiable in `x`, `loc` and `scale` (`d/dx = -z/scale`, `d/dloc = z/scale`,
 * `d/dscale = (z^2 - 1)/scale`, `z = (x - loc)/scale`); one kernel forward and one backward on
 * wasm/cpu when `x` has the broadcast shape.
 *
 * @param x values.
 * @param loc means (broadcast against `x`).
 * @param scale standard deviations > 0 (broadcast against `x`).
 * @returns a new tensor of shape `broadcast(x, loc, scale)`.
 * @example
 * ```ts
 * normalLogProb(tf.tensor([0, 1]), tf.scalar(0), tf.scalar(1)); // [-0.919, -1.419]
 * ```
 */
export function normalLogProb(x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    logProbFusable(NORMAL_LOG_PROB, x, loc, scale)
      ? fusedLogProb(NORMAL_LOG_PROB, x, loc, scale)
      : composedLogProb(f32(x), f32(loc), f32(scale)),
  );
}

/**
 * The Normal log-density summed over all elements:
 * `sum_i log N(x_i; loc_i, scale_i) = sum_i [-z_i^2/2 - log(scale_i)] - n log(2 pi)/2`,
 * `z_i = (x_i - loc_i)/scale_i` (loc and scale broadcast against `x`), accumulated in float64 by
 * one kernel on wasm/cpu, whose backward is one kernel giving the gradients in `x`, `loc` and
 * `scale` (as {@link normalLogProb}).
 *
 * @param x values.
 * @param loc means (broadcast against `x`).
 * @param scale standard deviations > 0 (broadcast against `x`).
 * @returns a new scalar.
 * @example
 * ```ts
 * normalLogProbSum(w, tf.zeros(w.shape), tf.ones(w.shape)); // log p(w) under N(0, I)
 * ```
 */
export function normalLogProbSum(x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () =>
      (logProbFusable(NORMAL_LOG_PROB_SUM, x, loc, scale)
        ? fusedLogProb(NORMAL_LOG_PROB_SUM, x, loc, scale)
        : tf.sum(composedLogProb(f32(x), f32(loc), f32(scale)))) as tf.Scalar,
  );
}
