/**
 * The logistic-normal distribution on the simplex (torch's `LogisticNormal`): a normal vector in
 * `R^{K-1}` mapped onto the `K`-simplex by the stick-breaking transform,
 *
 * $$X = \operatorname{StickBreaking}(Y),\qquad Y_k \sim \mathcal N(\mu_k, \sigma_k^2)\
 *   (k = 1..K-1),$$
 *
 * so that `X_k / X_K = e^{Y_k - log(K - k)} / prod(...)`: with torch's `StickBreakingTransform`
 * `z_k = sigmoid(y_k - log(K - k))`, `x_k = z_k prod_{j<k}(1 - z_j)`, `x_K = prod_j (1 - z_j)`
 * (`x = (1/K, ..., 1/K)` at `y = 0`), and
 *
 * $$\log p(x) = \sum_{k=1}^{K-1} \log \mathcal N(y_k; \mu_k, \sigma_k) - \log|\det J(y)|,
 *   \qquad y = \operatorname{StickBreaking}^{-1}(x).$$
 *
 * Event shape `[K]` for `loc`/`scale` of shape `[..., K-1]` (a scalar pair gives `K = 2`, as
 * torch's). Draws push normal draws through the map (reparameterized). No closed-form moments.
 */
import * as tf from '@tensorflow/tfjs';
import { StickBreaking } from '../bijectors/stick_breaking.js';
import type { Distribution, DistributionOptions, TensorInput } from './distribution.js';
import { Normal } from './normal.js';
import { TransformedDistribution } from './transformed.js';
import './expanded.js';
import './independent.js';

/**
 * Logistic-normal with `loc` mu and `scale` sigma > 0 of shape `[..., K-1]`; event shape `[K]`.
 * It owns the normal and the stick-breaking map it builds (`dispose` frees them; the caller's
 * tensors stay the caller's).
 *
 * @example
 * ```ts
 * const d = new LogisticNormal([0, 0], [1, 1]); // on the 3-simplex
 * d.sample([4]);                                 // shape [4, 3], rows sum to 1
 * ```
 */
export class LogisticNormal extends TransformedDistribution {
  /** Location of the underlying normal, shape `[..., K-1]`. */
  readonly loc: tf.Tensor;
  /** Scale of the underlying normal. */
  readonly scale: tf.Tensor;
  private readonly parts: { dispose(): void }[] | undefined;

  /**
   * @param loc mu, finite, shape `[..., K-1]` (a scalar: `K = 2`).
   * @param scale sigma, finite and > 0, broadcasting with `loc`.
   * @param options validation flag and name.
   * @throws ArgumentError naming `loc` / `scale` for bad values or shapes.
   */
  constructor(loc: TensorInput, scale: TensorInput, options: DistributionOptions = {}) {
    const normal = new Normal(loc, scale, { validateArgs: options.validateArgs ?? true });
    const vector: Distribution = normal.batchShape.length === 0 ? normal.expand([1]) : normal;
    const base = vector.toEvent(1);
    const sb = new StickBreaking();
    super(base, sb, options);
    this.loc = normal.loc;
    this.scale = normal.scale;
    this.parts = vector === normal ? [base, sb, normal] : [base, vector, sb, normal];
  }

  /** Frees the normal, its wrappers and the stick-breaking map built here. */
  override dispose(): void {
    for (const p of this.parts ?? []) p.dispose();
    super.dispose();
  }

  /** Draws pushed through the map (none for an empty sample shape). */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batchShape, ...this.eventShape];
    // no draws: no kernels (wasm binary kernels broadcasting into an empty output corrupt memory)
    if (full.some((n) => n === 0)) return tf.zeros(full);
    return super._rsample(shape, seed);
  }
}
