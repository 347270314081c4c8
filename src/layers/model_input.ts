/**
 * Inputs against a model: the one shape check of the post-hoc methods that take a user's model and
 * its data (Laplace, SWAG), the predictors, the VAEs and `train`; the one check of a model argument;
 * and the inputs of a network as the loss cells and the epoch loop take them: one tensor, or (tfjs's
 * convention for a model with several inputs, `model.apply([a, b])`) an array of tensors, one per
 * `model.inputs[i]` in order, all with the same batch size `B`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/**
 * Check `x` is shaped like `model`'s one input, `[N, d_1, ..., d_k]` with every `d_i` the model
 * fixes (a `null` dimension takes any size).
 *
 * @param model a single-input tfjs model.
 * @param x the inputs.
 * @throws ArgumentError naming `model` (several inputs) or `x` (another shape), before any work.
 * @example
 * ```ts
 * checkInputShape(model, xTrain); // x: expected inputs [N, 28, 28, 1] (the model's input), got [...]
 * ```
 */
export function checkInputShape(model: tf.LayersModel, x: tf.Tensor): void {
  const want = model.inputs[0]?.shape;
  if (want === undefined || model.inputs.length !== 1) {
    throw new ArgumentError('model', 'expected a model with one input');
  }
  const ok =
    want.length === x.rank && want.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!ok) {
    throw new ArgumentError(
      'x',
      `expected inputs [N, ${want
        .slice(1)
        .map((d) => d ?? '*')
        .join(', ')}] (the model's input), got [${x.shape.join(', ')}]`,
    );
  }
}

/**
 * Check a model argument.
 * @param model what the caller gave.
 * @param name the argument, for the message (default `'model'`).
 * @throws ArgumentError naming `name` unless `model` is a `tf.LayersModel`.
 */
export function checkModel(model: unknown, name = 'model'): asserts model is tf.LayersModel {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError(
      name,
      `expected a tf.LayersModel, got ${model === null ? 'null' : typeof model}`,
    );
  }
}

/** One input tensor, or one tensor per input of a multi-input model (`model.inputs` order). */
export type ModelInput = tf.Tensor | tf.Tensor[];

/** The batch size `B` of inputs (the leading dimension of the first tensor). */
export function batchSizeOf(x: ModelInput): number {
  const first = Array.isArray(x) ? x[0] : x;
  return (first?.shape[0] as number | undefined) ?? 0;
}

/** `[d0, d1, ...]` with `null` as `*`. */
function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '*' : String(d))).join(', ')}]`;
}

function checkOne(t: unknown, name: string): tf.Tensor {
  if (!(t instanceof tf.Tensor) || t.isDisposed || t.rank < 1) {
    throw new ArgumentError(name, 'expected a live tf.Tensor of inputs with a batch dimension');
  }
  if (t.dtype !== 'float32' && t.dtype !== 'int32') {
    throw new ArgumentError(name, `expected float32 inputs, got dtype ${t.dtype}`);
  }
  return t;
}

/**
 * Check inputs against a network before any work: a live float32 / int32 tensor with a batch
 * dimension for a single-input network, an array of exactly `model.inputs.length` such tensors for
 * a multi-input model; each `x[i]` of the rank and fixed dimensions of `model.inputs[i]` (a `null`
 * dimension takes any size), all with the same batch size.
 *
 * @param backbone a tfjs model (its symbolic inputs give the shapes) or a layer (only the tensors
 *   and their batch sizes are checked).
 * @param x the inputs.
 * @returns the batch size `B`.
 * @throws ArgumentError naming `x` (a tensor where an array is expected and vice versa, a wrong
 *   count) or `x[i]` (not a live tensor, a dtype, a shape, a batch size).
 */
export function checkModelInputs(backbone: tf.LayersModel | tf.layers.Layer, x: unknown): number {
  const symbolic = backbone instanceof tf.LayersModel ? backbone.inputs : undefined;
  const count = symbolic?.length;
  if (Array.isArray(x)) {
    if (count !== undefined && x.length !== count) {
      throw new ArgumentError(
        'x',
        count === 1
          ? `expected one input tensor (the model has one input), got an array of ${x.length}`
          : `expected an array of ${count} input tensors (one per model input, in model.inputs order), got ${x.length}`,
      );
    }
    if (x.length === 0) throw new ArgumentError('x', 'expected input tensors, got an empty array');
  } else if (count !== undefined && count > 1) {
    throw new ArgumentError(
      'x',
      `expected an array of ${count} input tensors (one per model input, in model.inputs order: ${symbolic
        ?.map((s) => shapeText(s.shape))
        .join(
          ', ',
        )}), got ${x instanceof tf.Tensor ? `one tensor [${x.shape.join(', ')}]` : typeof x}`,
    );
  }
  const list = Array.isArray(x) ? x : [x];
  const named = (i: number): string => (Array.isArray(x) ? `x[${i}]` : 'x');
  const tensors = list.map((t, i) => checkOne(t, named(i)));
  const batch = tensors[0]?.shape[0] as number;
  tensors.forEach((t, i) => {
    const want = symbolic?.[i]?.shape;
    if (
      want !== undefined &&
      (want.length !== t.rank || want.some((d, j) => j > 0 && d !== null && d !== t.shape[j]))
    ) {
      throw new ArgumentError(
        named(i),
        `expected inputs ${shapeText([null, ...want.slice(1)]).replace('*', 'B')} (model input ${i}${symbolic?.[i]?.name !== undefined ? ` '${symbolic[i]?.name}'` : ''}), got [${t.shape.join(', ')}]`,
      );
    }
    if (t.shape[0] !== batch) {
      throw new ArgumentError(
        named(i),
        `expected the batch size of x[0] (${batch}), got [${t.shape.join(', ')}]`,
      );
    }
  });
  return batch;
}

/** The tensors of inputs, in `model.inputs` order (one tensor as a list of one). */
export function inputList(x: ModelInput): tf.Tensor[] {
  return Array.isArray(x) ? x : [x];
}

/** Rows `[begin, begin + size)` of every input tensor (the same form as `x`). */
export function sliceInputs(x: ModelInput, begin: number, size: number): ModelInput {
  return Array.isArray(x)
    ? x.map((t) => tf.slice(t, [begin], [size]))
    : tf.slice(x, [begin], [size]);
}

/** The rows `indices` of every input tensor (the same form as `x`). */
export function gatherInputs(x: ModelInput, indices: tf.Tensor1D): ModelInput {
  return Array.isArray(x) ? x.map((t) => tf.gather(t, indices)) : tf.gather(x, indices);
}

/**
 * Check the inputs of a post-hoc method against `model` before any work: for a single-input model
 * one tensor shaped as its input ({@link checkInputShape}), for a model with several inputs an
 * array of one tensor per input ({@link checkModelInputs}: each `x[i]` against `model.inputs[i]`,
 * one batch size).
 *
 * @returns the number of rows `N`.
 * @throws ArgumentError naming `x` or `x[i]`.
 */
export function checkInputsOf(model: tf.LayersModel, x: unknown): number {
  const single = model.inputs.length === 1;
  if (single && Array.isArray(x) && !x.every((t) => t instanceof tf.Tensor)) {
    throw new ArgumentError(
      'x',
      'expected a tensor of inputs (the model has one input), got a plain array: wrap it in tf.tensor',
    );
  }
  if (single && !Array.isArray(x)) {
    if (!(x instanceof tf.Tensor) || x.isDisposed) {
      const want = (model.inputs[0] as tf.SymbolicTensor).shape;
      throw new ArgumentError(
        'x',
        `expected a tensor [N, ${want
          .slice(1)
          .map((d) => d ?? '*')
          .join(', ')}]${x instanceof tf.Tensor ? ', got a disposed tensor' : ''}`,
      );
    }
    checkInputShape(model, x);
    return x.shape[0] as number;
  }
  return checkModelInputs(model, x);
}
