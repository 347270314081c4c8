/**
 * Writing values into a model's weight variables exactly as given: tfjs's `LayerVariable.write`
 * (and so `Layer.setWeights`) applies the variable's constraint (`kernelConstraint`, ...) to every
 * value written, and a constraint such as `maxNorm` or `unitNorm` is not idempotent in float32
 * (`w * c / (eps + ||w||)`), so writing a saved value back would not give back the same bits, and a
 * posterior draw written through it would be projected, no longer a draw. The post-hoc methods
 * (Laplace's sampled networks, SWAG's draws) write their draws and put the user's weights back
 * with {@link writeExact}: `theta <- v` bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';

/**
 * Set each variable to its value, `theta_i <- v_i` exactly (no constraint applied), after checking
 * every shape, so that nothing is written when one does not match.
 *
 * @param vars the variables (e.g. `layer.weights` or `model.trainableWeights`).
 * @param values one tensor per variable, of its shape (not taken over: the caller keeps them).
 * @param what the argument named by an error (default `'values'`).
 * @throws ArgumentError naming `what` for a wrong count or shape, before any write.
 */
export function writeExact(
  vars: readonly tf.LayerVariable[],
  values: readonly tf.Tensor[],
  what = 'values',
): void {
  if (values.length !== vars.length) {
    throw new ArgumentError(what, `expected ${vars.length} tensors, got ${values.length}`);
  }
  vars.forEach((v, i) => {
    const t = values[i] as tf.Tensor;
    if (!(t instanceof tf.Tensor) || !tf.util.arraysEqual(t.shape, v.shape as number[])) {
      throw new ArgumentError(
        `${what}[${i}]`,
        `expected a tensor of shape [${v.shape.join(', ')}] for '${v.name}', got ${t instanceof tf.Tensor ? `[${t.shape.join(', ')}]` : String(t)}`,
      );
    }
  });
  vars.forEach((v, i) => {
    // write() applies `constraint` when it is set: lift it for this one write
    const held = v as unknown as { constraint: unknown };
    const constraint = held.constraint;
    held.constraint = null;
    try {
      v.write(values[i] as tf.Tensor);
    } finally {
      held.constraint = constraint;
    }
  });
}
