/**
 * MindSpore's `dpn.ConditionalVAE` (Sohn et al. 2015): the encoder sees the image and its
 * one-hot label `c`, the decoder sees `[z, c]`:
 *
 * $$h = \mathrm{enc}(x, c),\quad z = \mu(h) + \sigma(h)\odot\epsilon,\quad
 *   \hat x = \mathrm{dec}(W [z, c] + b).$$
 *
 * A two-input encoder model receives `[x, c]`; a one-input encoder receives
 * `concat(flatten(x), c)`.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../utils/seed.js';
import { ArgumentError } from '../utils/errors.js';
import { applyNetwork, checkSize, numInputs, type Network } from './network.js';
import {
  checkSampleShape,
  reshapeLike,
  reshapeTo,
  VAEBase,
  type VAEOptions,
  type VAEOutput,
} from './vae.js';

/**
 * A label-conditioned VAE.
 *
 * @example
 * ```ts
 * const cvae = new ConditionalVAE(encoder, decoder, 400, 20, 10);
 * const sevens = cvae.generateSample(7, 16, [-1, 32, 32, 1]);
 * ```
 */
export class ConditionalVAE extends VAEBase {
  readonly numClasses: number;

  /**
   * @param encoder network mapping `(x, onehot)` to `[n, hiddenSize]`.
   * @param decoder network mapping `[n, hiddenSize]` to the reconstruction.
   * @param hiddenSize width of the encoder output.
   * @param latentSize dimension of `z`.
   * @param numClasses number of labels.
   */
  constructor(
    encoder: Network,
    decoder: Network,
    hiddenSize: number,
    latentSize: number,
    numClasses: number,
    options: VAEOptions = {},
  ) {
    super(
      encoder,
      decoder,
      hiddenSize,
      latentSize,
      latentSize + checkSize(numClasses, 'numClasses'),
      options,
    );
    this.numClasses = numClasses;
  }

  protected override labelColumns(): number {
    return this.numClasses;
  }

  /**
   * The one-hot rows of `y`: integer labels `[n]` in `[0, numClasses)`, or rows already one-hot,
   * `[n, numClasses]` (each row 0/1 with a single 1), as a PyTorch user passes either.
   */
  private oneHot(y: tf.Tensor, n: number, name = 'y'): tf.Tensor {
    if (!(y instanceof tf.Tensor)) {
      throw new ArgumentError(name, 'expected a tensor of labels');
    }
    const C = this.numClasses;
    if (y.rank === 2 && y.shape[0] === n && y.shape[1] === C) {
      const v = y.dataSync();
      for (let i = 0; i < n; i++) {
        let ones = 0;
        for (let j = 0; j < C; j++) {
          const e = v[i * C + j] as number;
          if (e === 1) ones++;
          else if (e !== 0) {
            throw new ArgumentError(
              name,
              `expected one-hot rows [${n}, ${C}] of 0/1 values, got ${e} at [${i}, ${j}]`,
            );
          }
        }
        if (ones !== 1) {
          throw new ArgumentError(
            name,
            `expected one-hot rows [${n}, ${C}] with a single 1, got ${ones} ones in row ${i}`,
          );
        }
      }
      return tf.cast(y, 'float32');
    }
    if (y.rank !== 1 || y.shape[0] !== n) {
      throw new ArgumentError(
        name,
        `expected integer labels of shape [${n}] or one-hot rows [${n}, ${C}] (numClasses), got [${y.shape}]`,
      );
    }
    const v = y.dataSync();
    for (let i = 0; i < v.length; i++) {
      const l = v[i] as number;
      if (!(Number.isInteger(l) && l >= 0 && l < C)) {
        throw new ArgumentError(
          name,
          `expected integer labels in [0, ${C}) (numClasses), got ${l} at ${i}`,
        );
      }
    }
    return tf.oneHot(tf.cast(y, 'int32') as tf.Tensor1D, C).toFloat();
  }

  /** Encode `(x, y)`, sample `z`, decode `[z, onehot(y)]` (training mode: SVI's pass). */
  apply(x: tf.Tensor, y?: tf.Tensor): VAEOutput {
    return this.forward(x, y, true);
  }

  protected forwardForBuild(x: tf.Tensor, y?: tf.Tensor): void {
    this.forward(x, y, false);
  }

  private forward(x: tf.Tensor, y: tf.Tensor | undefined, training: boolean): VAEOutput {
    if (y === undefined) throw new ArgumentError('y', 'ConditionalVAE needs the labels');
    this.checkX(x);
    return tf.tidy(() => {
      const n = x.shape[0] as number;
      const c = this.oneHot(y, n);
      const h =
        numInputs(this.encoder) === 2
          ? applyNetwork(this.encoder, [x, c], training)
          : applyNetwork(this.encoder, tf.concat([tf.reshape(x, [n, -1]), c], 1), training);
      const { mu, std } = this.heads(h);
      const z = this.reparameterize(mu, std);
      const reconX = this.decode(tf.concat([z, c], 1), training);
      return { reconX, x, mu, std };
    }) as VAEOutput;
  }

  /**
   * Decode `n` draws `z ~ N(0, I)` conditioned on `label` (one label for all, `n` labels, or a
   * tensor of `n` labels or one-hot rows `[n, numClasses]`).
   */
  generateSample(label: number | number[] | tf.Tensor, n: number, shape?: number[]): tf.Tensor {
    checkSize(n, 'n');
    checkSampleShape(shape);
    return tf.tidy(() => {
      const labels =
        label instanceof tf.Tensor
          ? label
          : tf.tensor1d(
              typeof label === 'number' ? new Array<number>(n).fill(label) : label,
              'float32',
            );
      const c = this.oneHot(labels, n, 'label');
      const z = tf.randomNormal([n, this.latentSize], 0, 1, 'float32', nextSeed());
      const out = this.decode(tf.concat([z, c], 1), false);
      return reshapeTo(out, shape);
    });
  }

  /**
   * Reconstruct `x` given its labels `y` (integers `[n]` or one-hot `[n, numClasses]`), shaped as
   * `x` (the networks in inference mode).
   */
  reconstructSample(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => reshapeLike(this.forward(x, y, false).reconX, x));
  }
}
