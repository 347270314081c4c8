/**
 * The activations of the block neural autoregressive flow ({@link BlockAutoregressive}, Pyro's
 * `'tanh'`, `'ELU'`, `'LeakyReLU'`, `'sigmoid'`), each strictly increasing, with the log of its
 * derivative `log σ'(a)` for the log-Jacobian, and the log-space matrix product
 * `log(exp(A) exp(B))_{ij} = logsumexp_m (A_{im} + B_{mj})` (Pyro's `log_matrix_product`).
 */
import * as tf from '@tensorflow/tfjs';

/** The activations of {@link BlockAutoregressive} (Pyro's `'tanh'`, `'ELU'`, `'LeakyReLU'`, `'sigmoid'`). */
export type BlockAutoregressiveActivation = 'tanh' | 'elu' | 'leakyRelu' | 'sigmoid';

/** The residual connections of {@link BlockAutoregressive} (Pyro's `residual`). */
export type BlockAutoregressiveResidual = 'normal' | 'gated' | null;

/** The activation names, in Pyro's order. @internal */
export const ACTIVATIONS: readonly BlockAutoregressiveActivation[] = [
  'tanh',
  'elu',
  'leakyRelu',
  'sigmoid',
];
/** The negative slope of `'leakyRelu'` (PyTorch's default). */
const LEAKY_SLOPE = 0.01;

/** `log σ'(a)` of an activation (every one strictly increasing). */
export function logActivationGrad(a: tf.Tensor, act: BlockAutoregressiveActivation): tf.Tensor {
  switch (act) {
    case 'tanh': // log(1 - tanh² a) = 2 (log 2 - a - softplus(-2a))
      return tf.mul(2, tf.sub(tf.sub(Math.log(2), a), tf.softplus(tf.mul(-2, a))));
    case 'sigmoid': // log σ(a) + log σ(-a)
      return tf.neg(tf.add(tf.softplus(tf.neg(a)), tf.softplus(a)));
    case 'elu': // 1 for a > 0, e^a below
      return tf.minimum(a, 0);
    case 'leakyRelu':
      return tf.where(tf.greater(a, 0), tf.zerosLike(a), tf.fill(a.shape, Math.log(LEAKY_SLOPE)));
  }
}

/** `σ(a)`, the activation applied elementwise. @internal */
export function activate(a: tf.Tensor, act: BlockAutoregressiveActivation): tf.Tensor {
  switch (act) {
    case 'tanh':
      return tf.tanh(a);
    case 'sigmoid':
      return tf.sigmoid(a);
    case 'elu':
      return tf.elu(a);
    case 'leakyRelu':
      return tf.leakyRelu(a, LEAKY_SLOPE);
  }
}

/** `log(exp(A) exp(B))` for stacks of matrices: `logsumexp_m (A_{..im} + B_{..mj})`. */
export function logMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.logSumExp(tf.add(tf.expandDims(a, -1), tf.expandDims(b, -3)), -2);
}
