/**
 * The variational auto-encoder of MindSpore's `dpn.VAE` (Kingma & Welling 2014).
 *
 * The user's encoder maps `x` to a hidden vector `h` of width `hiddenSize`; the VAE adds
 *
 * $$\mu = W_\mu h + b_\mu,\quad \sigma = \operatorname{softplus}(W_\sigma h + b_\sigma),\quad
 *   z = \mu + \sigma\odot\epsilon,\ \epsilon\sim\mathcal N(0, I),$$
 *
 * maps `z` back to `hiddenSize` with a dense layer and hands it to the user's decoder, whose
 * output is the reconstruction. Train it with `infer.ELBO` and `infer.SVI`.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../utils/seed.js';
import { ArgumentError } from '../utils/errors.js';
import { applyNetwork, checkSize, type Network } from './network.js';
import { VAEBase, type VAEOptions, type VAEOutput } from './vae_base.js';

export { VAEBase, type ProbabilisticNetwork, type VAEOptions, type VAEOutput } from './vae_base.js';

/** Check a requested sample shape: integers >= 1, at most one -1 (inferred). */
export function checkSampleShape(shape: number[] | undefined): void {
  if (shape === undefined) return;
  const ok =
    Array.isArray(shape) &&
    shape.length > 0 &&
    shape.every((d) => Number.isInteger(d) && (d >= 1 || d === -1)) &&
    shape.filter((d) => d === -1).length <= 1;
  if (!ok) {
    throw new ArgumentError(
      'shape',
      `expected integers >= 1 with at most one -1, e.g. [-1, 28, 28, 1], got ${JSON.stringify(shape)}`,
    );
  }
}

/** `t` reshaped to `shape`, or an error naming `shape` and the decoder's output. */
export function reshapeTo(t: tf.Tensor, shape: number[] | undefined): tf.Tensor {
  if (shape === undefined) return t;
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const fits = shape.includes(-1) ? t.size % known === 0 : t.size === known;
  if (!fits) {
    throw new ArgumentError(
      'shape',
      `cannot hold the decoder's output [${t.shape.join(', ')}] (${t.size} values), got [${shape.join(', ')}]`,
    );
  }
  return tf.reshape(t, shape);
}

/** The reconstruction shaped as the input, or an error naming the decoder when sizes differ. */
export function reshapeLike(recon: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (recon.size !== x.size) {
    throw new ArgumentError(
      'decoder',
      `expected the decoder to output ${x.size / (x.shape[0] as number)} values per example (the input [${x.shape.slice(1).join(', ')}]), got [${recon.shape.slice(1).join(', ')}]`,
    );
  }
  return tf.reshape(recon, x.shape);
}

/**
 * MindSpore's `dpn.VAE(encoder, decoder, hiddenSize, latentSize)`.
 *
 * @example
 * ```ts
 * const encoder = tf.sequential({ layers: [
 *   tf.layers.flatten({ inputShape: [32, 32, 1] }),
 *   tf.layers.dense({ units: 800, activation: 'relu' }),
 *   tf.layers.dense({ units: 400, activation: 'relu' })] });
 * const decoder = tf.sequential({ layers: [
 *   tf.layers.dense({ inputShape: [400], units: 1024, activation: 'sigmoid' })] });
 * const vae = new VAE(encoder, decoder, 400, 20);
 * const images = vae.generateSample(64, [-1, 32, 32, 1]);
 * ```
 */
export class VAE extends VAEBase {
  /**
   * @param encoder network mapping `x` to `[n, hiddenSize]`.
   * @param decoder network mapping `[n, hiddenSize]` to the reconstruction.
   * @param hiddenSize width of the encoder output.
   * @param latentSize dimension of `z`.
   */
  constructor(
    encoder: Network,
    decoder: Network,
    hiddenSize: number,
    latentSize: number,
    options: VAEOptions = {},
  ) {
    super(encoder, decoder, hiddenSize, latentSize, latentSize, options);
  }

  /** Encode, sample `z` by reparameterization, decode (the networks in training mode: SVI's pass). */
  apply(x: tf.Tensor): VAEOutput {
    return this.forward(x, true);
  }

  protected forwardForBuild(x: tf.Tensor): void {
    this.forward(x, false);
  }

  private forward(x: tf.Tensor, training: boolean): VAEOutput {
    this.checkX(x);
    return tf.tidy(() => {
      const { mu, std } = this.heads(applyNetwork(this.encoder, x, training));
      const reconX = this.decode(this.reparameterize(mu, std), training);
      return { reconX, x, mu, std };
    }) as VAEOutput;
  }

  /**
   * Decode `n` draws `z ~ N(0, I)`, reshaped to `shape` (e.g. `[-1, 32, 32, 1]`).
   */
  generateSample(n: number, shape?: number[]): tf.Tensor {
    checkSize(n, 'n');
    checkSampleShape(shape);
    return tf.tidy(() => {
      const z = tf.randomNormal([n, this.latentSize], 0, 1, 'float32', nextSeed());
      return reshapeTo(this.decode(z, false), shape);
    });
  }

  /**
   * Encode `x`, draw `z ~ q(z|x)` and decode: the reconstruction, shaped as `x` (the networks in
   * inference mode, as {@link generateSample}).
   */
  reconstructSample(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => reshapeLike(this.forward(x, false).reconX, x));
  }
}
