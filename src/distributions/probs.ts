/**
 * Shared parsing of the `{probs}` / `{logits}` parameter object of the discrete families.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { TensorInput } from '../utils/tensor.js';

/** Exactly one of `probs` (probabilities) or `logits` (log-odds / unnormalized log-probs). */
export interface ProbsOrLogits {
  /** Probabilities, each in [0, 1]. */
  probs?: TensorInput;
  /** Logits: log-odds for binary families, unnormalized log-probabilities for Categorical. */
  logits?: TensorInput;
}

/** Accept `{probs}`, `{logits}` or a bare tensor/array (read as `probs`). */
export function readProbsOrLogits(params: TensorInput | ProbsOrLogits): {
  kind: 'probs' | 'logits';
  value: TensorInput;
} {
  const isPlain =
    typeof params === 'object' &&
    params !== null &&
    !Array.isArray(params) &&
    !(params instanceof tf.Tensor) &&
    !ArrayBuffer.isView(params);
  if (!isPlain) return { kind: 'probs', value: params as TensorInput };
  const { probs, logits } = params as ProbsOrLogits;
  if ((probs === undefined) === (logits === undefined)) {
    throw new ArgumentError('probs/logits', 'expected exactly one of probs or logits');
  }
  return probs !== undefined
    ? { kind: 'probs', value: probs }
    : { kind: 'logits', value: logits as TensorInput };
}
