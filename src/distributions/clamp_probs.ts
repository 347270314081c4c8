/**
 * Pyro's `dist.util.clamp_probs`: probabilities kept inside the open unit interval,
 *
 * $$\operatorname{clamp}(p) = \min(\max(p, \epsilon), 1 - \epsilon),\qquad
 *   \epsilon = 2^{-23} \approx 1.19 \times 10^{-7}$$
 *
 * (float32's machine epsilon, `torch.finfo(float32).eps`), so that `log p` and `log(1 - p)` stay
 * finite, e.g. a Bernoulli's `mu = first_capture_mask * phi * z + (1 - first_capture_mask)` in
 * Pyro's capture-recapture models (exactly 0 or 1 for masked or dead animals). The gradient is
 * that of the clamp: 1 inside `[ε, 1 - ε]`, 0 outside.
 */
import * as tf from '@tensorflow/tfjs';
import { FLOAT32_EPS } from '../utils/float32.js';
import { toFloat, type TensorInput } from '../utils/tensor.js';

/** float32's machine epsilon, `2^-23` (`utils/float32.ts` `FLOAT32_EPS`). */
export const PROBS_EPS = FLOAT32_EPS;

/**
 * Clamp probabilities to `[ε, 1 - ε]` (see the module docs).
 * @param probs probabilities (a tensor, a number or an array).
 * @returns a new float32 tensor.
 * @throws ArgumentError naming `probs` when it is not numeric or a disposed tensor.
 */
export function clampProbs(probs: TensorInput): tf.Tensor {
  const p = toFloat(probs, 'probs');
  const out = tf.clipByValue(p, PROBS_EPS, 1 - PROBS_EPS);
  if (p !== probs) p.dispose();
  return out;
}
