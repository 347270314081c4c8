/**
 * A mixture of zero-mean diagonal Gaussians sharing their coordinate scales (Pyro's
 * `GaussianScaleMixture`), with pathwise (reparameterized) draws:
 *
 * $$p(x) = \sum_{k=1}^K \pi_k\,\mathcal N\big(x;\ 0,\ \operatorname{diag}(\sigma_k^2 s^2)\big),
 *   \qquad \pi = \operatorname{softmax}(\ell),$$
 *
 * over `D` coordinates (event shape `[D]`), with coordinate scales `s` (`coordScale`, `[D]`),
 * component scales `sigma` (`componentScale`, `[K]`) and logits `l` (`componentLogits`, `[K]`);
 * as Pyro's, the parameters are not batched. Mean 0, variance `s_i^2 sum_k pi_k sigma_k^2`.
 *
 * A draw is `x = s * sigma_k * z` (`k ~ Cat(pi)`, `z ~ N(0, I_D)`). Its gradient in `s` is
 * `x / s`; in the mixture parameters it is the implicit one of the radius `r = |x / s|`, whose
 * CDF `F(r) = sum_k pi_k P(D/2, r^2 / (2 sigma_k^2))` is held fixed (Pyro's `_GSMSample`):
 *
 * $$\frac{\partial x}{\partial\theta} = -\frac{\partial F(r)/\partial\theta}{p_r(r)}\,\frac{x}{r},
 *   \qquad \frac{\partial r}{\partial\sigma_k} = \frac{r\,w_k}{\sigma_k},\qquad
 *   \frac{\partial r}{\partial\ell_j} = -\frac{\pi_j\,(F_j(r) - F(r))}{p_r(r)},$$
 *
 * with `w_k = pi_k f_k(r) / p_r(r)` the responsibilities under the radial densities
 * `f_k(r) = r^{D-1} e^{-r^2/2 sigma_k^2} / (2^{D/2-1} Gamma(D/2) sigma_k^D)`.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeeds } from '../utils/seed.js';
import { type TensorInput } from '../utils/tensor.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { gammaincPQ } from './special.js';
import { lgamma64 } from './host_sampling.js';
import './expanded.js';
import './independent.js';

/**
 * Gaussian scale mixture (Pyro's `GaussianScaleMixture(coord_scale, component_logits,
 * component_scale)`).
 *
 * @example
 * ```ts
 * const d = new GaussianScaleMixture([1, 2], [0, 1], [0.5, 3]);
 * d.logProb([0.3, -1]); // log sum_k pi_k N([0.3, -1]; 0, diag((sigma_k s)^2))
 * d.rsample([10]);      // [10, 2], differentiable in all three parameters
 * ```
 */
export class GaussianScaleMixture extends Distribution {
  /** Coordinate scales `s`, `[D]`, > 0. */
  readonly coordScale: tf.Tensor;
  /** Component logits `l`, `[K]`. */
  readonly componentLogits: tf.Tensor;
  /** Component scales `sigma`, `[K]`, > 0. */
  readonly componentScale: tf.Tensor;

  /**
   * @param coordScale `s`, a vector `[D]` (D >= 1), finite and > 0.
   * @param componentLogits `l`, a vector `[K]` (K >= 1), finite.
   * @param componentScale `sigma`, a vector `[K]`, finite and > 0.
   * @param options validation flag and name.
   * @throws ArgumentError naming the parameter (not a non-empty vector, out of range, `K`
   *   mismatch).
   */
  constructor(
    coordScale: TensorInput,
    componentLogits: TensorInput,
    componentScale: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.coordScale = this.param(coordScale, 'coordScale');
    this.componentLogits = this.param(componentLogits, 'componentLogits');
    this.componentScale = this.param(componentScale, 'componentScale');
    for (const [name, t] of [
      ['coordScale', this.coordScale],
      ['componentLogits', this.componentLogits],
      ['componentScale', this.componentScale],
    ] as const) {
      if (t.rank !== 1 || t.size < 1) {
        throw this.constructionError(
          name,
          `expected a non-empty vector (Pyro's GaussianScaleMixture is not batched), got shape [${t.shape.join(',')}]`,
        );
      }
    }
    if (this.componentLogits.size !== this.componentScale.size) {
      throw this.constructionError(
        'componentScale',
        `expected ${this.componentLogits.size} scales (one per logit), got ${this.componentScale.size}`,
      );
    }
    this.checkPositive(this.coordScale, 'coordScale');
    this.checkFinite(this.componentLogits, 'componentLogits');
    this.checkPositive(this.componentScale, 'componentScale');
  }

  get batchShape(): number[] {
    return [];
  }
  get eventShape(): number[] {
    return [this.dim];
  }
  /** `independent(real, 1)`. */
  override get support(): Constraint {
    return independent(real, 1);
  }
  /** Number of coordinates D. */
  get dim(): number {
    return this.coordScale.size;
  }

  protected _logProb(x: tf.Tensor): tf.Tensor {
    const d = this.dim;
    const eps2 = tf.sum(tf.square(tf.div(x, this.coordScale)), -1, true); // [..., 1]
    const logPi = tf.logSoftmax(this.componentLogits);
    const logN = tf.sub(
      tf.neg(tf.div(eps2, tf.mul(2, tf.square(this.componentScale)))),
      tf.mul(d, tf.log(this.componentScale)),
    ); // [..., K]
    const c = tf.add(tf.sum(tf.log(this.coordScale)), 0.5 * d * Math.log(2 * Math.PI));
    return tf.sub(tf.logSumExp(tf.add(logN, logPi), -1), c);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const d = this.dim;
    const k = this.componentScale.size;
    const full = [...shape, d];
    const n = shape.reduce((a, b) => a * b, 1);
    if (n === 0) return tf.zeros(full);
    const [sWhich, sZ] = deriveSeeds(seed, 2) as [number, number];
    const which = tf.multinomial(
      // a copy of the logits off the gradient tape (tfjs has no gradient for Multinomial)
      tf.tensor2d(this.componentLogits.dataSync(), [1, k]),
      n,
      sWhich,
    );
    const onehot = tf.reshape(tf.cast(tf.oneHot(tf.reshape(which, [n]), k), 'float32'), [
      ...shape,
      k,
    ]);
    const z = tf.randomNormal(full, 0, 1, 'float32', sZ);
    return gsmSample(this.coordScale, this.componentLogits, this.componentScale, z, onehot);
  }
  protected override _mean(): tf.Tensor {
    return tf.zeros([this.dim]);
  }
  /** `s_i^2 sum_k pi_k sigma_k^2`. */
  protected override _variance(): tf.Tensor {
    const pi = tf.softmax(this.componentLogits);
    return tf.mul(tf.square(this.coordScale), tf.sum(tf.mul(pi, tf.square(this.componentScale))));
  }
}

/**
 * `x = s * sigma_{which} * z` with the pathwise gradients of the module comment (zero gradients
 * to the noise `z` and the one-hot `which`, `[..., K]`).
 */
function gsmSample(
  coord: tf.Tensor,
  logits: tf.Tensor,
  sigma: tf.Tensor,
  z: tf.Tensor,
  onehot: tf.Tensor,
): tf.Tensor {
  const d = coord.size;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [c, l, s, zz, oh] = args as tf.Tensor[];
    const save = args[5] as tf.GradSaveFunc;
    const sig = tf.sum(tf.mul(oh as tf.Tensor, s as tf.Tensor), -1, true); // [..., 1]
    const x = tf.mul(tf.mul(c as tf.Tensor, sig), zz as tf.Tensor);
    save([c as tf.Tensor, l as tf.Tensor, s as tf.Tensor, x, zz as tf.Tensor, oh as tf.Tensor]);
    return {
      value: x,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [cs, ls, ss, xs, zs, ohs] = saved as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        const g = dy as tf.Tensor;
        const lead = Array.from({ length: xs.rank - 1 }, (_, i) => i);
        const dCoord = tf.sum(tf.div(tf.mul(g, xs), cs), lead);
        const eps = tf.div(xs, cs);
        const r = tf.sqrt(tf.sum(tf.square(eps), -1, true)); // [..., 1]
        const gr = tf.div(tf.sum(tf.mul(g, xs), -1, true), r); // upstream . dx/dr, [..., 1]
        const logPi = tf.logSoftmax(ls);
        const pi = tf.exp(logPi);
        // log f_k(r): the radial density of sigma_k chi_D
        const logF = tf.sub(
          tf.sub(tf.mul(d - 1, tf.log(r)), tf.div(tf.square(r), tf.mul(2, tf.square(ss)))),
          tf.add(tf.mul(d, tf.log(ss)), (d / 2 - 1) * Math.LN2 + lgamma64(d / 2)),
        ); // [..., K]
        const joint = tf.add(logF, logPi);
        const logP = tf.logSumExp(joint, -1, true); // log p_r(r)
        const w = tf.exp(tf.sub(joint, logP)); // responsibilities
        const [pk] = gammaincPQ(tf.scalar(d / 2), tf.div(tf.square(r), tf.mul(2, tf.square(ss))));
        const cdf = tf.sum(tf.mul(pi, pk), -1, true);
        const drdSigma = tf.div(tf.mul(r, w), ss);
        const drdLogit = tf.neg(tf.mul(tf.mul(pi, tf.sub(pk, cdf)), tf.exp(tf.neg(logP))));
        const lead2 = Array.from({ length: r.rank - 1 }, (_, i) => i);
        const dSigma = tf.sum(tf.mul(gr, drdSigma), lead2);
        const dLogit = tf.sum(tf.mul(gr, drdLogit), lead2);
        return [dCoord, dLogit, dSigma, tf.zerosLike(zs), tf.zerosLike(ohs)];
      },
    };
  });
  return f(coord, logits, sigma, z, onehot);
}
