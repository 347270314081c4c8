/**
 * The pieces of a `deepprob train` run made from its configuration: the model of the zoo (its
 * priors and estimator for a Bayesian one), the Adam optimizer (one at `lr * rhoLrScale` for the
 * posterior scales when asked), the objective (cross-entropy, ELBO or evidential) and the seed of
 * each epoch's weight sampling.
 */
import * as tf from '@tensorflow/tfjs';
import { GroupedOptimizer } from '../train/grouped_optimizer.js';
import { DEFAULT_ESTIMATOR } from '../layers/estimator_registry.js';
import { parseKLWeight } from '../layers/kl_schedules.js';
import { posteriorRhoVariables } from '../layers/model_utils.js';
import { createModel, type ModelEntry, type ModelKind } from '../models/registry.js';
import { type OptimizerSettings } from '../train/checkpoint.js';
import { crossEntropyLoss, elboLoss, evidentialLoss, type TrainLoss } from '../train/loss.js';
import { ArgumentError } from '../utils/errors.js';
import { setSeed } from '../utils/seed.js';
import { type TrainConfig } from './run_config.js';

/** The training objective of a model kind: the ELBO (Bayesian), the evidential loss or cross-entropy. */
export function lossOf(kind: ModelKind, config: TrainConfig, datasetSize: number): TrainLoss {
  if (kind === 'bayesian') {
    return elboLoss({
      datasetSize,
      klWeight: parseKLWeight(config.klWeight),
      ...(config.trainSamples !== undefined ? { samples: config.trainSamples } : {}),
    });
  }
  if (kind === 'evidential') {
    return evidentialLoss({
      ...(config.evidentialLoss !== undefined ? { loss: config.evidentialLoss } : {}),
      ...(config.evidence !== undefined ? { evidence: config.evidence } : {}),
    });
  }
  return crossEntropyLoss();
}

/** Seed used for epoch `epoch` (weight sampling), derived from the run seed. */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 2654435761) + epoch * 40503 + 1) >>> 0;
}

/**
 * A fresh model of the zoo for the run (seeded by `cfg.seed`), kept in `held.model`; a network
 * whose feature maps shrink to nothing at `inputShape` is refused naming `input-size`.
 */
export function createRunModel(
  cfg: TrainConfig,
  entry: ModelEntry,
  numClasses: number,
  inputShape: [number, number, number],
  held: { model?: tf.LayersModel },
): tf.LayersModel {
  setSeed(cfg.seed);
  const priors: Record<string, unknown> = {};
  if (cfg.priorMu !== undefined) priors.priorMu = cfg.priorMu;
  if (cfg.priorSigma !== undefined) priors.priorSigma = cfg.priorSigma;
  if (cfg.rhoInit !== undefined) priors.posteriorRhoInitial = [cfg.rhoInit, 0.1];
  try {
    held.model = createModel(cfg.model, {
      numClasses,
      inputShape,
      ...(cfg.activation !== undefined ? { activation: cfg.activation } : {}),
      ...(entry.kind === 'bayesian'
        ? { bayesian: cfg.estimator ?? DEFAULT_ESTIMATOR, priors }
        : {}),
    });
  } catch (e) {
    if (e instanceof ArgumentError && e.argument !== 'inputShape') throw e;
    // tfjs refuses a network whose feature maps shrink to nothing
    throw new ArgumentError(
      'input-size',
      `${cfg.model} cannot take ${inputShape.join('x')} inputs (a convolution or ` +
        `pooling leaves no pixels); use a larger --input-size (the model's default is ` +
        `${entry.defaultInputShape[0]})`,
    );
  }
  return held.model as tf.LayersModel;
}

/**
 * The run's Adam (`beta1 = 0.9`, `beta2 = 0.999`, `epsilon = 1e-7`) at `cfg.lr`; for a Bayesian
 * model with `rhoLrScale != 1`, one Adam for the posterior scales at `lr * rhoLrScale` and one for
 * the rest at `lr`.
 */
export function createOptimizer(
  cfg: TrainConfig,
  kind: ModelKind,
  model: tf.LayersModel,
): { settings: OptimizerSettings; optimizer: tf.Optimizer } {
  const settings: OptimizerSettings = {
    name: 'adam',
    learningRate: cfg.lr,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  };
  const adam = (lr: number): tf.Optimizer =>
    tf.train.adam(lr, settings.beta1, settings.beta2, settings.epsilon);
  const rhoScale = cfg.rhoLrScale ?? 1;
  let optimizer: tf.Optimizer;
  if (rhoScale !== 1 && kind === 'bayesian') {
    // one Adam for the posterior scales at lr * rhoLrScale, one for the rest at lr
    const rhoNames = new Set(
      posteriorRhoVariables(model).map((v) => (v.read() as tf.Variable).name),
    );
    optimizer = new GroupedOptimizer(adam, settings.learningRate, [
      { matches: (name) => rhoNames.has(name), lrScale: rhoScale },
    ]);
  } else {
    optimizer = adam(settings.learningRate);
  }
  return { settings, optimizer };
}
