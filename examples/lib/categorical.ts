/**
 * A Categorical distribution over `K` classes parameterized by logits, for the BNN example
 * until the distributions namespace ships its own family:
 * `log p(k) = logits_k - logsumexp(logits)`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution } from '../../src/distributions/distribution.js';

export class CategoricalLogits extends Distribution {
  readonly logits: tf.Tensor;
  constructor(logits: tf.Tensor) {
    super({ validateArgs: false });
    this.logits = logits;
  }
  get batchShape(): number[] {
    return this.logits.shape.slice(0, -1);
  }
  get eventShape(): number[] {
    return [];
  }
  protected _sample(shape: number[], seed: number): tf.Tensor {
    const k = this.logits.shape[this.logits.rank - 1] as number;
    const flat = tf.reshape(this.logits, [-1, k]) as tf.Tensor2D;
    const n = shape.reduce((a, b) => a * b, 1);
    const draws = tf.multinomial(flat, n, seed); // [batch, n]
    return tf.reshape(tf.transpose(draws), [...shape, ...this.batchShape]);
  }
  protected _logProb(value: tf.Tensor): tf.Tensor {
    const k = this.logits.shape[this.logits.rank - 1] as number;
    const logp = tf.logSoftmax(this.logits);
    const oh = tf.oneHot(tf.cast(value, 'int32'), k);
    return tf.sum(tf.mul(oh, logp), -1);
  }
  protected override checkValue(value: tf.Tensor | tf.TensorLike): tf.Tensor {
    return value instanceof tf.Tensor ? value : tf.tensor(value, undefined, 'int32');
  }
}
