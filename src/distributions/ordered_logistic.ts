/**
 * The ordered logistic distribution (ordinal regression), as Pyro's / NumPyro's
 * `OrderedLogistic(predictor, cutpoints)`: a {@link Categorical} over `K = len(cutpoints) + 1`
 * ordered classes with cumulative probabilities
 *
 * $$P(Y \le k) = \sigma(c_k - \eta),\qquad k = 0, \dots, K-2,$$
 *
 * so that, with `d_k = c_k - eta`,
 *
 * $$\log P(Y = 0) = \log\sigma(d_0),\qquad \log P(Y = K-1) = \log\sigma(-d_{K-2}),$$
 * $$\log P(Y = k) = \log\sigma(d_k) + \log\sigma(-d_{k-1}) + \log\big(1 - e^{c_{k-1} - c_k}\big)$$
 *
 * (from `sigma(a) - sigma(b) = sigma(a) sigma(-b) (1 - e^{b - a})`: no cancellation between close
 * cumulative probabilities, differentiable in `eta` and the cutpoints). Batch shape
 * `broadcast(predictor.shape, cutpoints.shape[:-1])`; everything else (support `{0..K-1}`,
 * `enumerateSupport`, draws, `NaN` mean as a label) is the Categorical's.
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { Categorical } from './categorical.js';
import { ordered } from '../constraints/constraints.js';
import { lt } from './special.js';
import { ArgumentError } from '../utils/errors.js';
import { log1p } from '../utils/log1p.js';
import { broadcastShapes, checkFinite, softplus, toFloat } from '../utils/tensor.js';

/** `log(1 - e^x)` for `x < 0`: `log1p(-e^x)` below `-log 2`, `log(-expm1(x))` above. */
function log1mexp(x: tf.Tensor): tf.Tensor {
  const far = lt(x, -Math.LN2);
  const xFar = tf.where(far, x, tf.fill(x.shape, -1));
  const xNear = tf.where(far, tf.fill(x.shape, -0.5), x);
  return tf.where(far, log1p(tf.neg(tf.exp(xFar))), tf.log(tf.neg(tf.expm1(xNear))));
}

/** `log P(Y = k)` for `k = 0..K-1` from `eta` (batch) and cutpoints `[..., K-1]`. */
function orderedLogits(eta: tf.Tensor, cuts: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const km1 = cuts.shape[cuts.rank - 1] as number;
    const batch = broadcastShapes({ predictor: eta.shape, cutpoints: cuts.shape.slice(0, -1) });
    const d = tf.sub(tf.broadcastTo(cuts, [...batch, km1]), tf.expandDims(eta, -1));
    const lead = Array<number>(batch.length).fill(0);
    const part = (from: number, len: number, x: tf.Tensor): tf.Tensor =>
      tf.slice(x, [...lead, from], [...batch, len]);
    const first = tf.neg(softplus(tf.neg(part(0, 1, d)))); // log sigma(d_0)
    const last = tf.neg(softplus(part(km1 - 1, 1, d))); // log sigma(-d_{K-2})
    if (km1 === 1) return tf.concat([first, last], -1);
    const a = part(1, km1 - 1, d);
    const b = part(0, km1 - 1, d);
    const cb = tf.broadcastTo(cuts, [...batch, km1]);
    const gap = tf.sub(part(0, km1 - 1, cb), part(1, km1 - 1, cb)); // c_{k-1} - c_k < 0
    const mid = tf.add(tf.neg(tf.add(softplus(tf.neg(a)), softplus(b))), log1mexp(gap));
    return tf.concat([first, mid, last], -1);
  });
}

/**
 * Ordered logistic distribution over `{0, ..., K-1}`.
 *
 * @example
 * ```ts
 * const d = new OrderedLogistic(tf.tensor1d([0.3, -1]), tf.tensor1d([-1, 0, 2]));
 * d.probs;            // [2, 4], rows sum to 1
 * d.logProb([3, 0]);  // log(1 - sigma(2 - 0.3)), log sigma(-1 + 1)
 * ```
 */
export class OrderedLogistic extends Categorical {
  /** The linear predictor `eta` (batch). */
  readonly predictor: tf.Tensor;
  /** The ordered cutpoints `c`, shape `[..., K-1]`. */
  readonly cutpoints: tf.Tensor;

  /**
   * @param predictor the linear predictor `eta`, any shape (broadcast with the cutpoints' batch).
   * @param cutpoints strictly increasing cutpoints `[..., K-1]`, `K - 1 >= 1` (checked with
   *   `validateArgs`, as Pyro's `ordered_vector` constraint).
   * @param options validation flag and name.
   */
  constructor(predictor: TensorInput, cutpoints: TensorInput, options: DistributionOptions = {}) {
    const parts = readOrderedParams(predictor, cutpoints, options.validateArgs ?? true);
    try {
      super({ logits: parts.logits }, options);
    } catch (e) {
      tf.dispose(parts.owned);
      throw e;
    }
    for (const t of parts.owned) this.own(t);
    this.predictor = parts.predictor;
    this.cutpoints = parts.cutpoints;
  }
}

/** Convert and check the parameters (before any work), then the class log-probabilities. */
function readOrderedParams(
  predictor: TensorInput,
  cutpoints: TensorInput,
  validate: boolean,
): { predictor: tf.Tensor; cutpoints: tf.Tensor; logits: tf.Tensor; owned: tf.Tensor[] } {
  const owned: tf.Tensor[] = [];
  const conv = (x: TensorInput, name: string): tf.Tensor => {
    const t = toFloat(x, name);
    if (t !== x) owned.push(t);
    return t;
  };
  try {
    const eta = conv(predictor, 'predictor');
    const cuts = conv(cutpoints, 'cutpoints');
    if (cuts.rank < 1 || (cuts.shape[cuts.rank - 1] ?? 0) < 1) {
      throw new ArgumentError(
        'cutpoints',
        `expected a vector [..., K-1] with K - 1 >= 1 cutpoints, got shape [${cuts.shape.join(',')}]`,
      );
    }
    broadcastShapes({ predictor: eta.shape, cutpoints: cuts.shape.slice(0, -1) });
    if (validate) {
      checkFinite(eta, 'predictor');
      checkFinite(cuts, 'cutpoints');
      if (!ordered.checkAll(cuts)) {
        throw new ArgumentError(
          'cutpoints',
          'expected strictly increasing cutpoints along the last axis (ordered_vector)',
        );
      }
    }
    const logits = orderedLogits(eta, cuts);
    owned.push(logits);
    return { predictor: eta, cutpoints: cuts, logits, owned };
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
}
