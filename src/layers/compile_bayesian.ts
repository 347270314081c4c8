/**
 * `compileBayesian(model, {datasetSize, ...})`: `model.compile` for a network with Bayesian
 * layers, with the KL term scaled for `model.fit` so that each step minimises the per-example
 * negative ELBO (no manual `setKLScale` call).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { bayesianLayers } from './model_utils.js';

/** Arguments of {@link compileBayesian}: those of `model.compile` plus the data set size. */
export interface CompileBayesianArgs extends tf.ModelCompileArgs {
  /** Number of training examples `N` the model will be fitted on (an integer >= 1). */
  datasetSize: number;
  /**
   * Weight `beta` of the KL term (1 = the exact ELBO; < 1 tempers the prior, as in beta-VAE /
   * KL annealing). Default 1.
   */
  klWeight?: number;
}

/** The keys {@link compileBayesian} takes: its own and those of tfjs's `ModelCompileArgs`. */
const COMPILE_BAYESIAN_KEYS: readonly string[] = [
  'datasetSize',
  'klWeight',
  'optimizer',
  'loss',
  'metrics',
];

/** The optimizer names tfjs-layers 4.22's `model.compile` accepts (its `getOptimizer`). */
const TFJS_OPTIMIZER_NAMES: readonly string[] = [
  'sgd',
  'SGD',
  'adam',
  'Adam',
  'adamax',
  'Adamax',
  'adagrad',
  'Adagrad',
  'adadelta',
  'Adadelta',
  'rmsprop',
  'RMSProp',
];

/**
 * Compile a model with Bayesian layers for `model.fit`: set every Bayesian layer's `klScale` to
 * `beta / N`, then call `model.compile` with the remaining arguments. `model.fit` then minimises,
 * for each mini-batch `B` of the `N` examples,
 *
 * $$\mathcal{L}_B = \frac{1}{|B|} \sum_{i \in B} -\log p(y_i \mid x_i, w)
 *   + \frac{\beta}{N} \sum_{l} \mathrm{KL}\big(q_l(w) \,\|\, p_l(w)\big),
 *   \qquad w \sim q,$$
 *
 * an unbiased estimate of `-ELBO / N` for `beta = 1` (Blundell et al. 2015, with the KL spread
 * evenly over the `N / |B|` batches of an epoch). Without it the layers add their full KL to
 * every batch's mean loss (TFP's default), which swamps the data term of any realistic data set.
 * The loss must be a per-example mean, as every tfjs loss is (`'categoricalCrossentropy'`,
 * `'sparseCategoricalCrossentropy'`, `'meanSquaredError'`, ...).
 *
 * @param model a tfjs model with at least one Bayesian layer (nested models are searched).
 * @param args `datasetSize`, optional `klWeight`, and `model.compile`'s `optimizer`, `loss`,
 *   `metrics`.
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [
 *   layers.denseFlipout({ inputShape: [784], units: 128, activation: 'relu' }),
 *   layers.denseFlipout({ units: 10, activation: 'softmax' }) ] });
 * layers.compileBayesian(model, {
 *   datasetSize: 60000, optimizer: tf.train.adam(1e-3),
 *   loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * await model.fit(xTrain, yTrain, { epochs: 5, batchSize: 128 });
 * ```
 */
export function compileBayesian(model: tf.LayersModel, args: CompileBayesianArgs): void {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', 'expected a tf.LayersModel (tf.sequential or tf.model)');
  }
  if (typeof args !== 'object' || args === null) {
    throw new ArgumentError('args', 'expected { datasetSize, optimizer, loss, ... }');
  }
  // model.compile ignores keys it does not know: a misspelt `klweight` would silently train with
  // the default weight
  checkOptionKeys(args, COMPILE_BAYESIAN_KEYS, 'compileBayesian');
  const { datasetSize, klWeight = 1, ...compileArgs } = args;
  if (typeof datasetSize !== 'number' || !Number.isInteger(datasetSize) || datasetSize < 1) {
    throw new ArgumentError(
      'datasetSize',
      `expected the number of training examples (an integer >= 1), got ${String(datasetSize)}`,
    );
  }
  if (typeof klWeight !== 'number' || !Number.isFinite(klWeight) || klWeight < 0) {
    throw new ArgumentError('klWeight', `expected a finite number >= 0, got ${String(klWeight)}`);
  }
  const opt: unknown = compileArgs.optimizer;
  // tf.Optimizer's instanceof reads `minimize` of its operand: test null/undefined first
  if (
    opt === null ||
    opt === undefined ||
    (typeof opt === 'string' ? !TFJS_OPTIMIZER_NAMES.includes(opt) : !(opt instanceof tf.Optimizer))
  ) {
    throw new ArgumentError(
      'optimizer',
      `expected a tf.Optimizer or one of tfjs's names (${TFJS_OPTIMIZER_NAMES.join(', ')}), got ` +
        (typeof opt === 'string' ? `'${opt}'` : opt === null ? 'null' : typeof opt),
    );
  }
  const layers = bayesianLayers(model);
  if (layers.length === 0) {
    throw new ArgumentError(
      'model',
      'has no Bayesian layer (nothing to scale): use model.compile for a plain network',
    );
  }
  model.compile(compileArgs);
  for (const l of layers) l.klScale = klWeight / datasetSize;
}
