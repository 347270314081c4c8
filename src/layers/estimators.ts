/**
 * The three gradient estimators of a variational linear map `y = op(x, W)` with the mean-field
 * posterior `W ~ N(mu, sigma^2)`, as pure functions of the linear op (a matmul for Dense, a
 * convolution for Conv2D). Each draws fresh noise on every call (seeds from `nextSeed`, so
 * `setSeed` makes them reproducible).
 *
 * - Reparameterization (Blundell et al. 2015, "Bayes by Backprop"): one weight sample per call,
 *   shared by the whole batch: `y = op(x, mu + sigma * eps)`.
 * - Local reparameterization (Kingma et al. 2015): the pre-activations are Gaussian given `x`, so
 *   they are sampled directly, independently per example and unit:
 *   `y = op(x, mu) + sqrt(op(x^2, sigma^2)) * eps`.
 * - Flipout (Wen et al. 2018): one weight perturbation `dW = sigma * eps`, decorrelated across
 *   examples by random signs: `y = op(x, mu) + op(x * s_in, dW) * s_out`, with `s_in`, `s_out`
 *   Rademacher (±1) per example and channel.
 *
 * For one example all three give `E[y] = op(x, mu)` and `Var[y] = op(x^2, sigma^2)`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkShape } from '../utils/tensor.js';
import { localReparamSample, softplusReparam, softplusSquare } from '../backend/fused.js';
import { randomNormal } from '../backend/random.js';
import { makeRng } from '../utils/seed.js';

/** A linear map of the input by a kernel: `x @ W` or `conv2d(x, W)`. */
export type LinearOp = (x: tf.Tensor, kernel: tf.Tensor) => tf.Tensor;

/** Floor of the local-reparameterization variance before the square root (keeps gradients finite). */
export const LOCAL_REPARAM_MIN_VARIANCE = 1e-16;

/**
 * Standard normal noise of `shape`, seeded from the global stream (`setSeed`): deepprob's fast
 * ziggurat kernel on wasm/cpu (`backend/random.ts`), `tf.randomNormal` elsewhere. One call per
 * weight tensor (or activation tensor) per step.
 * @param shape the shape of the noise.
 */
export function standardNormal(shape: number[]): tf.Tensor {
  return randomNormal(shape);
}

/**
 * Random signs (±1 with probability 1/2 each) of `shape`, generated on the host from one 32-bit
 * draw per 32 signs (one op, no float comparisons).
 * @param shape the shape of the sign tensor.
 */
export function rademacher(shape: number[]): tf.Tensor {
  checkShape(shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rng = makeRng();
  let bits = 0;
  for (let i = 0; i < n; i++) {
    if ((i & 31) === 0) bits = Math.floor(rng() * 4294967296) >>> 0;
    out[i] = (bits >>> (i & 31)) & 1 ? 1 : -1;
  }
  return tf.tensor(out, shape, 'float32');
}

/**
 * Reparameterization: `y = op(x, mu + sigma * eps)`, `sigma = softplus(rho)`, `eps ~ N(0, I)` of
 * the kernel's shape (one fused kernel for the weight sample, `backend/fused.ts`).
 * @param x input.
 * @param mu posterior mean of the kernel.
 * @param rho posterior raw scale of the kernel, `sigma = log(1 + e^rho)` (same shape as `mu`).
 * @param op the linear map.
 */
export function reparamKernel(
  x: tf.Tensor,
  mu: tf.Tensor,
  rho: tf.Tensor,
  op: LinearOp,
): tf.Tensor {
  return tf.tidy(() => op(x, softplusReparam(mu, rho)));
}

/**
 * Local reparameterization: `y = op(x, mu) + sqrt(op(x^2, sigma^2)) * eps`,
 * `sigma = softplus(rho)`, `eps ~ N(0, I)` of the output's shape (the variance is floored at
 * {@link LOCAL_REPARAM_MIN_VARIANCE}, so that all-zero receptive fields, e.g. image borders, keep
 * finite gradients; the last step is one fused kernel, `backend/fused.ts`).
 * @param x input.
 * @param mu posterior mean of the kernel.
 * @param rho posterior raw scale of the kernel (same shape as `mu`).
 * @param op the linear map.
 */
export function localReparamKernel(
  x: tf.Tensor,
  mu: tf.Tensor,
  rho: tf.Tensor,
  op: LinearOp,
): tf.Tensor {
  return tf.tidy(() => {
    const mean = op(x, mu);
    const variance = op(tf.square(x), softplusSquare(rho));
    return localReparamSample(mean, variance, LOCAL_REPARAM_MIN_VARIANCE);
  });
}

/** `[batch, 1, ..., 1, channels]`: one sign per example and channel, shared over space. */
function signShape(t: tf.Tensor): number[] {
  const shape = t.shape.map(() => 1);
  shape[0] = t.shape[0] as number;
  shape[shape.length - 1] = t.shape[t.rank - 1] as number;
  return shape;
}

/**
 * Flipout: `y = op(x, mu) + op(x * s_in, sigma * eps) * s_out`, `sigma = softplus(rho)`, with one
 * kernel perturbation `eps ~ N(0, I)` per call and Rademacher signs `s_in` (per example and input
 * channel) and `s_out` (per example and output channel).
 * @param x input.
 * @param mu posterior mean of the kernel.
 * @param rho posterior raw scale of the kernel (same shape as `mu`).
 * @param op the linear map.
 */
export function flipoutKernel(
  x: tf.Tensor,
  mu: tf.Tensor,
  rho: tf.Tensor,
  op: LinearOp,
): tf.Tensor {
  return tf.tidy(() => {
    const mean = op(x, mu);
    const delta = tf.mul(tf.softplus(rho), standardNormal(mu.shape));
    const perturbed = op(tf.mul(x, rademacher(signShape(x))), delta);
    return tf.add(mean, tf.mul(perturbed, rademacher(signShape(perturbed))));
  });
}
