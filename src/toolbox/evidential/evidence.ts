/**
 * Evidence functions: map unconstrained network outputs to non-negative evidence `e_k >= 0`,
 * which parameterises a Dirichlet `alpha_k = e_k + 1` (Sensoy et al. 2018).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { toFloat, type TensorInput } from '../../utils/tensor.js';

/** Names of the evidence functions. */
export type EvidenceName = 'relu' | 'softplus' | 'exp';

/** The names accepted by {@link evidenceFunction}. */
export const EVIDENCE_FUNCTIONS: readonly EvidenceName[] = ['relu', 'softplus', 'exp'];

/**
 * ReLU evidence `e = max(0, o)`.
 * @param outputs network outputs `[N, K]`.
 * @example
 * ```ts
 * reluEvidence([[-1, 2]]); // [[0, 2]]
 * ```
 */
export function reluEvidence(outputs: TensorInput): tf.Tensor {
  return tf.tidy(() => tf.relu(toFloat(outputs, 'outputs')));
}

/**
 * Softplus evidence `e = log(1 + exp(o))`.
 * @param outputs network outputs `[N, K]`.
 * @example
 * ```ts
 * softplusEvidence([[0]]); // [[log 2]]
 * ```
 */
export function softplusEvidence(outputs: TensorInput): tf.Tensor {
  return tf.tidy(() => tf.softplus(toFloat(outputs, 'outputs')));
}

/**
 * Exponential evidence `e = exp(clip(o, -10, 10))`; the clip (as in Sensoy et al.'s code) keeps
 * the Dirichlet strength finite in float32. A NaN output stays NaN (as `torch.clamp` leaves it),
 * so a diverged network is not read as evidence `exp(-10)`.
 * @param outputs network outputs `[N, K]`.
 * @example
 * ```ts
 * expEvidence([[0]]); // [[1]]
 * ```
 */
export function expEvidence(outputs: TensorInput): tf.Tensor {
  return tf.tidy(() => {
    const o = toFloat(outputs, 'outputs');
    return tf.exp(tf.where(tf.isNaN(o), o, tf.clipByValue(o, -10, 10)));
  });
}

/**
 * The evidence function with the given name.
 * @param name `'relu' | 'softplus' | 'exp'`.
 * @example
 * ```ts
 * const toEvidence = evidenceFunction('softplus');
 * ```
 */
export function evidenceFunction(name: string): (outputs: TensorInput) => tf.Tensor {
  switch (name) {
    case 'relu':
      return reluEvidence;
    case 'softplus':
      return softplusEvidence;
    case 'exp':
      return expEvidence;
    default:
      throw new ArgumentError(
        'evidence',
        `expected one of ${EVIDENCE_FUNCTIONS.join(', ')}, got '${name}'`,
      );
  }
}
