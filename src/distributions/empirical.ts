/**
 * The empirical distribution of weighted samples (Pyro's `Empirical`): a discrete distribution
 * putting mass `w_i` on each stored sample `x_i`, e.g. posterior draws or importance samples.
 *
 * $$P(X = x) = \sum_{i=1}^{N} w_i\,[x_i = x],\qquad
 *   w_i = \frac{e^{\ell_i}}{\sum_j e^{\ell_j}}$$
 *
 * (`log P` is `-Infinity` for a value that is none of the samples; a value equal to several sums
 * their weights). Mean `sum_i w_i x_i`, variance `sum_i w_i (x_i - mean)^2`. Draws pick sample
 * indices from `Categorical(logits = ell)` (not reparameterized).
 */
import * as tf from '@tensorflow/tfjs';
import { type TensorInput } from '../utils/tensor.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { maskLogProb, noGrad } from './special.js';
import './expanded.js';
import './independent.js';

/**
 * Weighted samples `samples` (shape `[...batch, N, ...event]`) with log-weights `logWeights`
 * (shape `[...batch, N]`, unnormalized): batch shape `logWeights.shape[:-1]`, event shape
 * `samples.shape[logWeights.rank:]`.
 *
 * @example
 * ```ts
 * const d = new Empirical([0, 1, 2], [0, Math.log(2), 0]); // weights 1/4, 1/2, 1/4
 * d.mean();      // 1
 * d.logProb(1);  // log(1/2)
 * ```
 */
export class Empirical extends Distribution {
  /** The stored samples, `[...batch, N, ...event]`. */
  readonly samples: tf.Tensor;
  /** The unnormalized log-weights, `[...batch, N]`. */
  readonly logWeights: tf.Tensor;
  private readonly logW: tf.Tensor;
  private readonly batch: number[];
  private readonly event: number[];

  /**
   * @param samples the samples; their leading dims are the log-weights' shape.
   * @param logWeights log-weights (any finite values or `-Infinity`, not all `-Infinity`), shape
   *   `[...batch, N]`, `N >= 1`.
   * @param options validation flag and name.
   * @throws ArgumentError naming `logWeights` or `samples` for mismatched shapes or bad weights.
   */
  constructor(samples: TensorInput, logWeights: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.samples = this.param(samples, 'samples');
    this.logWeights = this.param(logWeights, 'logWeights');
    const lw = this.logWeights.shape;
    const ss = this.samples.shape;
    if (lw.length < 1 || (lw[lw.length - 1] as number) < 1) {
      throw this.constructionError(
        'logWeights',
        `expected shape [...batch, N] with N >= 1, got [${lw.join(',')}]`,
      );
    }
    if (ss.length < lw.length || lw.some((d, i) => ss[i] !== d)) {
      throw this.constructionError(
        'samples',
        `expected shape [${lw.join(',')}, ...event] (the log-weights' shape first), got ` +
          `[${ss.join(',')}]`,
      );
    }
    this.batch = lw.slice(0, -1);
    this.event = ss.slice(lw.length);
    if (this.validateArgs && this.logWeights.size > 0) {
      const bad = tf.tidy(() => {
        const nan = tf.any(tf.isNaN(this.logWeights));
        const posInf = tf.any(tf.equal(this.logWeights, Infinity));
        const allNeg = tf.any(tf.all(tf.equal(this.logWeights, -Infinity), -1));
        return tf.stack([nan, posInf, allNeg].map((t) => tf.cast(t, 'float32')));
      });
      const [nan, posInf, allNeg] = Array.from(bad.dataSync());
      bad.dispose();
      if (nan || posInf || allNeg) {
        throw this.constructionError(
          'logWeights',
          'expected values < Infinity (no NaN), not all -Infinity in a batch entry',
        );
      }
    }
    this.logW = this.own(
      tf.tidy(() => tf.sub(this.logWeights, tf.logSumExp(this.logWeights, -1, true))),
    );
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [...this.event];
  }
  /** The number of stored samples `N` per batch entry. */
  get sampleSize(): number {
    return this.logWeights.shape[this.logWeights.rank - 1] as number;
  }
  /** Support: the reals with the event dims (Pyro's; the mass sits on the samples). */
  override get support(): Constraint {
    return independent(real, this.event.length);
  }

  /** The samples as `[B, N, E]` (flattened batch and event). */
  private flat(): tf.Tensor3D {
    const nb = this.batch.reduce((a, b) => a * b, 1);
    const ne = this.event.reduce((a, b) => a * b, 1);
    return tf.reshape(this.samples, [nb, this.sampleSize, ne]) as tf.Tensor3D;
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const nb = this.batch.reduce((a, b) => a * b, 1);
    const ne = this.event.reduce((a, b) => a * b, 1);
    const n = shape.reduce((a, b) => a * b, 1);
    const full = [...shape, ...this.batch, ...this.event];
    if (n === 0 || nb === 0 || ne === 0) return tf.zeros(full);
    const logits = tf.reshape(this.logW, [nb, this.sampleSize]) as tf.Tensor2D;
    const idx = tf.multinomial(logits, n, seed); // [nb, n]
    // row b's pick i is row b * N + i of the [nb * N, ne] samples (tfjs-backend-wasm 4.22's
    // gather with batchDims 1 reads past the rows: wrong draws, then a heap fault)
    const rows = tf.mul(tf.range(0, nb, 1, 'int32'), tf.scalar(this.sampleSize, 'int32'));
    const flatIdx = tf.add(idx, tf.reshape(rows, [nb, 1]));
    const picked = tf.gather(tf.reshape(this.flat(), [nb * this.sampleSize, ne]), flatIdx); // [nb, n, ne]
    return tf.reshape(tf.transpose(picked, [1, 0, 2]), full);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const e = this.event.length;
    // [..., batch, 1, ...event] against [batch, N, ...event]
    const xv = tf.expandDims(x, x.rank - e);
    const same = noGrad(
      (a, b) => {
        const eq = tf.equal(a as tf.Tensor, b as tf.Tensor);
        return e === 0
          ? eq
          : tf.all(
              eq,
              Array.from({ length: e }, (_, i) => eq.rank - e + i),
            );
      },
      xv,
      this.samples,
    );
    const w = tf.where(same, tf.broadcastTo(this.logW, same.shape), tf.fill(same.shape, -Infinity));
    const hit = tf.any(same, -1);
    // logSumExp of all -Infinity is NaN: replace those rows, then mask them to -Infinity
    const safeW = tf.where(tf.expandDims(hit, -1), w, tf.zerosLike(w));
    return maskLogProb(hit, tf.logSumExp(safeW, -1));
  }
  /** The weights `w_i` broadcast against the samples, `[...batch, N, 1, ..., 1]`. */
  private weights(): tf.Tensor {
    return tf.reshape(tf.exp(this.logW), [...this.logW.shape, ...this.event.map(() => 1)]);
  }
  protected override _mean(): tf.Tensor {
    return tf.sum(tf.mul(this.weights(), this.samples), this.batch.length);
  }
  protected override _variance(): tf.Tensor {
    const m = tf.expandDims(this._mean(), this.batch.length);
    return tf.sum(tf.mul(this.weights(), tf.square(tf.sub(this.samples, m))), this.batch.length);
  }
}
