/**
 * What `deepprob shift` checks before any method does work: every checkpoint of every method
 * takes the benchmark's images and predicts at least its classes, and fits its method kind
 * (Bayesian layers for `bayes`, a chain of layers for `laplace-all`, a logit head for Laplace,
 * dropout or a `tf.Sequential` to insert it into for `mc-dropout`). Before, a method that could not
 * run on its model failed after the methods listed before it had done their work (minutes of
 * Laplace fits and SWAG epochs), naming `model` rather than the method.
 */
import * as tf from '@tensorflow/tfjs';
import { bayesianLayers } from '../../layers/model_utils.js';
import { modelHead } from '../../toolbox/posthoc/laplace/head.js';
import { layerGraph } from '../../toolbox/posthoc/laplace/layer_graph.js';
import { hasDropout } from '../../toolbox/predictors.js';
import type { ImageSet } from '../../data/dataset.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkSetsAgainstModel } from '../data_checks.js';
import type { ShiftMethodSpec } from './spec.js';

/** `label=kind:dirs`, as the method was given. */
function describe(spec: ShiftMethodSpec): string {
  return `${spec.name !== undefined ? `${spec.name}=` : ''}${spec.kind}:${spec.checkpoints.join(',')}`;
}

/** The model's own message of a structural check, or undefined when it passes. */
function failure(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    // the message without its own argument name: the error names the method
    if (e instanceof ArgumentError) return e.message.slice(e.argument.length + 2);
    throw e;
  }
}

/**
 * Check one method's checkpoints against the benchmark's images and labels and its kind.
 *
 * @param spec the method.
 * @param models the loaded model of each of its checkpoints (same order).
 * @param imageShape the images the benchmark feeds, `[H, W, C]` after the transform.
 * @param set the benchmark's clean images (their labels are checked against each model's classes).
 * @throws ArgumentError naming `methods` and the method as given.
 */
export function checkShiftMethod(
  spec: ShiftMethodSpec,
  models: readonly tf.LayersModel[],
  imageShape: readonly number[],
  set: ImageSet,
): void {
  const fail = (dir: string, msg: string): never => {
    throw new ArgumentError('methods', `'${describe(spec)}': the model in ${dir} ${msg}`);
  };
  models.forEach((m, i) => {
    const dir = spec.checkpoints[i] as string;
    // the images and labels against the model: the check eval and uncertainty make
    const data = failure(() => checkSetsAgainstModel(m, imageShape, [set]));
    if (data !== undefined) fail(dir, `does not fit the data: ${data}`);
    let why: string | undefined;
    switch (spec.kind) {
      case 'bayes':
      case 'bayes-temperature':
        if (bayesianLayers(m).length === 0) why = 'has no Bayesian layer to sample (use plain)';
        break;
      case 'mc-dropout':
        if (!hasDropout(m) && !(m instanceof tf.Sequential)) {
          why =
            'has no Dropout layer, and dropout can only be inserted into a tf.Sequential: add a Dropout layer to the model';
        }
        break;
      case 'laplace':
      case 'laplace-diag':
      case 'laplace-full':
        why = failure(() => modelHead(m, 'classification'));
        break;
      case 'laplace-all':
      case 'laplace-all-diag':
        why = failure(() => layerGraph(m, 'classification'));
        break;
      default:
        break;
    }
    if (why !== undefined) fail(dir, `cannot be used: ${why}`);
  });
}
