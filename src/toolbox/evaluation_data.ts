/**
 * The training data and inputs of `UncertaintyEvaluation`: the forms they take (one tensor,
 * an array of one tensor per model input, a `{[inputName]: tensor}` map; in-memory `{x, y}` or a
 * batch source), their row counts, and the checks of the training data (in memory by the
 * constructor, a batch source batch by batch as it is drawn).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { DataBatch, TrainData } from './fit.js';
import { batchSizeOf, type ModelInput } from '../layers/model_input.js';
import { checkInputs, checkLabels, checkTargets, type ModelSpec } from './evaluation_checks.js';

/**
 * Inputs of the evaluated model as tfjs's `model.predict` / `model.fit` take them: one tensor (a
 * single-input model), an array of one tensor per input (`model.inputs` order), or a map
 * `{[inputName]: tensor}` keyed by `model.inputNames`.
 */
export type EvaluationInput = tf.Tensor | tf.Tensor[] | { [inputName: string]: tf.Tensor };

/** The rows of inputs in any {@link EvaluationInput} form (0 when none can be read). */
function rowsOf(x: unknown): number {
  if (x instanceof tf.Tensor) return x.shape[0] ?? 0;
  const first: unknown = Array.isArray(x)
    ? x[0]
    : typeof x === 'object' && x !== null
      ? Object.values(x)[0]
      : undefined;
  return first instanceof tf.Tensor ? (first.shape[0] ?? 0) : 0;
}

/** A batch of {@link EvaluationData}: inputs in any {@link EvaluationInput} form. */
export interface EvaluationBatch {
  x: EvaluationInput;
  y: tf.Tensor;
  dispose?: () => void;
}

/**
 * Training data of `UncertaintyEvaluation`: in-memory `{x, y}` or a batch source, with the
 * inputs in any {@link EvaluationInput} form (one tensor, an array per input, a map by input name).
 */
export type EvaluationData =
  { x: EvaluationInput; y: tf.Tensor } | { batches(epoch: number): Iterable<EvaluationBatch> };

/** Number of training examples of training data. */
export function datasetSize(data: EvaluationData): number {
  if ('batches' in data) {
    const set = (data as { set?: { count?: number } }).set;
    if (set?.count !== undefined) return set.count;
    let n = 0;
    for (const b of data.batches(0)) {
      n += rowsOf(b.x);
      b.dispose?.();
    }
    return n;
  }
  return rowsOf(data.x);
}

/**
 * Check the training data before any work: shapes, finite values, labels, at least one row; the
 * data with its inputs as the model takes them (a map of inputs in `model.inputs` order).
 */
export function checkTrainData(data: EvaluationData, spec: ModelSpec): EvaluationData {
  if (typeof data !== 'object' || data === null) {
    throw new ArgumentError(
      'trainDataset',
      'expected {x, y} tensors or a batch source with batches(epoch)',
    );
  }
  if ('batches' in data) {
    if (typeof data.batches !== 'function') {
      throw new ArgumentError('trainDataset', 'expected batches(epoch) to be a function');
    }
    return data; // each batch is checked as it is drawn (checkedSource)
  }
  const raw = (data as { x?: unknown }).x;
  if (raw instanceof tf.Tensor && raw.shape[0] === 0) {
    throw new ArgumentError('trainDataset', 'is empty (x has 0 rows); expected training examples');
  }
  const x = checkBatch(raw, data.y, 'trainDataset.x', 'trainDataset.y', spec);
  if (batchSizeOf(x) === 0) {
    throw new ArgumentError('trainDataset', 'is empty (x has 0 rows); expected training examples');
  }
  return { x, y: data.y };
}

/** Check one batch of training inputs and targets (names for the messages); its inputs. */
function checkBatch(
  x: unknown,
  y: unknown,
  xName: string,
  yName: string,
  spec: ModelSpec,
): ModelInput {
  const xs = checkInputs(x, xName, spec.inputs);
  const n = batchSizeOf(xs);
  if (spec.taskType === 'classification') checkLabels(y, yName, n, spec.numClasses as number);
  else checkTargets(y, yName, n, spec.outDims);
  return xs;
}

/**
 * The training data with every batch of a batch source checked before it is used (in-memory
 * tensors were checked by the constructor), counting the examples it yields.
 */
export function checkedSource(
  data: EvaluationData,
  seen: { n: number },
  spec: ModelSpec,
): TrainData {
  if (!('batches' in data)) {
    // in-memory inputs were put in model.inputs order by the constructor (checkTrainData)
    const x = data.x as ModelInput;
    seen.n += batchSizeOf(x);
    return { x, y: data.y };
  }
  const check = (b: EvaluationBatch | DataBatch): ModelInput =>
    checkBatch(b.x, b.y, 'trainDataset (a batch x)', 'trainDataset (a batch y)', spec);
  return {
    *batches(epoch: number): Generator<DataBatch> {
      for (const b of data.batches(epoch)) {
        let x: ModelInput;
        try {
          x = check(b);
        } catch (e) {
          b.dispose?.();
          throw e;
        }
        seen.n += batchSizeOf(x);
        // the batch's own tensors (a map of inputs is read in model.inputs order)
        yield { ...b, x };
      }
    },
  };
}
