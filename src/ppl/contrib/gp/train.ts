/**
 * Pyro's `pyro.contrib.gp.util.train`: fit a GP model's parameters by SVI on
 * `gp.model`/`gp.guide`, minimizing the negative ELBO (for `GPRegression` and
 * `SparseGPRegression` without priors: `-log p(y)` and its sparse approximations exactly).
 */
import * as tf from '@tensorflow/tfjs';
import { SVI } from '../../infer/svi.js';
import { type ELBOLoss } from '../../infer/elbo.js';
import { TraceMeanFieldELBO } from '../../infer/trace_mean_field_elbo.js';
import { GPModel } from './models/model.js';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';

/** Options of {@link train}. */
export interface TrainOptions {
  /** The optimizer; default `tf.train.adam(0.01)` (Pyro's default). */
  optimizer?: tf.Optimizer;
  /** The loss; default `new TraceMeanFieldELBO()` (Pyro's default). */
  loss?: ELBOLoss;
  /** The number of steps. Default 1000. */
  numSteps?: number;
}

/**
 * Train `gpModule` for `numSteps` SVI steps and return the loss (`-ELBO`) of each step.
 *
 * @example
 * ```ts
 * const losses = gp.train(gpr, { optimizer: tf.train.adam(0.05), numSteps: 300 });
 * ```
 * @throws ArgumentError naming `gpModule` or the option.
 */
export function train(gpModule: GPModel, options: TrainOptions = {}): number[] {
  if (!(gpModule instanceof GPModel)) {
    throw new ArgumentError('gpModule', 'expected a gp model (GPRegression, VariationalGP, ...)');
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['optimizer', 'loss', 'numSteps'], 'train');
  const { numSteps = 1000 } = options;
  if (!Number.isInteger(numSteps) || numSteps < 0) {
    throw new ArgumentError('numSteps', `expected an integer >= 0, got ${String(numSteps)}`);
  }
  const optimizer = options.optimizer ?? tf.train.adam(0.01);
  const owned = options.optimizer === undefined;
  const svi = new SVI(
    gpModule.model,
    gpModule.guide,
    optimizer,
    options.loss ?? new TraceMeanFieldELBO(),
  );
  const losses: number[] = [];
  try {
    for (let i = 0; i < numSteps; i++) losses.push(svi.step());
  } finally {
    if (owned) optimizer.dispose();
  }
  return losses;
}
