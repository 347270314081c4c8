/**
 * The shared base of the variational auto-encoders: {@link VAEBase} (the encoder's mean and
 * std heads, the reparameterized draw, the decoder head, input checks, weights) and the
 * interfaces {@link VAEOutput}, {@link ProbabilisticNetwork} and {@link VAEOptions}.
 * `VAE` (vae.ts) and `ConditionalVAE` (conditional_vae.ts) extend it.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../utils/seed.js';
import { checkFinite } from '../utils/tensor.js';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import {
  applyNetwork,
  builtDense,
  checkNetwork,
  checkNetworkShapes,
  checkSize,
  declaredInput,
  disposeNetwork,
  inputSpecMismatch,
  networkVariables,
  numInputs,
  type Network,
} from './network.js';

/** What a VAE returns on a batch (MindSpore's `(recon_x, x, mu, std)`). */
export interface VAEOutput {
  /** Decoder output. */
  reconX: tf.Tensor;
  /** The input. */
  x: tf.Tensor;
  /** Posterior mean, `[n, latentSize]`. */
  mu: tf.Tensor;
  /** Posterior standard deviation, `[n, latentSize]`. */
  std: tf.Tensor;
}

/** A network trainable by `infer.SVI`: forward pass and trainable variables. */
export interface ProbabilisticNetwork {
  apply(x: tf.Tensor, y?: tf.Tensor): VAEOutput;
  trainableVariables(): tf.Variable[];
  dispose(): void;
  /**
   * Create any weights still missing (layers built lazily on their first input), so that
   * {@link trainableVariables} lists them all before a training step takes its gradients.
   */
  build?(x: tf.Tensor, y?: tf.Tensor): void;
}

/** Options of `VAE` (and `ConditionalVAE`). */
export interface VAEOptions {
  /** Map from the dense head to the std: `softplus` (default) or `exp(0.5 * ·)` (log-variance). */
  stdTransform?: 'softplus' | 'exp';
}

/** Shared parts of `VAE` and `ConditionalVAE`. */
export abstract class VAEBase implements ProbabilisticNetwork {
  readonly encoder: Network;
  readonly decoder: Network;
  readonly hiddenSize: number;
  readonly latentSize: number;
  protected readonly stdTransform: 'softplus' | 'exp';
  /** Dense heads: hidden -> mean, hidden -> std (pre-activation), latent(-ish) -> hidden. */
  protected readonly dense1: tf.layers.Layer;
  protected readonly dense2: tf.layers.Layer;
  protected readonly dense3: tf.layers.Layer;

  protected constructor(
    encoder: Network,
    decoder: Network,
    hiddenSize: number,
    latentSize: number,
    decoderInputSize: number,
    options: VAEOptions,
  ) {
    this.encoder = checkNetwork(encoder, 'encoder');
    this.decoder = checkNetwork(decoder, 'decoder');
    this.hiddenSize = checkSize(hiddenSize, 'hiddenSize');
    this.latentSize = checkSize(latentSize, 'latentSize');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['stdTransform'], 'VAE');
    const st = options.stdTransform ?? 'softplus';
    if (st !== 'softplus' && st !== 'exp') {
      throw new ArgumentError('stdTransform', `expected 'softplus' or 'exp', got '${String(st)}'`);
    }
    this.stdTransform = st;
    checkNetworkShapes(this.encoder, this.decoder, hiddenSize, decoderInputSize - latentSize);
    this.dense1 = builtDense(hiddenSize, latentSize, 'vae_mu');
    this.dense2 = builtDense(hiddenSize, latentSize, 'vae_std');
    this.dense3 = builtDense(decoderInputSize, hiddenSize, 'vae_dec');
  }

  abstract apply(x: tf.Tensor, y?: tf.Tensor): VAEOutput;

  /** Encoder output -> (mu, std). */
  protected heads(h: tf.Tensor): { mu: tf.Tensor; std: tf.Tensor } {
    if (h.rank !== 2 || h.shape[1] !== this.hiddenSize) {
      throw new ArgumentError(
        'encoder',
        `expected the encoder to output [n, ${this.hiddenSize}] (hiddenSize), got [${h.shape}]`,
      );
    }
    const mu = this.dense1.apply(h) as tf.Tensor;
    const s = this.dense2.apply(h) as tf.Tensor;
    const std = this.stdTransform === 'softplus' ? tf.softplus(s) : tf.exp(tf.mul(0.5, s));
    return { mu, std };
  }

  /** Reparameterized draw `z = mu + std * eps`. */
  protected reparameterize(mu: tf.Tensor, std: tf.Tensor): tf.Tensor {
    const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', nextSeed());
    return tf.add(mu, tf.mul(std, eps));
  }

  /** `decoder(dense3(z))`, in training mode (SVI) or inference mode (sampling). */
  protected decode(z: tf.Tensor, training = true): tf.Tensor {
    return applyNetwork(this.decoder, this.dense3.apply(z) as tf.Tensor, training);
  }

  /** Check a batch of inputs: a tensor with at least one row, finite values. */
  protected checkX(x: tf.Tensor): void {
    if (!(x instanceof tf.Tensor) || x.rank < 2) {
      throw new ArgumentError('x', 'expected a batch tensor [n, ...]');
    }
    if ((x.shape[0] as number) < 1) {
      throw new ArgumentError('x', `expected at least one example, got [${x.shape.join(', ')}]`);
    }
    // tfjs layers refuse mixed dtypes deep inside (e.g. conv2d: "must be float32 tensor"); an
    // Embedding first layer takes integer ids (it casts them itself)
    const dtype = Array.isArray(this.encoder)
      ? 'float32'
      : (this.encoder.inputs[0]?.dtype ?? 'float32');
    const layers = Array.isArray(this.encoder) ? this.encoder : this.encoder.layers;
    const first = layers.find((l) => l.getClassName() !== 'InputLayer');
    const ids =
      first?.getClassName() === 'Embedding' && (x.dtype === 'int32' || x.dtype === 'float32');
    if (x.dtype !== dtype && !ids) {
      throw new ArgumentError(
        'x',
        `expected a ${dtype} batch (the encoder's input dtype), got ${x.dtype}; cast it first, e.g. x.toFloat()`,
      );
    }
    checkFinite(x, 'x', 'inputs');
    this.checkEncoderInput(x);
  }

  /** One-hot label columns a one-input encoder sees after the flattened `x` (0 for a VAE). */
  protected labelColumns(): number {
    return 0;
  }

  /**
   * Check `x` against the input an encoder declares: a `tf.LayersModel`'s input shape, or the
   * first layer of a layer stack's `inputShape` and `inputSpec` (its rank, fixed axes), so that a
   * batch of the wrong shape is named as such, not as a layer's input.
   */
  private checkEncoderInput(x: tf.Tensor): void {
    const { shape, spec } = declaredInput(this.encoder);
    const labels = this.labelColumns();
    const flat = labels > 0 && numInputs(this.encoder) === 1;
    const size = x.shape.slice(1).reduce((a, b) => a * b, 1);
    if (shape !== undefined) this.checkDeclaredShape(x, shape.slice(1), flat, labels);
    if (spec !== undefined) {
      // what the first layer receives: x, or concat(flatten(x), onehot(y)) for a conditional one
      const seen = flat ? [x.shape[0] as number, size + labels] : x.shape;
      const why = inputSpecMismatch(seen, spec);
      if (why !== undefined) {
        throw new ArgumentError(
          'x',
          `expected a batch the encoder's first layer takes (${why}${flat ? `, after flattening x and appending the ${labels} one-hot label columns` : ''}), got [${x.shape.join(', ')}]`,
        );
      }
    }
  }

  /** `x` against a declared input shape (batch dim left out), for {@link checkEncoderInput}. */
  private checkDeclaredShape(
    x: tf.Tensor,
    want: (number | null)[],
    flat: boolean,
    labels: number,
  ): void {
    const got = x.shape.slice(1);
    const size = got.reduce((a, b) => a * b, 1);
    const fmt = (d: (number | null)[]): string => `[n, ${d.map((v) => v ?? '?').join(', ')}]`;
    if (flat) {
      const w = want.length === 1 ? want[0] : null;
      if (typeof w === 'number' && size + labels !== w) {
        throw new ArgumentError(
          'x',
          `expected ${w - labels} values per example (the encoder's input ${fmt(want)} less the ${labels} one-hot label columns), got [${x.shape.join(', ')}]`,
        );
      }
      return;
    }
    const fits = want.length === got.length && want.every((d, i) => d === null || d === got[i]);
    if (!fits) {
      throw new ArgumentError(
        'x',
        `expected a batch of the encoder's input shape ${fmt(want)}, got [${x.shape.join(', ')}]`,
      );
    }
  }

  /**
   * Build a layer-array encoder or decoder whose layers have not seen an input yet (a
   * `tf.LayersModel` is built already): one forward pass in inference mode, its result freed.
   * Without it the first training step would take no gradient for their weights.
   */
  build(x: tf.Tensor, y?: tf.Tensor): void {
    const unbuilt = (net: Network): boolean => Array.isArray(net) && net.some((l) => !l.built);
    if (unbuilt(this.encoder) || unbuilt(this.decoder)) {
      tf.tidy(() => {
        this.forwardForBuild(x, y);
      });
    }
  }

  /** A forward pass in inference mode, for {@link build}. */
  protected abstract forwardForBuild(x: tf.Tensor, y?: tf.Tensor): void;

  /** Every trainable variable: encoder, the three dense heads, decoder. */
  trainableVariables(): tf.Variable[] {
    const heads = [this.dense1, this.dense2, this.dense3].flatMap((l) =>
      l.trainableWeights.map((w) => w.read() as tf.Variable),
    );
    return [...networkVariables(this.encoder), ...heads, ...networkVariables(this.decoder)];
  }

  /** Every weight, trainable or not (e.g. BatchNorm statistics): encoder, heads, decoder. */
  private allWeights(): tf.LayerVariable[] {
    const of = (net: Network): tf.LayerVariable[] =>
      Array.isArray(net) ? net.flatMap((l) => l.weights) : net.weights;
    return [
      ...of(this.encoder),
      ...[this.dense1, this.dense2, this.dense3].flatMap((l) => l.weights),
      ...of(this.decoder),
    ];
  }

  /**
   * Copies of every weight (encoder, the three dense heads, decoder; non-trainable ones such as
   * BatchNorm statistics included), in a fixed order: a checkpoint to resume from with
   * {@link setWeights} (Keras's `getWeights`, PyTorch's `state_dict`). The caller disposes them.
   */
  getWeights(): tf.Tensor[] {
    return this.allWeights().map((w) => tf.clone(w.read()));
  }

  /**
   * Restore weights saved by {@link getWeights} of a VAE of the same architecture. Every count
   * and shape is checked before any weight changes; the tensors stay the caller's. A layer-array
   * encoder or decoder creates its weights on its first input: call {@link build} with a batch
   * before restoring into a fresh VAE (a `tf.LayersModel` is built already).
   */
  setWeights(weights: tf.Tensor[]): void {
    const ws = this.allWeights();
    const unbuilt = [this.encoder, this.decoder].some(
      (net) => Array.isArray(net) && net.some((l) => !l.built),
    );
    if (unbuilt && Array.isArray(weights) && weights.length > ws.length) {
      throw new ArgumentError(
        'weights',
        `got ${weights.length} tensors but this VAE holds ${ws.length}: its layer-array encoder or decoder has not seen an input yet, so its weights do not exist; call vae.build(x) (or apply) with a batch first`,
      );
    }
    if (!Array.isArray(weights) || weights.length !== ws.length) {
      throw new ArgumentError(
        'weights',
        `expected ${ws.length} tensors (getWeights of a VAE of this architecture), got ${Array.isArray(weights) ? weights.length : String(weights)}`,
      );
    }
    ws.forEach((w, i) => {
      const t = weights[i];
      if (!(t instanceof tf.Tensor) || t.isDisposed) {
        throw new ArgumentError(`weights[${i}]`, 'expected a live tensor');
      }
      const shape = w.read().shape;
      if (!tf.util.arraysEqual(t.shape, shape) || t.dtype !== w.dtype) {
        throw new ArgumentError(
          `weights[${i}]`,
          `expected ${w.dtype} [${shape.join(', ')}] (${w.name}), got ${t.dtype} [${t.shape.join(', ')}]`,
        );
      }
    });
    ws.forEach((w, i) => w.write(weights[i] as tf.Tensor));
  }

  /** Free the encoder, decoder and heads. */
  dispose(): void {
    disposeNetwork(this.encoder);
    disposeNetwork(this.decoder);
    for (const l of [this.dense1, this.dense2, this.dense3]) l.dispose();
  }
}
