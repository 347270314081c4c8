/**
 * SWAG and MultiSWAG (Maddox et al. 2019; Wilson & Izmailov 2020): a Gaussian over the weights
 * of any tfjs model fitted to the SGD iterates of continued training at a constant learning rate.
 * From `T` snapshots `theta_1..theta_T` it keeps the SWA mean, the diagonal second moment and the
 * last `rank` deviations `D = [theta_t - thetabar_t]`, and samples
 *
 * $$\tilde\theta = \bar\theta + \sqrt{s}\Big(\Sigma_{diag}^{1/2} z_1 + \frac{D z_2}{\sqrt{K-1}}\Big),
 *   \qquad \Sigma_{diag} = \overline{\theta^2} - \bar\theta^2,\ z_1, z_2 \sim \mathcal N(0, I)$$
 *
 * with `s = 1/2` (the paper's `Sigma = (Sigma_diag + D D^T/(K-1)) / 2`). MultiSWAG is an ensemble
 * of independently trained SWAG posteriors.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { optionsObject } from '../../utils/options.js';
import { checkFinite } from '../../utils/tensor.js';
import {
  classNll,
  classProbs,
  looksLikeProbs,
  outputKindOf,
  type OutputKind,
} from '../class_outputs.js';
import { toHostLabels } from '../host.js';
import {
  checkInputsOf,
  gatherInputs,
  inputList,
  type ModelInput,
} from '../../layers/model_input.js';
import { deriveSeeds, makeRng, nextSeed } from '../../utils/seed.js';
import type { Predictor } from '../predictors.js';
import {
  batchNormLayers,
  bnUpdate,
  checkBnUpdateArgs,
  restoreBnStats,
  saveBnStats,
} from './bn_update.js';

/** Options of {@link Swag}. */
export interface SwagOptions {
  /** Maximum number of deviation columns `K` kept for the low-rank part (default 20; 0: diagonal only). */
  rank?: number;
}

/** Options of {@link Swag.sample} and {@link swagPredictor}. */
export interface SwagSampleOptions {
  /** Covariance scale `s` (default 0.5, as Maddox et al.). */
  scale?: number;
  /** Use the low-rank part (default true; false: SWAG-diagonal). */
  lowRank?: boolean;
  /** Seed of the draw(s). */
  seed?: number;
}

/** Training inputs for SWAG's `bn_update` (see `bn_update.ts`). */
export interface SwagBnUpdate {
  /**
   * Training inputs `[N, ...]` shaped like the model's input (an array of one tensor per input for a
   * multi-input model; kept by reference: keep them alive).
   */
  x: ModelInput;
  /** Inputs per training-mode pass (default 128). */
  batchSize?: number;
}

/**
 * Check the sample options (`scale` finite `>= 0`, `lowRank` a boolean, `seed` finite) before any
 * draw; @returns the scale `s` (default 0.5).
 * @throws ArgumentError naming the option.
 */
function checkSampleOptions(options: SwagSampleOptions): number {
  const scale = options.scale ?? 0.5;
  if (typeof scale !== 'number' || !(scale >= 0) || !Number.isFinite(scale)) {
    throw new ArgumentError('scale', `expected a finite number >= 0, got ${String(scale)}`);
  }
  if (options.lowRank !== undefined && typeof options.lowRank !== 'boolean') {
    throw new ArgumentError('lowRank', `expected true or false, got ${String(options.lowRank)}`);
  }
  if (
    options.seed !== undefined &&
    (typeof options.seed !== 'number' || !Number.isFinite(options.seed))
  ) {
    throw new ArgumentError('seed', `expected a finite number, got ${String(options.seed)}`);
  }
  return scale;
}

/** Options of {@link swagPredictor}. */
export interface SwagPredictorOptions extends SwagSampleOptions {
  /**
   * Maddox et al.'s `bn_update`: for every sampled weight vector, recompute the BatchNormalization
   * moving statistics on one training-mode pass over `x` before predicting (the model's own
   * statistics are restored after). Default: the inputs a {@link trainSwag} run with
   * `bnUpdate: true` kept, else none (the statistics of the training run are used as they are);
   * `false` turns it off. A model without BatchNormalization layers is unaffected.
   */
  bnUpdate?: SwagBnUpdate | false;
  /**
   * What the model outputs (see `OutputKind`): `'auto'` (default: a classifier's logits, softmax
   * or one binary output, as `class_outputs.ts` reads it), `'logits'`, `'probs'`, or
   * `'regression'`: the sampled models' outputs as they are, `[S, N, D]`.
   */
  output?: OutputKind;
}

/**
 * Running SWAG moments over the trainable weights of a model. Owns its moment tensors: call
 * {@link Swag.dispose} when done (the model stays the caller's).
 */
export class Swag {
  readonly model: tf.LayersModel;
  readonly rank: number;
  private n = 0;
  private mean: tf.Tensor[] = [];
  private sqMean: tf.Tensor[] = [];
  private deviations: tf.Tensor[][] = [];
  private bnData: { x: ModelInput; batchSize: number } | undefined;

  constructor(model: tf.LayersModel, options: SwagOptions = {}) {
    optionsObject(options, ['rank'], 'Swag');
    if (!(model instanceof tf.LayersModel))
      throw new ArgumentError('model', 'expected a tf.LayersModel');
    const rank = options.rank ?? 20;
    if (!Number.isInteger(rank) || rank < 0) {
      throw new ArgumentError('rank', `expected an integer >= 0, got ${rank}`);
    }
    if (model.trainableWeights.length === 0) {
      throw new ArgumentError('model', 'has no trainable weights to collect');
    }
    this.model = model;
    this.rank = rank;
  }

  /** Snapshots collected so far `T`. */
  get numSnapshots(): number {
    return this.n;
  }

  /** Deviation columns kept `K = min(T, rank)`. */
  get numDeviations(): number {
    return this.deviations.length;
  }

  private current(): tf.Tensor[] {
    return this.model.trainableWeights.map((w) => w.read());
  }

  /**
   * Add the model's current weights as a snapshot:
   * `thetabar <- (T thetabar + theta)/(T+1)`, `mean of theta^2` likewise, and the deviation
   * `theta - thetabar` (with the updated mean, as the reference implementation) appended to `D`
   * (the oldest dropped beyond `rank`).
   */
  collect(): void {
    const w = this.current();
    const n = this.n;
    const next = tf.tidy(() =>
      w.map((t, i) => {
        if (n === 0) return { m: t.clone(), q: tf.square(t) };
        const m = tf.add(tf.mul(this.mean[i] as tf.Tensor, n / (n + 1)), tf.mul(t, 1 / (n + 1)));
        const q = tf.add(
          tf.mul(this.sqMean[i] as tf.Tensor, n / (n + 1)),
          tf.mul(tf.square(t), 1 / (n + 1)),
        );
        return { m, q };
      }),
    );
    tf.dispose([this.mean, this.sqMean]);
    this.mean = next.map((v) => v.m);
    this.sqMean = next.map((v) => v.q);
    this.n = n + 1;
    if (this.rank > 0) {
      this.deviations.push(tf.tidy(() => w.map((t, i) => tf.sub(t, this.mean[i] as tf.Tensor))));
      if (this.deviations.length > this.rank) tf.dispose(this.deviations.shift());
    }
  }

  private checkReady(): void {
    if (this.n === 0)
      throw new ArgumentError('swag', 'no snapshot collected yet (call collect() during training)');
  }

  /** SWA mean weights (new tensors, in `model.trainableWeights` order; the caller disposes). */
  swaMean(): tf.Tensor[] {
    this.checkReady();
    return this.mean.map((t) => t.clone());
  }

  /** Diagonal variance `max(mean of theta^2 - thetabar^2, 0)` per weight (new tensors). */
  diagVariance(): tf.Tensor[] {
    this.checkReady();
    return tf.tidy(() =>
      this.mean.map((m, i) => tf.relu(tf.sub(this.sqMean[i] as tf.Tensor, tf.square(m)))),
    );
  }

  /** The deviation matrix as `K` columns, each a list of tensors like the weights (new tensors). */
  deviationColumns(): tf.Tensor[][] {
    return this.deviations.map((col) => col.map((t) => t.clone()));
  }

  /**
   * Draw weights from the SWAG posterior (new tensors in `model.trainableWeights` order; the
   * caller disposes): `thetabar + sqrt(s) (Sigma_diag^{1/2} z_1 + D z_2 / sqrt(K - 1))`.
   */
  sample(options: SwagSampleOptions = {}): tf.Tensor[] {
    this.checkReady();
    const scale = checkSampleOptions(options);
    const k = this.deviations.length;
    const useLowRank = (options.lowRank ?? true) && k >= 2;
    const [s1, s2] = deriveSeeds(nextSeed(options.seed), 2) as [number, number];
    const rng = makeRng(s2);
    const z2 = Array.from({ length: k }, () => {
      const u = 1 - rng();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    });
    return tf.tidy(() => {
      const variance = this.diagVariance();
      return this.mean.map((m, i) => {
        const z1 = tf.randomNormal(m.shape, 0, 1, 'float32', (s1 + i * 7919) >>> 0);
        let noise = tf.mul(tf.sqrt(variance[i] as tf.Tensor), z1);
        if (useLowRank) {
          let low: tf.Tensor = tf.zerosLike(m);
          for (let c = 0; c < k; c++) {
            low = tf.add(
              low,
              tf.mul((this.deviations[c] as tf.Tensor[])[i] as tf.Tensor, z2[c] as number),
            );
          }
          noise = tf.add(noise, tf.div(low, Math.sqrt(k - 1)));
        }
        return tf.add(m, tf.mul(noise, Math.sqrt(scale)));
      });
    });
  }

  /** Write `values` into the model's trainable weights. */
  assign(values: tf.Tensor[]): void {
    const ws = this.model.trainableWeights;
    if (values.length !== ws.length) {
      throw new ArgumentError('values', `expected ${ws.length} tensors, got ${values.length}`);
    }
    ws.forEach((w, i) => w.write(values[i] as tf.Tensor));
  }

  /**
   * Keep a copy of the training inputs `x` for `bn_update` at prediction ({@link swagPredictor}
   * uses it by default; freed by {@link Swag.dispose}).
   *
   * @throws ArgumentError naming `x` / `batchSize` before any work.
   */
  keepBnUpdateData(x: ModelInput, batchSize = 128): void {
    checkBnUpdateArgs(this.model, x, batchSize);
    if (this.bnData !== undefined) tf.dispose(inputList(this.bnData.x));
    this.bnData = {
      x: Array.isArray(x) ? x.map((t) => t.clone()) : x.clone(),
      batchSize,
    };
  }

  /** The training inputs kept by {@link Swag.keepBnUpdateData}, if any (owned by this Swag). */
  get bnUpdateData(): { x: ModelInput; batchSize: number } | undefined {
    return this.bnData;
  }

  /** Free the moment tensors (and the inputs kept for `bn_update`). */
  dispose(): void {
    if (this.bnData !== undefined) tf.dispose(inputList(this.bnData.x));
    this.bnData = undefined;
    tf.dispose([this.mean, this.sqMean, ...this.deviations]);
    this.mean = [];
    this.sqMean = [];
    this.deviations = [];
    this.n = 0;
  }
}

/**
 * A {@link Predictor} drawing one SWAG weight sample per Monte Carlo sample (MultiSWAG with
 * several posteriors: the samples are split evenly over them, remainder to the first ones). The
 * models' weights are restored after every call.
 *
 * $$p_s(y\mid x) = \operatorname{softmax}(f(x; \tilde\theta_s)),\quad \tilde\theta_s \sim \mathcal N_{SWAG}$$
 *
 * (`f` the model's logits; a model that ends in a softmax is used as it is, and one with a single
 * output is a binary classifier, `[1 - p, p]`: see `class_outputs.ts`). With `bnUpdate`, the
 * BatchNormalization statistics of every sample are recomputed on the training inputs first
 * (Maddox et al.'s `bn_update`), and the model's own are restored after.
 *
 * @param swag one {@link Swag} or several (MultiSWAG).
 * @param options `scale`, `lowRank`, `seed` (samples are then reproducible per call), `output`,
 *   `bnUpdate`.
 */
export function swagPredictor(swag: Swag | Swag[], options: SwagPredictorOptions = {}): Predictor {
  optionsObject(options, ['scale', 'lowRank', 'seed', 'output', 'bnUpdate'], 'swagPredictor');
  const members = Array.isArray(swag) ? swag : [swag];
  if (members.length === 0 || !members.every((m) => m instanceof Swag)) {
    throw new ArgumentError('swag', 'expected a Swag or a non-empty array of Swag');
  }
  const { output = 'auto', bnUpdate: bnOption, ...sampleOptions } = options;
  checkSampleOptions(sampleOptions);
  if (!['auto', 'logits', 'probs', 'regression'].includes(output)) {
    throw new ArgumentError(
      'output',
      `expected 'auto', 'logits', 'probs' or 'regression', got ${String(output)}`,
    );
  }
  if (bnOption !== undefined && bnOption !== false) {
    if (bnOption === null || typeof bnOption !== 'object') {
      throw new ArgumentError(
        'bnUpdate',
        `expected { x, batchSize } or false, got ${String(bnOption)}`,
      );
    }
    members.forEach((m) => checkBnUpdateArgs(m.model, bnOption.x, bnOption.batchSize ?? 128));
  }
  const bnFor = (m: Swag): { x: ModelInput; batchSize: number } | undefined =>
    bnOption === false
      ? undefined
      : bnOption !== undefined
        ? { x: bnOption.x, batchSize: bnOption.batchSize ?? 128 }
        : m.bnUpdateData;
  let call = 0;
  return {
    predictSamples(x: ModelInput, numSamples: number): tf.Tensor3D {
      if (!Number.isInteger(numSamples) || numSamples < 1) {
        throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
      }
      members.forEach((m, i) => {
        if (m.numSnapshots === 0) {
          throw new ArgumentError(
            members.length > 1 ? `swag[${i}]` : 'swag',
            'no snapshot collected yet (call collect() during training)',
          );
        }
      });
      members.forEach((m) => checkInputsOf(m.model, x));
      const base = options.seed !== undefined ? options.seed + 1000003 * call++ : undefined;
      const probs: tf.Tensor[] = [];
      try {
        for (let s = 0; s < numSamples; s++) {
          const member = members[s % members.length] as Swag;
          const bn = bnFor(member);
          const draw = member.sample({
            ...sampleOptions,
            ...(base !== undefined ? { seed: base + s } : {}),
          });
          const saved = member.model.trainableWeights.map((w) => w.read().clone());
          const savedBn = bn !== undefined ? saveBnStats(member.model) : [];
          try {
            member.assign(draw);
            if (bn !== undefined) bnUpdate(member.model, bn.x, { batchSize: bn.batchSize });
            probs.push(
              tf.tidy(() => {
                const out = member.model.apply(x, { training: false }) as tf.Tensor;
                if (output === 'regression') return out.clone();
                const kind =
                  output !== 'auto'
                    ? output
                    : (outputKindOf(member.model) ?? (looksLikeProbs(out) ? 'probs' : 'logits'));
                return classProbs(out, kind);
              }),
            );
          } finally {
            member.assign(saved);
            if (bn !== undefined) restoreBnStats(member.model, savedBn);
            tf.dispose([saved, savedBn, draw]);
          }
        }
        return tf.stack(probs) as tf.Tensor3D;
      } finally {
        tf.dispose(probs);
      }
    },
  };
}

/** Options of {@link trainSwag}. */
export interface TrainSwagOptions extends SwagOptions {
  /** Epochs of continued SGD (default 2). */
  epochs?: number;
  /** Constant SGD learning rate (default 0.01). */
  lr?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Mini-batch size (default 64). */
  batchSize?: number;
  /** Snapshots per epoch, evenly spaced (default 10; Maddox et al. collect 1 per epoch over many epochs). */
  collectPerEpoch?: number;
  /** Seed of the shuffling. */
  seed?: number;
  /** Called after every epoch with its mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
  /**
   * `'classification'` (default: the NLL of the model's outputs read as a classifier) or
   * `'regression'` (laplace-torch's name): the mean squared error `(1/(N D)) sum (y - f(x))^2`
   * (the Gaussian NLL up to its scale), with finite targets `y` `[N, D]` (`[N]` for one output).
   */
  likelihood?: 'classification' | 'regression';
  /**
   * Keep a copy of the training inputs in the returned {@link Swag} for Maddox et al.'s
   * `bn_update` ({@link swagPredictor} then recomputes the BatchNormalization statistics of every
   * sample on them): `true`, or `{ batchSize }` of the update passes (default 128). Default false.
   * Refused for a model without BatchNormalization layers (there is nothing to update).
   */
  bnUpdate?: boolean | { batchSize?: number };
}

/**
 * The batch size of `trainSwag`'s `bnUpdate` option (undefined: off), checked with the inputs
 * before any work.
 * @throws ArgumentError naming `bnUpdate` (a bad value, or a model without BatchNormalization).
 */
function bnUpdateBatchSize(
  model: tf.LayersModel,
  x: ModelInput,
  option: TrainSwagOptions['bnUpdate'],
): number | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (option === null || typeof option !== 'object')) {
    throw new ArgumentError(
      'bnUpdate',
      `expected a boolean or { batchSize }, got ${String(option)}`,
    );
  }
  if (batchNormLayers(model).length === 0) {
    throw new ArgumentError(
      'bnUpdate',
      'the model has no BatchNormalization layer: there are no statistics to update',
    );
  }
  const batchSize = option === true ? 128 : (option.batchSize ?? 128);
  checkBnUpdateArgs(model, x, batchSize);
  return batchSize;
}

/**
 * Regression targets `[N, D]` (`[N]` accepted for `D = 1`), finite, as a new float32 tensor.
 * @throws ArgumentError naming `y` otherwise.
 */
function regressionTargets(y: tf.Tensor | ArrayLike<number>, n: number, d: number): tf.Tensor2D {
  const shape = y instanceof tf.Tensor ? y.shape : [y.length];
  const ok =
    (shape.length === 2 && shape[0] === n && shape[1] === d) ||
    (d === 1 && shape.length === 1 && shape[0] === n);
  if (!ok) {
    throw new ArgumentError(
      'y',
      `expected regression targets [${n}, ${d}] (the model's outputs)${d === 1 ? ` or [${n}]` : ''}, got [${shape.join(', ')}]`,
    );
  }
  const v = Float32Array.from(y instanceof tf.Tensor ? y.dataSync() : y);
  const bad = v.findIndex((t) => !Number.isFinite(t));
  if (bad >= 0) {
    throw new ArgumentError('y', `expected finite targets, got ${v[bad]} at flat index ${bad}`);
  }
  return tf.tensor2d(v, [n, d]);
}

/**
 * Continue training a (pre-trained) classifier (or, with `likelihood: 'regression'`, a
 * regressor) with constant-learning-rate SGD on its negative log-likelihood and collect SWAG snapshots along the way (the model ends at its last iterate;
 * `swag.swaMean()` gives the SWA weights). The loss follows the model's outputs
 * (`class_outputs.ts` `classNll`): softmax cross-entropy of logits, the NLL of a softmax output as
 * it is, the Bernoulli NLL of a one-output (binary) head. Inputs and labels are checked before any
 * step; if training throws (or its loss stops being finite) the model gets its weights back.
 *
 * @param model pre-trained `tf.LayersModel` classifier (trained in place).
 * @param x training inputs `[N, ...]` (finite; for a model with several inputs an array of one
 *   tensor per input, `model.inputs` order); @param y `N` integer labels in `[0, max(K, 2))`.
 * @example
 * ```ts
 * const swag = await toolbox.trainSwag(net, xTrain, yTrain, { epochs: 2, lr: 0.01 });
 * const probs = toolbox.swagPredictor(swag).predictSamples(xTest, 30); // [30, N, K]
 * ```
 */
export async function trainSwag(
  model: tf.LayersModel,
  x: ModelInput,
  y: tf.Tensor | ArrayLike<number>,
  options: TrainSwagOptions = {},
): Promise<Swag> {
  optionsObject(
    options,
    [
      'rank',
      'epochs',
      'lr',
      'momentum',
      'batchSize',
      'collectPerEpoch',
      'seed',
      'onEpoch',
      'likelihood',
      'bnUpdate',
    ],
    'trainSwag',
  );
  const epochs = options.epochs ?? 2;
  const lr = options.lr ?? 0.01;
  const momentum = options.momentum ?? 0.9;
  const batchSize = options.batchSize ?? 64;
  const perEpoch = options.collectPerEpoch ?? 10;
  for (const [v, name] of [
    [epochs, 'epochs'],
    [batchSize, 'batchSize'],
    [perEpoch, 'collectPerEpoch'],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ArgumentError(name, `expected a positive integer, got ${v}`);
  }
  if (!(lr > 0) || !Number.isFinite(lr))
    throw new ArgumentError('lr', `expected a finite number > 0, got ${lr}`);
  if (!(momentum >= 0 && momentum < 1))
    throw new ArgumentError('momentum', `expected a number in [0, 1), got ${momentum}`);
  if (!(model instanceof tf.LayersModel))
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  if (!Array.isArray(x) && (!(x instanceof tf.Tensor) || x.rank < 2))
    throw new ArgumentError('x', 'expected a tensor [N, ...]');
  const n = checkInputsOf(model, x);
  if (n === 0) throw new ArgumentError('x', 'expected at least one training input, got none');
  inputList(x).forEach((t, i) => checkFinite(t, Array.isArray(x) ? `x[${i}]` : 'x', 'inputs'));
  const likelihood = options.likelihood ?? 'classification';
  if (likelihood !== 'classification' && likelihood !== 'regression') {
    throw new ArgumentError(
      'likelihood',
      `expected 'classification' or 'regression', got '${String(likelihood)}'`,
    );
  }
  if (model.outputs.length !== 1 || model.outputs[0]?.shape.length !== 2) {
    throw new ArgumentError(
      'model',
      `expected one output [N, ${likelihood === 'classification' ? 'K] (a classifier)' : 'D] (a regressor)'}`,
    );
  }
  const numOutputs = model.outputs[0]?.shape[1] as number;
  const bnBatch = bnUpdateBatchSize(model, x, options.bnUpdate);
  // owns no tensor until collect(): made first, so that a bad rank throws before the targets exist
  const swag = new Swag(model, options.rank !== undefined ? { rank: options.rank } : {});
  const targets =
    likelihood === 'classification'
      ? tf.tensor1d(toHostLabels(y, n, Math.max(numOutputs, 2), 'y', 'x'), 'int32')
      : regressionTargets(y, n, numOutputs);
  // Heavy-ball SGD written out (tfjs's MomentumOptimizer.dispose leaks its learning-rate scalar).
  const vars = model.trainableWeights.map((w) => w.read() as unknown as tf.Variable);
  const velocity: tf.Tensor[] = vars.map((v) => tf.keep(tf.zerosLike(v)));
  const yAll = targets;
  const initial = vars.map((v) => tf.keep(tf.clone(v)));
  const rng = makeRng(options.seed);
  const steps = Math.ceil(n / batchSize);
  let kind: 'logits' | 'probs' | undefined;
  const every = Math.max(1, Math.floor(steps / perEpoch));
  try {
    for (let e = 0; e < epochs; e++) {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
      let total = 0;
      for (let s = 0; s < steps; s++) {
        const idx = Int32Array.from(order.slice(s * batchSize, (s + 1) * batchSize));
        const loss = tf.tidy(() => {
          const ix = tf.tensor1d(idx, 'int32');
          const xb = gatherInputs(x, ix);
          const yb = tf.gather(yAll, ix);
          const { value, grads } = tf.variableGrads(() => {
            const out = model.apply(xb, { training: true }) as tf.Tensor;
            if (likelihood === 'regression') {
              return tf.mean(tf.squaredDifference(out, yb)) as tf.Scalar;
            }
            kind ??= outputKindOf(model) ?? (looksLikeProbs(out) ? 'probs' : 'logits');
            return classNll(out, yb, kind);
          }, vars);
          vars.forEach((v, i) => {
            const g = grads[v.name] as tf.Tensor;
            const vel = tf.add(tf.mul(velocity[i] as tf.Tensor, momentum), g);
            (velocity[i] as tf.Tensor).dispose();
            velocity[i] = tf.keep(vel);
            v.assign(tf.sub(v, tf.mul(vel, lr)));
          });
          return value;
        });
        const value = (await loss.data())[0] as number;
        loss.dispose();
        if (!Number.isFinite(value)) {
          throw new ArgumentError(
            'lr',
            `SGD diverged (loss ${value} at epoch ${e + 1}, step ${s + 1}); the model's weights were restored: lower lr (got ${lr})`,
          );
        }
        total += value;
        if ((s + 1) % every === 0 && (s + 1) / every <= perEpoch) swag.collect();
      }
      options.onEpoch?.(e, total / steps);
    }
    if (bnBatch !== undefined) swag.keepBnUpdateData(x, bnBatch);
    return swag;
  } catch (err) {
    swag.dispose();
    vars.forEach((v, i) => v.assign(initial[i] as tf.Tensor));
    throw err;
  } finally {
    tf.dispose([...velocity, ...initial, yAll]);
  }
}
