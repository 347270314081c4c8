/**
 * Predictions with uncertainty for the demo's three models, written once against deepprob and
 * tfjs so that the page (webgl/webgpu/wasm) and Node (the build script, the parity check of the
 * browser test) run the same code.
 *
 * - Bayesian LeNet5: `S` forward passes in `'sample'` mode give `p_s`; the mean `pbar`, the
 *   predictive entropy `H[pbar]`, its aleatoric part `E_s H[p_s]` and its epistemic part, the
 *   mutual information `H[pbar] - E_s H[p_s]` (deepprob `toolbox.decompose`).
 * - Plain LeNet5: one deterministic pass, `p = softmax(logits)` and its entropy.
 * - Evidential LeNet: evidence `e = g(o) >= 0`, Dirichlet `alpha = e + 1`, `S = sum alpha`,
 *   `p = alpha / S`, uncertainty `u = K / S` (Sensoy et al. 2018).
 *
 * No DOM here.
 */
import * as tf from '@tensorflow/tfjs';
import { data, layers, toolbox } from '../../src/index.js';
import type { ModelEntry, Thresholds } from './manifest.js';

/** Side of the images the demo works with (before the model's own transform). */
export const IMAGE_SIZE = 28;

/** What one model says about one input. */
export interface Prediction {
  model: string;
  kind: ModelEntry['kind'];
  /** Mean predictive distribution over the classes. */
  probs: number[];
  /** The MC samples `p_s` (Bayesian model only), `S x K`. */
  samples?: number[][];
  /** Predictive entropy `H[pbar]` (nats). */
  entropy: number;
  /** Expected entropy `E_s H[p_s]` (aleatoric, nats; Bayesian model only). */
  aleatoric?: number;
  /** Mutual information (epistemic, nats; Bayesian model only). */
  epistemic?: number;
  /** Evidential `u = K / S` (evidential model only). */
  u?: number;
  /** Evidential total evidence `S - K` (evidential model only). */
  evidence?: number;
  /** Most probable class. */
  top: number;
}

/** The verdict shown to the user. */
export interface Verdict {
  /** False when an uncertainty is above its threshold: "I don't know". */
  knows: boolean;
  /** Which score triggered "I don't know" (or the one that was checked). */
  reason: string;
}

/**
 * Network inputs for 28x28 images with values in [0, 1], through the model's training transform
 * (deepprob `data.resolveTransform` / `data.writeImage`, the code the trainer's batcher uses).
 *
 * @param entry the model (its `transform`).
 * @param images each 784 values in [0, 1], row-major.
 * @returns `[N, size, size, 1]`.
 */
export function makeInput(entry: ModelEntry, images: Float32Array[]): tf.Tensor4D {
  const n = images.length;
  const raw = new Float32Array(n * IMAGE_SIZE * IMAGE_SIZE);
  images.forEach((img, i) => {
    if (img.length !== IMAGE_SIZE * IMAGE_SIZE) {
      throw new Error(
        `images[${i}]: expected ${IMAGE_SIZE * IMAGE_SIZE} values, got ${img.length}`,
      );
    }
    for (let j = 0; j < img.length; j++) raw[i * img.length + j] = (img[j] ?? 0) * 255;
  });
  const set = {
    name: 'demo',
    images: raw,
    labels: new Uint8Array(n),
    count: n,
    height: IMAGE_SIZE,
    width: IMAGE_SIZE,
    channels: 1,
    numClasses: 10,
  };
  const t = data.resolveTransform(set, entry.transform);
  const [h, w] = t.size;
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) data.writeImage(set, i, t, out, i * h * w);
  return tf.tensor4d(out, [n, h, w, 1]);
}

/** The model's output read as class probabilities `[N, K]` (softmax of logits if needed). */
function outputProbs(entry: ModelEntry, out: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => (entry.outputs === 'probs' ? out : tf.softmax(out, -1))) as tf.Tensor2D;
}

function forward(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  const y = model.predict(x);
  if (Array.isArray(y)) throw new Error(`model ${model.name}: expected one output`);
  return y;
}

/**
 * Frozen (`'mean'` mode) class probabilities: the deterministic prediction of every model kind
 * (the posterior mean weights for the Bayesian model, `alpha / S` for the evidential one). Used by
 * the browser/Node parity check.
 *
 * @returns `N x K` probabilities.
 */
export async function predictFrozen(
  model: tf.LayersModel,
  entry: ModelEntry,
  images: Float32Array[],
): Promise<number[][]> {
  layers.setMode(model, 'mean');
  const p = tf.tidy(() => {
    const x = makeInput(entry, images);
    const out = forward(model, x);
    return entry.kind === 'evidential' ? dirichlet(entry, out).probs : outputProbs(entry, out);
  });
  const rows = (await p.array()) as number[][];
  p.dispose();
  return rows;
}

/**
 * Dirichlet outputs of the evidential model (deepprob `toolbox.evidential`): evidence
 * `e = g(o)`, `alpha = e + 1`, `S = sum alpha`, `p = alpha / S`, `u = K / S`.
 */
function dirichlet(
  entry: ModelEntry,
  out: tf.Tensor,
): { probs: tf.Tensor2D; u: tf.Tensor1D; evidence: tf.Tensor1D } {
  return tf.tidy(() => {
    const e = toolbox.evidential.evidenceFunction(entry.evidence ?? 'softplus')(out);
    const d = toolbox.evidential.dirichletOutputs(e);
    return { probs: d.probs, u: d.uncertainty, evidence: tf.sum(e, -1) as tf.Tensor1D };
  });
}

function entropyOf(p: number[]): number {
  return -p.reduce((acc, v) => acc + (v > 0 ? v * Math.log(v) : 0), 0);
}

function argmax(p: number[]): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if ((p[i] ?? 0) > (p[best] ?? 0)) best = i;
  return best;
}

/**
 * Predict a batch of images with uncertainty (one weight sample per forward pass is shared by the
 * batch; each image still sees `mcSamples` independent samples).
 *
 * @param model the loaded model.
 * @param entry its manifest entry.
 * @param images each 784 values in [0, 1].
 * @param mcSamples number of forward passes `S` for the Bayesian model.
 */
export async function predictBatch(
  model: tf.LayersModel,
  entry: ModelEntry,
  images: Float32Array[],
  mcSamples: number,
): Promise<Prediction[]> {
  const base = { model: entry.id, kind: entry.kind };
  if (entry.kind === 'bayes') {
    layers.setMode(model, 'sample');
    try {
      // One forward pass per sample: each call draws fresh weights (deepprob's stochastic predictor).
      const predictor = toolbox.stochasticPredictor((x) => forward(model, x), entry.outputs);
      const probs = tf.tidy(() => predictor.predictSamples(makeInput(entry, images), mcSamples));
      const d = toolbox.decompose(probs);
      const [samples, pbar, h, ale, epi] = await Promise.all([
        probs.array() as Promise<number[][][]>,
        d.meanProbs.array(),
        d.predictiveEntropy.data(),
        d.expectedEntropy.data(),
        d.mutualInformation.data(),
      ]);
      tf.dispose([probs, ...Object.values(d)]);
      return pbar.map((p, n) => ({
        ...base,
        probs: p,
        samples: samples.map((s) => s[n] ?? []),
        entropy: h[n] ?? NaN,
        aleatoric: ale[n] ?? NaN,
        epistemic: epi[n] ?? NaN,
        top: argmax(p),
      }));
    } finally {
      layers.setMode(model, 'mean');
    }
  }
  layers.setMode(model, 'mean');
  if (entry.kind === 'evidential') {
    const r = tf.tidy(() => dirichlet(entry, forward(model, makeInput(entry, images))));
    const [pr, u, ev] = await Promise.all([r.probs.array(), r.u.data(), r.evidence.data()]);
    tf.dispose([r.probs, r.u, r.evidence]);
    return pr.map((p, n) => ({
      ...base,
      probs: p,
      entropy: entropyOf(p),
      u: u[n] ?? NaN,
      evidence: ev[n] ?? NaN,
      top: argmax(p),
    }));
  }
  const rows = await predictFrozen(model, entry, images);
  return rows.map((p) => ({ ...base, probs: p, entropy: entropyOf(p), top: argmax(p) }));
}

/** {@link predictBatch} for one image. */
export async function predict(
  model: tf.LayersModel,
  entry: ModelEntry,
  image: Float32Array,
  mcSamples: number,
): Promise<Prediction> {
  const [p] = await predictBatch(model, entry, [image], mcSamples);
  if (p === undefined) throw new Error('predict: no prediction');
  return p;
}

/**
 * "I don't know" when the model's uncertainty score is above its calibrated threshold: mutual
 * information (epistemic) or predictive entropy for the Bayesian model, `u` for the evidential
 * model, entropy for the plain one.
 */
export function verdict(p: Prediction, t: Thresholds): Verdict {
  if (p.kind === 'bayes') {
    if (p.epistemic !== undefined && t.epistemic !== undefined && p.epistemic > t.epistemic) {
      return {
        knows: false,
        reason: `epistemic uncertainty ${p.epistemic.toFixed(3)} nats > ${t.epistemic.toFixed(3)}`,
      };
    }
  }
  if (p.kind === 'evidential' && p.u !== undefined && t.u !== undefined) {
    return p.u > t.u
      ? { knows: false, reason: `evidential u = K/S = ${p.u.toFixed(3)} > ${t.u.toFixed(3)}` }
      : { knows: true, reason: `u = ${p.u.toFixed(3)} ≤ ${t.u.toFixed(3)}` };
  }
  if (p.entropy > t.entropy) {
    return {
      knows: false,
      reason: `predictive entropy ${p.entropy.toFixed(3)} nats > ${t.entropy.toFixed(3)}`,
    };
  }
  return { knows: true, reason: `entropy ${p.entropy.toFixed(3)} ≤ ${t.entropy.toFixed(3)}` };
}
