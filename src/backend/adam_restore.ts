/**
 * An exact restore of tfjs's Adam state, on every backend.
 *
 * Adam keeps `beta1^t` and `beta2^t` as float32 running products `a_0 = fl(beta)`,
 * `a_{k+1} = fl(a_k * b)` (`fl`: rounding to float32 after each product): tfjs's own update, on
 * every backend, multiplies by the float32 scalar `b = fl(beta)`; the fused wasm update of
 * `kernels/adam.ts` by the double `b = beta`. tfjs's `setWeights` rebuilds them as
 * `pow(beta, t + 1)`, which differs from either product in the last float32 bits, so a run resumed
 * from a checkpoint drifts from the uninterrupted one. The patch restores the product of the update
 * that will continue the run: a resumed run continues bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedAdamActive } from './kernels/adam.js';

/**
 * `beta^(t+1)` exactly as Adam accumulates it after `t` steps: `a_0 = fl(beta)`,
 * `a_{k+1} = fl(a_k * b)`.
 *
 * @param beta an Adam decay rate (`beta1` or `beta2`).
 * @param t the optimizer's `iterations` (steps taken).
 * @param b the factor of each step: `beta` (the fused wasm update, the default) or
 *   `Math.fround(beta)` (tfjs's update, which multiplies by a float32 scalar).
 * @returns the float32 running product after `t` steps.
 * @example
 * ```ts
 * accumulatedBeta(0.9, 0); // Math.fround(0.9)
 * accumulatedBeta(0.9, 37, Math.fround(0.9)); // tfjs's accBeta1 after 37 steps
 * ```
 */
export function accumulatedBeta(beta: number, t: number, b = beta): number {
  let a = Math.fround(beta);
  for (let k = 0; k < t; k++) a = Math.fround(a * b);
  return a;
}

interface AdamBetas {
  beta1: number;
  beta2: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

type SetWeights = (this: tf.AdamOptimizer, w: NamedTensor[]) => Promise<void>;

let stockSetWeights: SetWeights | undefined;

/**
 * Restore the state with tfjs's `setWeights`, then `beta^t` as the running product of the update
 * that will continue (the fused one on wasm, tfjs's elsewhere).
 */
async function exactSetWeights(this: tf.AdamOptimizer, weights: NamedTensor[]): Promise<void> {
  await (stockSetWeights as SetWeights).call(this, weights);
  const self = this as unknown as AdamBetas;
  const t = this.iterations;
  const fused = fusedAdamActive();
  const product = (beta: number): number =>
    accumulatedBeta(beta, t, fused ? beta : Math.fround(beta));
  tf.tidy(() => {
    self.accBeta1.assign(tf.scalar(product(self.beta1)));
    self.accBeta2.assign(tf.scalar(product(self.beta2)));
  });
}

/**
 * Patch `tf.AdamOptimizer.prototype.setWeights` with the exact restore (idempotent; every
 * backend).
 */
export function installExactAdamRestore(): void {
  if (stockSetWeights !== undefined) return;
  const proto = tf.AdamOptimizer.prototype as unknown as { setWeights: SetWeights };
  stockSetWeights = proto.setWeights;
  proto.setWeights = exactSetWeights;
}

/** Undo {@link installExactAdamRestore} (for comparisons and tests). */
export function uninstallExactAdamRestore(): void {
  if (stockSetWeights === undefined) return;
  const proto = tf.AdamOptimizer.prototype as unknown as { setWeights: SetWeights };
  proto.setWeights = stockSetWeights;
  stockSetWeights = undefined;
}
