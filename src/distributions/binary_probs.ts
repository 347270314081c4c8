/**
 * The base of the families with one success probability per batch element (Bernoulli,
 * Binomial, NegativeBinomial, Geometric): parameterized by `{probs}` p or `{logits}`
 * `l = log(p / (1 - p))`, the other derived at construction,
 *
 * $$p = \sigma(l),\qquad l = \log p - \log(1 - p),$$
 *
 * and the stable pair `[log p, log(1 - p)] = [-softplus(-l), -softplus(l)]` when given logits.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p, logNoNanGrad } from '../utils/log1p.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { readProbsOrLogits, type ProbsOrLogits } from './probs.js';
import { eq, whereB } from './special.js';
import { ScalarDistribution } from './scalar.js';

/** Admissible ranges of the success parameter (closed; NaN always fails). */
export interface BinaryProbsRange {
  /** Largest admissible `probs` (default 1). */
  probsMax?: number;
  /** Largest admissible `logits` (default `Infinity`: p = 1 allowed). */
  logitsMax?: number;
}

/** A scalar family with a success probability given by `{probs}` or `{logits}`. */
export abstract class BinaryProbsDistribution extends ScalarDistribution {
  /** Success probability p. */
  readonly probs: tf.Tensor;
  /** Log-odds `log(p / (1 - p))`. */
  readonly logits: tf.Tensor;
  /** True when constructed from logits (the stable log pair then uses them). */
  protected readonly fromLogits: boolean;

  /**
   * @param params `{probs}` or `{logits}` (or probs directly).
   * @param options validation flag and name.
   * @param range admissible ranges of the parameter.
   */
  protected constructor(
    params: TensorInput | ProbsOrLogits,
    options: DistributionOptions,
    range: BinaryProbsRange = {},
  ) {
    super(options);
    const { kind, value } = readProbsOrLogits(params);
    this.fromLogits = kind === 'logits';
    if (this.fromLogits) {
      this.logits = this.param(value, 'logits');
      // NaN fails every comparison; +-Infinity (p = 1 or 0) is allowed unless capped.
      this.checkInRange(this.logits, 'logits', -Infinity, range.logitsMax ?? Infinity);
      // sigmoid(-Infinity) is 0 exactly (the wasm kernel pack's sigmoid stops at 1.2e-38, which
      // made the entropy of Bernoulli({logits: -Infinity}) Infinity)
      this.probs = this.own(tf.tidy(() => sigmoidExact(this.logits)));
    } else {
      this.probs = this.param(value, 'probs');
      this.checkInRange(this.probs, 'probs', 0, range.probsMax ?? 1);
      this.logits = this.own(
        tf.tidy(() => tf.sub(logNoNanGrad(this.probs), log1p(tf.neg(this.probs)))),
      );
    }
  }

  /** The parameter the user gave, by its name (for `setBatchShape` and error messages). */
  protected givenParam(): Record<string, tf.Tensor> {
    return this.fromLogits ? { logits: this.logits } : { probs: this.probs };
  }

  /**
   * The failure probability `1 - p`: `sigma(-l)` when given logits (full float32 relative
   * accuracy when `p` is near 1, where `1 - sigma(l)` keeps only ~6e-8 absolute: the entropy of
   * `Bernoulli({logits: 12})` was 8.05e-5 for 7.99e-5; exactly 0 at `l = +Infinity`), `1 - p`
   * when given probs (exact).
   *
   * $$1 - p = \sigma(-l)$$
   */
  failureProbs(): tf.Tensor {
    return this.fromLogits ? sigmoidExact(tf.neg(this.logits)) : tf.sub(1, this.probs);
  }

  /** `[log p, log(1 - p)]`, stable for either parameterization. */
  logProbsPair(): [tf.Tensor, tf.Tensor] {
    if (this.fromLogits) {
      return [tf.neg(tf.softplus(tf.neg(this.logits))), tf.neg(tf.softplus(this.logits))];
    }
    return [logNoNanGrad(this.probs), log1p(tf.neg(this.probs))];
  }
}

/**
 * `sigma(l) = 1 / (1 + e^{-l})` with `sigma(-Infinity) = 0` exactly (a probability of 0 must
 * stay 0: `0 * log 0` terms are dropped by `mulNoNan`, a `1.2e-38` is not).
 *
 * $$\sigma(l) = \begin{cases} 0 & l = -\infty \\ 1/(1 + e^{-l}) & \text{otherwise}\end{cases}$$
 */
function sigmoidExact(l: tf.Tensor): tf.Tensor {
  return tf.tidy(() => whereB(eq(l, -Infinity), tf.zerosLike(l), tf.sigmoid(l)));
}
