/**
 * The map of a joint autoguide from its base space (Pyro's `AutoContinuous.get_transform` with
 * `get_base_dist`): every `AutoContinuous` guide that implements it draws its unconstrained
 * latent vector as
 *
 * $$u = T(z),\qquad z \sim \mathcal N(0, I_D),\qquad
 *   \log q(u) = \log\mathcal N(z; 0, I) - \log\lvert\det J_T(z)\rvert,$$
 *
 * which `NeuTraReparam` uses to let MCMC sample `z` (where a well-fitted guide's posterior is
 * close to a standard normal). A transform holds copies of the guide's parameters taken when it
 * is made (`dispose()` frees them); it is not differentiated with respect to them.
 */
import * as tf from '@tensorflow/tfjs';

/** `u = T(z)` over the last dim, with `log|det dT/dz|`. */
export interface LatentTransform {
  /** The latent dimension `D`. */
  readonly dim: number;
  /**
   * `u = T(z)` for `z` of shape `[..., D]`, and `log|det dT/dz|` of shape `[...]` (new tensors,
   * differentiable in `z`).
   */
  forwardAndLogDet(z: tf.Tensor): { u: tf.Tensor; logDet: tf.Tensor };
  /** Free the parameter copies. */
  dispose(): void;
}

/**
 * `u = loc + scale ⊙ z` (a diagonal scale `[D]`) or `u = loc + L z` (a lower-triangular `L`,
 * `[D, D]`, positive diagonal): `log|det J| = Σ_i log scale_i` (resp. `log L_ii`).
 */
export class AffineLatentTransform implements LatentTransform {
  readonly dim: number;
  private readonly logDetValue: tf.Scalar;
  /**
   * @param loc `[D]` (owned: freed by `dispose`).
   * @param scale `[D]` positive, or lower-triangular `[D, D]` with a positive diagonal (owned).
   */
  constructor(
    private readonly loc: tf.Tensor,
    private readonly scale: tf.Tensor,
  ) {
    this.dim = loc.shape[0] as number;
    this.logDetValue = tf.tidy(() =>
      tf.keep(tf.sum(tf.log(scale.rank === 1 ? scale : tf.reshape(diagOf(scale), [this.dim])))),
    ) as tf.Scalar;
  }
  forwardAndLogDet(z: tf.Tensor): { u: tf.Tensor; logDet: tf.Tensor } {
    return tf.tidy(() => {
      const lead = z.shape.slice(0, -1);
      const shifted =
        this.scale.rank === 1
          ? tf.add(this.loc, tf.mul(this.scale, z))
          : tf.add(
              this.loc,
              tf.reshape(
                tf.matMul(tf.reshape(z, [-1, this.dim]), this.scale, false, true),
                z.shape,
              ),
            );
      return { u: shifted, logDet: tf.add(tf.zeros(lead), this.logDetValue) };
    });
  }
  dispose(): void {
    tf.dispose([this.loc, this.scale, this.logDetValue]);
  }
}

/** The diagonal of a square matrix. */
function diagOf(m: tf.Tensor): tf.Tensor {
  const n = m.shape[0] as number;
  return tf.sum(tf.mul(m, tf.eye(n)), -1);
}
