/**
 * The median of a distribution read once to the host: the safe point at which the censored
 * wrappers evaluate the branch an entry does not take (`censored.ts`), cached per instance.
 */
import type * as tf from '@tensorflow/tfjs';
import { NotDefinedError } from '../utils/errors.js';
import { Distribution } from './distribution.js';
import type { DistributionHooks } from './hooks.js';

/** A tensor's values and shape, kept on the host (no tensor held between calls). */
export interface HostValues {
  values: Float32Array;
  shape: number[];
}

/**
 * The median `F^{-1}(1/2)` of `dist` (its `icdf(0.5)`, shape `batchShape`) as host values, or
 * `null` when it has no quantile (no `_icdf` hook, or a wrapper such as `expand` / `mask` whose
 * forwarded `icdf` throws `NotDefinedError`):
 *
 * $$m = F^{-1}\big(\tfrac12\big) = \inf\{x : F(x) \ge \tfrac12\}.$$
 *
 * @param dist a distribution.
 * @throws whatever `icdf` throws other than `NotDefinedError`.
 * @example
 * ```ts
 * hostMedian(new Gamma(2, 1)); // { values: Float32Array [1.678...], shape: [] }
 * ```
 */
export function hostMedian(dist: Distribution): HostValues | null {
  const hooks = dist as unknown as DistributionHooks;
  const proto = Distribution.prototype as unknown as DistributionHooks;
  if (hooks._icdf === proto._icdf) return null;
  let med: tf.Tensor;
  try {
    med = dist.icdf(0.5);
  } catch (e) {
    if (e instanceof NotDefinedError) return null;
    throw e;
  }
  const out = { values: Float32Array.from(med.dataSync()), shape: med.shape };
  med.dispose();
  return out;
}
