/**
 * Writing user-given values into a layer's weight variables: a tensor or nested array of the
 * variable's shape (or, where allowed, a scalar filling it), checked before anything is written;
 * standard deviations are stored as raw scales `rho = softplus^{-1}(sigma) =
 * sigma + log(-expm1(-sigma))`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { softplusInverse } from '../utils/tensor.js';

/** Prior means of a layer with `centredPrior` (new tensors owned by the caller). */
export interface PriorMeans {
  kernel: tf.Tensor;
  bias: tf.Tensor | null;
}

/** Posterior parameters given to `BayesianLayer.setPosterior`; `sigma` wins over `rho`. */
export interface PosteriorValues {
  kernelMu?: tf.Tensor | tf.TensorLike;
  kernelRho?: tf.Tensor | tf.TensorLike;
  kernelSigma?: tf.Tensor | tf.TensorLike;
  biasMu?: tf.Tensor | tf.TensorLike;
  biasRho?: tf.Tensor | tf.TensorLike;
  biasSigma?: tf.Tensor | tf.TensorLike;
}

/** Posterior means and standard deviations (new tensors owned by the caller). */
export interface PosteriorTensors {
  kernelMu: tf.Tensor;
  kernelSigma: tf.Tensor;
  biasMu: tf.Tensor | null;
  biasSigma: tf.Tensor | null;
}

/** Options of {@link writeWeight}. */
export interface WriteWeightOptions {
  /** The value is a standard deviation `sigma > 0`; `softplus^{-1}(sigma)` is stored. */
  sigma?: boolean;
  /** A scalar fills the variable. Default true. */
  scalar?: boolean;
  /** Start of the shape error (default `expected`; e.g. `layer 'd': expected prior means of`). */
  expected?: string;
}

/**
 * Write `value` into `target` after checking it.
 * @param target the variable.
 * @param value a tensor or array of the variable's shape (or a scalar, see `options.scalar`).
 * @param name the argument name for errors.
 * @throws ArgumentError naming `name` on a shape mismatch or a non-positive standard deviation.
 */
export function writeWeight(
  target: tf.LayerVariable,
  value: tf.Tensor | tf.TensorLike,
  name: string,
  options: WriteWeightOptions = {},
): void {
  const shape = target.read().shape;
  tf.tidy(() => {
    let t = value instanceof tf.Tensor ? tf.cast(value, 'float32') : tf.tensor(value);
    if (t.rank === 0 && options.scalar !== false) t = tf.fill(shape, t.dataSync()[0] as number);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ArgumentError(
        name,
        `${options.expected ?? 'expected'} shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`,
      );
    }
    if (options.sigma === true) {
      if ((tf.min(t).dataSync()[0] as number) <= 0) {
        throw new ArgumentError(name, 'expected standard deviations > 0');
      }
      t = softplusInverse(t);
    }
    target.write(t);
  });
}
