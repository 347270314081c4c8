/**
 * The training data and inputs of `UncertaintyEvaluation`: the forms they take (one tensor,
 * an array of one tensor per model input, a `{[inputName]: tensor}` map; in-memory `{x, y}`, a
 * batch source or a `tf.data.Dataset` of `{xs, ys}` batches), their row counts, and the checks of
 * the training data (in memory by the constructor, a batch source or dataset batch by batch as it
 * is drawn).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { datasetElements, isTfDataset } from '../utils/tf_data.js';
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

/** A batch source of {@link EvaluationData}: `batches(epoch)` yields the batches of an epoch. */
export interface EvaluationSource {
  batches(epoch: number): Iterable<EvaluationBatch> | AsyncIterable<EvaluationBatch>;
}

/**
 * Training data of `UncertaintyEvaluation`, with the inputs in any {@link EvaluationInput} form
 * (one tensor, an array per input, a map by input name): in-memory `{x, y}`, a batch source, or a
 * `tf.data.Dataset` whose elements are batches `{xs, ys}` as `model.fitDataset` takes them
 * (iterated afresh each epoch; each element is disposed after its step).
 */
export type EvaluationData =
  { x: EvaluationInput; y: tf.Tensor } | EvaluationSource | tf.data.Dataset<tf.TensorContainer>;

/**
 * Number of training examples of checked training data (a batch source is read once, unless it
 * tells its `set.count`).
 */
export async function datasetSize(data: EvaluationData): Promise<number> {
  if (isTfDataset(data)) return datasetSize(datasetSource(data));
  if ('batches' in data) {
    const set = (data as { set?: { count?: number } }).set;
    if (set?.count !== undefined) return set.count;
    let n = 0;
    for await (const b of data.batches(0)) {
      n += rowsOf(b.x);
      b.dispose?.();
    }
    return n;
  }
  return rowsOf(data.x);
}

/** What a dataset element is, for a message. */
function describeElement(el: unknown): string {
  if (el instanceof tf.Tensor) return `a tensor of shape [${el.shape.join(', ')}]`;
  if (Array.isArray(el)) return `an array of ${el.length}`;
  if (el !== null && typeof el === 'object') {
    return `an object with keys [${Object.keys(el).join(', ')}]`;
  }
  return String(el);
}

/**
 * A `tf.data.Dataset` of `{xs, ys}` batches as a batch source: each epoch reads the dataset from
 * a fresh iterator; a batch's `dispose` frees the element. An element of another form is an
 * `ArgumentError` naming `trainDataset` and the element (the element is freed).
 */
function datasetSource(ds: tf.data.Dataset<tf.TensorContainer>): EvaluationSource {
  return {
    async *batches(): AsyncGenerator<EvaluationBatch> {
      let i = 0;
      for await (const el of datasetElements(ds)) {
        const o = el as { xs?: unknown; ys?: unknown } | null;
        if (o === null || typeof o !== 'object' || o.xs === undefined || o.ys === undefined) {
          tf.dispose(el);
          throw new ArgumentError(
            'trainDataset',
            `expected dataset elements {xs, ys} (batches, as model.fitDataset takes them), got ${describeElement(el)} at element ${i}`,
          );
        }
        i++;
        yield {
          x: o.xs as EvaluationInput,
          y: o.ys as tf.Tensor,
          dispose: () => tf.dispose(el),
        };
      }
    },
  };
}

/**
 * Check the training data before any work: shapes, finite values, labels, at least one row; the
 * data with its inputs as the model takes them (a map of inputs in `model.inputs` order).
 */
export function checkTrainData(data: EvaluationData, spec: ModelSpec): EvaluationData {
  if (typeof data !== 'object' || data === null) {
    throw new ArgumentError(
      'trainDataset',
      'expected {x, y} tensors, a batch source with batches(epoch) or a tf.data.Dataset of {xs, ys}',
    );
  }
  // each element is checked as it is drawn (checkedSource)
  if (isTfDataset(data)) return datasetSource(data);
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
  if (isTfDataset(data)) return checkedSource(datasetSource(data), seen, spec);
  if (!('batches' in data)) {
    // in-memory inputs were put in model.inputs order by the constructor (checkTrainData)
    const x = data.x as ModelInput;
    seen.n += batchSizeOf(x);
    return { x, y: data.y };
  }
  const check = (b: EvaluationBatch | DataBatch): ModelInput =>
    checkBatch(b.x, b.y, 'trainDataset (a batch x)', 'trainDataset (a batch y)', spec);
  return {
    async *batches(epoch: number): AsyncGenerator<DataBatch> {
      for await (const b of data.batches(epoch)) {
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

/**
 * The results of `f` on every element of a dataset of input batches, concatenated along the rows
 * (`tf.zeros(empty)` when it has none). An element is the inputs (a tensor, an array per input, a
 * map by input name) or `{xs, ys?}` as a training set's (`ys` not read); `f` gets them with the
 * name `x (element i)` for its messages. Each element is freed after use, also when `f` throws.
 *
 * @param ds a `tf.data.Dataset` of batches.
 * @param inputNames the model's input names (a map with an input named `xs` is read as inputs).
 * @param f the per-batch result `[n_i, ...]`.
 * @param empty the shape of the result of an empty dataset.
 */
export async function overDatasetBatches(
  ds: tf.data.Dataset<tf.TensorContainer>,
  inputNames: readonly string[],
  f: (x: unknown, name: string) => Promise<tf.Tensor>,
  empty: number[],
): Promise<tf.Tensor> {
  const parts: tf.Tensor[] = [];
  let i = 0;
  try {
    for await (const el of datasetElements(ds)) {
      try {
        const o = el as Record<string, unknown> | null;
        const isXs =
          o !== null &&
          typeof o === 'object' &&
          !(o instanceof tf.Tensor) &&
          !Array.isArray(o) &&
          'xs' in o &&
          !inputNames.includes('xs');
        parts.push(await f(isXs ? o.xs : el, `x (element ${i})`));
      } finally {
        tf.dispose(el);
      }
      i++;
    }
    if (parts.length === 0) return tf.zeros(empty);
    return parts.length === 1 ? (parts.pop() as tf.Tensor) : tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}
