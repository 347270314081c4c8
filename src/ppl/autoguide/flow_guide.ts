/**
 * The base of the flow guides (`AutoNormalizingFlow`, `AutoBNAFNormal`): the concatenated
 * unconstrained latent vector is `u = loc + T(ε)`, `ε ~ N(0, I_D)`, with a guide's own `T`.
 * Given the flow over copies of the current parameters ({@link FlowGuide.flowCopies}), the base
 * makes the three views of it every flow guide gives: the posterior `q(u)` (owning the copies),
 * its Monte Carlo location and scale (4000 draws), and the map from the standard normal base
 *
 * $$z \mapsto u = \mathrm{loc} + T(z),\qquad \log\lvert\det J\rvert = \log\lvert\det J_T(z)\rvert$$
 *
 * (for NeuTra; `AutoContinuous.getTransform`).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { AutoContinuous } from './continuous.js';
import { FlowLatentTransform, monteCarloLocAndScale, type FlowLatentBase } from './flow_latent.js';
import type { LatentTransform } from './latent_transform.js';

/** A guide's flow over copies of its current parameters (see {@link FlowGuide.flowCopies}). */
export interface FlowCopies {
  /** The copy of `loc`. */
  readonly loc: tf.Tensor;
  /** `T(z)` and `log|det J_T(z)|` summed to `[...]`, for `z` `[..., D]`. */
  push(z: tf.Tensor): { y: tf.Tensor; logDet: tf.Tensor };
  /** `q(u)` over the copies (it does not own them). */
  latent(): FlowLatentBase;
  /** Frees the copies and what the flow made of them. */
  release(): void;
}

/** A normalizing-flow guide (see the module docs); a kind gives its flow over copies. */
export abstract class FlowGuide<A extends unknown[]> extends AutoContinuous<A> {
  /** The flow over copies of the current parameters (the caller frees them by `release`). */
  protected abstract flowCopies(): FlowCopies;

  /** `q(u)` at the current parameters (copies; `dispose()` it). */
  override getPosterior(): Distribution {
    const f = this.flowCopies();
    return f.latent().owning(() => f.release());
  }

  /** Monte Carlo mean and sd of `q(u)` from 4000 draws. */
  locAndScale(): { loc: tf.Tensor; scale: tf.Tensor } {
    return monteCarloLocAndScale(this.getPosterior());
  }

  /**
   * `u = loc + T(z)`, `log|det J| = log|det J_T(z)|` (see `AutoContinuous.getTransform`; copies
   * of the parameters, `dispose()` it).
   */
  override getTransform(): LatentTransform {
    const f = this.flowCopies();
    return new FlowLatentTransform(
      this.latentDim,
      (z) => f.push(z),
      f.loc,
      () => f.release(),
    );
  }
}
