/**
 * SWAG's training loop (Maddox et al. 2019): continued constant-learning-rate SGD on the model's
 * negative log-likelihood (or mean squared error), collecting the SGD iterates `theta_t` into a
 * {@link Swag} (SWA mean `\bar\theta = (1/T) sum_t theta_t`, second moment, last `K` deviations),
 * with the checks of its targets and `bnUpdate` option.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { optionsObject } from '../../utils/options.js';
import { checkFinite } from '../../utils/tensor.js';
import { classNll, looksLikeProbs, outputKindOf } from '../class_outputs.js';
import { toHostLabels } from '../host.js';
import {
  checkInputsOf,
  gatherInputs,
  inputList,
  type ModelInput,
} from '../../layers/model_input.js';
import { makeRng } from '../../utils/seed.js';
import { batchNormLayers, checkBnUpdateArgs } from './bn_update.js';
import { writeExact } from './exact_write.js';
import { Swag } from './swag.js';
import type { SwagOptions } from './swag_options.js';

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
 * step; if training throws (or its loss stops being finite) the model gets all its weights back bit
 * for bit, the BatchNormalization moving statistics included.
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
  // every weight, the BatchNormalization moving statistics too (a training-mode pass updates them):
  // all put back, bit for bit, if training fails
  const initial = model.weights.map((w) => tf.keep(w.read().clone()));
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
    writeExact(model.weights, initial);
    throw err;
  } finally {
    tf.dispose([...velocity, ...initial, yAll]);
  }
}
