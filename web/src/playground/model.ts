/**
 * The Bayesian playground's model: a Bayesian MLP on 2-D points (deepprob's `DenseReparam` or
 * `DenseFlipout` layers, mean-field Normal posteriors, Normal prior), trained by Adam on the
 * per-example negative ELBO
 *
 *   `L = (1/N) sum_i -log p(y_i | x_i, w) + KL(q(w) || p(w)) / N`,  `w ~ q` (one draw per step),
 *
 * and read out on a grid with `S` weight samples: the predictive `p̄(y|x) = (1/S) sum_s p_s(y|x)`
 * (decision boundary at `p̄(1|x) = 1/2`), the total uncertainty `H[p̄]`, the aleatoric part
 * `E_s H[p_s]` and the epistemic part (mutual information) `H[p̄] − E_s H[p_s]`.
 *
 * Backend-agnostic (browser webgpu/webgl/wasm, Node): the page and the end-to-end test run the same
 * code, so losses and gradients can be compared across backends.
 */
import * as tf from '@tensorflow/tfjs';
import { layers, setSeed } from '../../../src/index.js';

/** A labelled point of the toy problem (`x`, `y` in [-1, 1], class 0 or 1). */
export interface Point {
  x: number;
  y: number;
  label: 0 | 1;
}

/** Settings of {@link Playground}. */
export interface PlaygroundOptions {
  /** Hidden layer widths. Default [16, 16]. */
  hidden?: number[];
  /** Estimator of the Bayesian layers. Default 'flipout'. */
  estimator?: 'reparam' | 'flipout';
  /** Adam learning rate. Default 0.03. */
  learningRate?: number;
  /** Prior standard deviation. Default 1. */
  priorSigma?: number;
  /** Seed of the initial weights and the noise stream. Default 1. */
  seed?: number;
}

/** The grid read-out of {@link Playground.grid}: row-major `n x n` values, row 0 at y = +1. */
export interface GridMaps {
  n: number;
  /** Predictive probability of class 1. */
  p1: Float32Array;
  /** Aleatoric uncertainty `E_s H[p_s]` (nats, at most log 2). */
  aleatoric: Float32Array;
  /** Epistemic uncertainty `H[p̄] − E_s H[p_s]` (nats). */
  epistemic: Float32Array;
}

/** Statistics of one training step. */
export interface StepResult {
  loss: number;
  nll: number;
  kl: number;
}

/** Row-major grid coordinates of `n x n` points covering [-1, 1]^2 (row 0 at y = +1). */
export function gridPoints(n: number): Float32Array {
  const out = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      out[2 * (r * n + c)] = -1 + (2 * (c + 0.5)) / n;
      out[2 * (r * n + c) + 1] = 1 - (2 * (r + 0.5)) / n;
    }
  }
  return out;
}

/** A Bayesian MLP classifier of 2-D points with live training and uncertainty maps. */
export class Playground {
  readonly model: tf.Sequential;
  private readonly optimizer: tf.Optimizer;

  constructor(options: PlaygroundOptions = {}) {
    const hidden = options.hidden ?? [16, 16];
    const Layer =
      (options.estimator ?? 'flipout') === 'flipout' ? layers.DenseFlipout : layers.DenseReparam;
    setSeed(options.seed ?? 1);
    const priorSigma = options.priorSigma ?? 1;
    this.model = tf.sequential();
    let inChannels = 2;
    [...hidden, 2].forEach((width, i) => {
      const last = i === hidden.length;
      this.model.add(
        new Layer({
          inChannels,
          outChannels: width,
          activation: last ? undefined : 'tanh',
          priorSigma,
          ...(i === 0 ? { inputShape: [2] } : {}),
        }),
      );
      inChannels = width;
    });
    this.optimizer = tf.train.adam(options.learningRate ?? 0.03);
  }

  /** The negative ELBO per example of `points` (one weight draw), as three scalars. */
  private objective(
    x: tf.Tensor2D,
    y: tf.Tensor1D,
  ): { loss: tf.Scalar; nll: tf.Scalar; kl: tf.Scalar } {
    const logits = this.model.apply(x) as tf.Tensor2D;
    const nll = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 2), logits) as tf.Scalar;
    const kl = tf.div(layers.modelKL(this.model), x.shape[0]) as tf.Scalar;
    return { loss: tf.add(nll, kl) as tf.Scalar, nll, kl };
  }

  /**
   * One Adam step on the negative ELBO of `points`.
   *
   * @param points the training set (at least one point).
   * @returns the loss and its parts before the update.
   */
  async step(points: Point[]): Promise<StepResult> {
    if (points.length === 0) return { loss: NaN, nll: NaN, kl: NaN };
    const stats = tf.tidy(() => {
      const [x, y] = tensors(points);
      let parts: tf.Tensor | undefined;
      this.optimizer.minimize(() => {
        const o = this.objective(x, y);
        parts = tf.keep(tf.stack([o.loss, o.nll, o.kl]));
        return o.loss;
      });
      return parts as tf.Tensor;
    });
    const [loss, nll, kl] = Array.from(await stats.data());
    stats.dispose();
    return { loss: loss ?? NaN, nll: nll ?? NaN, kl: kl ?? NaN };
  }

  /**
   * The loss and its gradients w.r.t. every trainable weight at the current weights, for a fixed
   * `seed` of the weight noise (used to compare backends).
   */
  async lossAndGrads(points: Point[], seed: number): Promise<{ loss: number; grads: number[][] }> {
    const weights = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const out = tf.tidy(() => {
      const [x, y] = tensors(points);
      setSeed(seed);
      const { value, grads } = tf.variableGrads(() => this.objective(x, y).loss, weights);
      return [value, ...weights.map((w) => grads[w.name] as tf.Tensor)];
    });
    const vals = await Promise.all(out.map(async (t) => Array.from(await t.data())));
    tf.dispose(out);
    return { loss: vals[0]?.[0] ?? NaN, grads: vals.slice(1) };
  }

  /**
   * The predictive and its uncertainty on an `n x n` grid over [-1, 1]^2 from `samples` weight
   * draws.
   */
  async grid(n: number, samples: number): Promise<GridMaps> {
    const out = tf.tidy(() => {
      const g = tf.tensor2d(gridPoints(n), [n * n, 2]);
      const probs = tf.stack(
        Array.from({ length: samples }, () => tf.softmax(this.model.apply(g) as tf.Tensor2D)),
      ); // [S, G, 2]
      const entropy = (p: tf.Tensor): tf.Tensor =>
        tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-12))), -1));
      const mean = tf.mean(probs, 0);
      const total = entropy(mean);
      const aleatoric = tf.mean(entropy(probs), 0);
      const epistemic = tf.relu(tf.sub(total, aleatoric));
      return tf.stack([tf.squeeze(tf.slice(mean, [0, 1], [-1, 1]), [1]), aleatoric, epistemic]);
    });
    const v = (await out.data()) as Float32Array;
    out.dispose();
    const m = n * n;
    return { n, p1: v.slice(0, m), aleatoric: v.slice(m, 2 * m), epistemic: v.slice(2 * m, 3 * m) };
  }

  /** Free the model and the optimizer state. */
  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}

function tensors(points: Point[]): [tf.Tensor2D, tf.Tensor1D] {
  return [
    tf.tensor2d(
      points.flatMap((p) => [p.x, p.y]),
      [points.length, 2],
    ),
    tf.tensor1d(
      points.map((p) => p.label),
      'int32',
    ),
  ];
}

/** A fixed two-moons-like set of `n` points (deterministic), for the test and the first view. */
export function moons(n: number): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < n; i++) {
    const t = (Math.PI * (i % (n / 2))) / (n / 2 - 1);
    const label: 0 | 1 = i < n / 2 ? 0 : 1;
    const wiggle = 0.08 * Math.sin(12.9898 * i);
    out.push(
      label === 0
        ? { x: 0.6 * Math.cos(t) - 0.25, y: 0.6 * Math.sin(t) - 0.1 + wiggle, label }
        : { x: 0.6 * (1 - Math.cos(t)) - 0.35, y: 0.25 - 0.6 * Math.sin(t) + wiggle, label },
    );
  }
  return out;
}

/**
 * The cross-backend probe of the end-to-end test: from the same seed, the loss and gradients at
 * the start, then the losses of `steps` Adam steps on {@link moons}.
 */
export async function probe(
  steps: number,
): Promise<{ loss: number; grads: number[][]; losses: number[] }> {
  const pg = new Playground({ seed: 7, hidden: [8, 8] });
  try {
    const points = moons(24);
    const first = await pg.lossAndGrads(points, 11);
    setSeed(13);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push((await pg.step(points)).loss);
    return { ...first, losses };
  } finally {
    pg.dispose();
  }
}
