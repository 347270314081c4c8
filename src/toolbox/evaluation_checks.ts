/**
 * The shape checks of `UncertaintyEvaluation`: the model's inputs and output read once
 * (`ModelSpec`), inputs in any of their forms checked against them (each named when it does not
 * fit), class labels and regression targets, a loaded auxiliary model, and what the
 * heteroscedastic copy needs of the model; each throws an `ArgumentError` naming the argument.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkFinite, checkValues } from '../utils/tensor.js';
import type { ModelInput } from '../layers/model_input.js';
import { bayesianLayers } from '../layers/index.js';
import { meanHeadOf } from './model_surgery.js';
import { hasDropout } from './predictors.js';
import type { UncertaintyEvaluationOptions } from './evaluation_options.js';

/** `[N, a, b]` for the non-batch dims `[a, b]` (`?` where the model leaves a size open). */
export function shapeText(dims: readonly (number | null)[]): string {
  return `[N${dims.map((d) => `, ${d ?? '?'}`).join('')}]`;
}

/** One input of the model: its name (`model.inputNames`) and non-batch dims. */
export interface InputSpec {
  name: string;
  dims: (number | null)[];
}

/** What `UncertaintyEvaluation` checks data against: the model's inputs, output and task. */
export interface ModelSpec {
  /** The model's inputs (names, non-batch dims). */
  inputs: InputSpec[];
  /** The non-batch dims of the model's one output. */
  outDims: (number | null)[];
  taskType: 'classification' | 'regression';
  /** The number of classes (classification). */
  numClasses: number | undefined;
}

/** The inputs of a model (one or several). */
export function inputSpecs(model: tf.LayersModel): InputSpec[] {
  return model.inputs.map((t, i) => ({
    name: model.inputNames[i] ?? t.name,
    dims: t.shape.slice(1),
  }));
}

/** The non-batch dims of a model's one output (several outputs are refused, naming `model`). */
export function outputDims(model: tf.LayersModel): (number | null)[] {
  if (model.outputs.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected a model with one output (the prediction whose uncertainty is evaluated), got ${model.outputs.length} outputs; build a model with the one output to evaluate (tf.model({ inputs: model.inputs, outputs: model.outputs[i] }))`,
    );
  }
  return (model.outputs[0] as tf.SymbolicTensor).shape.slice(1);
}

/** `'img' [N, 4], 'meta' [N, 2]`. */
function specsText(specs: readonly InputSpec[]): string {
  return specs.map((s) => `'${s.name}' ${shapeText(s.dims)}`).join(', ');
}

/** Whether `shape` is `[N, ...dims]` (a null dim matches any size). */
function matchesDims(shape: readonly number[], dims: readonly (number | null)[]): boolean {
  return shape.length === dims.length + 1 && dims.every((d, i) => d === null || d === shape[i + 1]);
}

/**
 * Check inputs against the model's inputs and return them as the model takes them (one tensor for
 * a single-input model, else an array in `model.inputs` order): `x` one tensor (a single-input
 * model), an array of one tensor per input, or a map keyed by the input names; each a finite tensor
 * `[N, ...]` of its input's shape, all with the same `N`.
 *
 * @throws ArgumentError naming `name`, or the input (`x[i]`, `x['meta']`) that does not fit.
 */
export function checkInputs(x: unknown, name: string, specs: readonly InputSpec[]): ModelInput {
  const multi = specs.length > 1;
  const what = (s: InputSpec): string => `the model's input${multi ? ` '${s.name}'` : ''}`;
  let list: { t: unknown; label: string; spec: InputSpec }[];
  if (x instanceof tf.Tensor && !multi) {
    list = [{ t: x, label: name, spec: specs[0] as InputSpec }];
  } else if (x instanceof tf.Tensor) {
    throw new ArgumentError(
      name,
      `the model has ${specs.length} inputs: expected an array of one tensor per input (model.inputs order) or a {name: tensor} map (${specsText(specs)}), got one tensor [${x.shape.join(', ')}]`,
    );
  } else if (Array.isArray(x) && !multi && !(x.length === 1 && x[0] instanceof tf.Tensor)) {
    throw new ArgumentError(
      name,
      `expected a tf.Tensor ${shapeText((specs[0] as InputSpec).dims)} (the model's input)${x.every((v) => typeof v === 'number' || Array.isArray(v)) ? ', got a plain array: wrap it in tf.tensor' : `, got an array of ${x.length}`}`,
    );
  } else if (Array.isArray(x)) {
    if (x.length !== specs.length) {
      throw new ArgumentError(
        name,
        `expected ${specs.length} input tensor${multi ? 's, one per model input (' + specsText(specs) + ')' : ` ${shapeText((specs[0] as InputSpec).dims)}`}, got an array of ${x.length}`,
      );
    }
    list = specs.map((spec, i) => ({
      t: x[i] as unknown,
      label: `${name}[${i}]${multi ? ` (input '${spec.name}')` : ''}`,
      spec,
    }));
  } else if (typeof x === 'object' && x !== null && !multi && x.constructor !== Object) {
    throw new ArgumentError(
      name,
      `expected a tf.Tensor ${shapeText((specs[0] as InputSpec).dims)} (the model's input)`,
    );
  } else if (typeof x === 'object' && x !== null) {
    const map = x as Record<string, unknown>;
    const extra = Object.keys(map).find((k) => !specs.some((s) => s.name === k));
    if (extra !== undefined) {
      throw new ArgumentError(
        `${name}['${extra}']`,
        `is not an input of the model; expected the inputs ${specsText(specs)}`,
      );
    }
    list = specs.map((spec) => ({ t: map[spec.name], label: `${name}['${spec.name}']`, spec }));
  } else {
    throw new ArgumentError(
      name,
      multi
        ? `expected one tensor per model input, as an array (model.inputs order) or a {name: tensor} map (${specsText(specs)})`
        : `expected a tf.Tensor ${shapeText((specs[0] as InputSpec).dims)} (the model's input)`,
    );
  }
  const tensors = list.map(({ t, label, spec }) => {
    if (!(t instanceof tf.Tensor) || t.isDisposed) {
      throw new ArgumentError(
        label,
        `${t === undefined ? 'missing: ' : ''}expected a tf.Tensor ${shapeText(spec.dims)} (${what(spec)})`,
      );
    }
    if (!matchesDims(t.shape, spec.dims)) {
      throw new ArgumentError(
        label,
        `expected shape ${shapeText(spec.dims)} (${what(spec)}), got [${t.shape.join(', ')}]`,
      );
    }
    return t;
  });
  const n = tensors[0]?.shape[0] as number;
  tensors.forEach((t, i) => {
    const label = (list[i] as { label: string }).label;
    if (t.shape[0] !== n) {
      throw new ArgumentError(
        label,
        `expected ${n} rows (the rows of ${(list[0] as { label: string }).label}), got ${t.shape[0]}`,
      );
    }
    checkFinite(t, label, 'inputs');
  });
  return multi ? tensors : (tensors[0] as tf.Tensor);
}

/**
 * Throw `ArgumentError(name)` unless `y` holds `n` integer class labels in `[0, K)`, shape `[N]` or
 * `[N, 1]` (MindSpore's sparse labels; one-hot rows are refused with the `argMax` hint).
 */
export function checkLabels(y: unknown, name: string, n: number, k: number): void {
  if (!(y instanceof tf.Tensor)) {
    throw new ArgumentError(name, 'expected a tf.Tensor of integer class labels [N]');
  }
  if (!(y.rank === 1 || (y.rank === 2 && y.shape[1] === 1))) {
    const hint =
      y.rank === 2 && y.shape[1] === k
        ? ` (one-hot rows? pass the class indices, e.g. tf.argMax(y, -1))`
        : '';
    throw new ArgumentError(
      name,
      `expected integer class labels [N] (MindSpore's sparse labels), got shape [${y.shape.join(', ')}]${hint}`,
    );
  }
  if (y.shape[0] !== n) {
    throw new ArgumentError(name, `expected ${n} labels (one per row of x), got ${y.shape[0]}`);
  }
  checkValues(
    y,
    name,
    (v) => Number.isInteger(v) && v >= 0 && v < k,
    `integer class labels in [0, ${k})`,
  );
}

/** Throw `ArgumentError(name)` unless `y` holds `n` finite targets shaped like the model's output. */
export function checkTargets(
  y: unknown,
  name: string,
  n: number,
  dims: readonly (number | null)[],
): void {
  const single = dims.length === 1 && dims[0] === 1;
  const expected = `${shapeText(dims)} like the model's output${single ? ' (or [N])' : ''}`;
  if (!(y instanceof tf.Tensor)) {
    throw new ArgumentError(name, `expected a tf.Tensor of regression targets ${expected}`);
  }
  if (!(matchesDims(y.shape, dims) || (single && y.rank === 1))) {
    throw new ArgumentError(name, `expected targets ${expected}, got [${y.shape.join(', ')}]`);
  }
  if (y.shape[0] !== n) {
    throw new ArgumentError(name, `expected ${n} targets (one per row of x), got ${y.shape[0]}`);
  }
  checkFinite(y, name, 'targets');
}

/**
 * What the heteroscedastic copy needs of the model, checked before it is built (a copy made and
 * then refused would leak): a fully defined input shape; for regression a `tf.Sequential` with
 * a dense layer (the mean head).
 */
export function checkHeteroscedasticBase(model: tf.LayersModel, spec: ModelSpec): void {
  const open = spec.inputs.find((s) => s.dims.some((d) => d === null));
  if (open !== undefined) {
    throw new ArgumentError(
      'model',
      `the aleatoric copy needs a fully defined input shape, got ${shapeText(open.dims)}${spec.inputs.length > 1 ? ` (input '${open.name}')` : ''}`,
    );
  }
  if (spec.taskType === 'regression') {
    // the mean head: a Sequential's last dense layer, or the Dense making a functional model's output
    const ok =
      model instanceof tf.Sequential
        ? model.layers.some((l) => /^dense/i.test(l.getClassName()))
        : meanHeadOf(model) !== undefined;
    if (!ok) {
      throw new ArgumentError(
        'model',
        'the aleatoric copy of a regression model needs a tf.Sequential ending in a dense layer, or a functional model whose output is made by a Dense layer applied once (the mean head)',
      );
    }
  }
}

/**
 * Throw `ArgumentError(path)` unless a loaded model takes the model's inputs and has `outputs`
 * outputs, the first shaped like the model's output.
 */
export function checkLoaded(
  m: tf.LayersModel,
  path: string,
  outputs: number,
  spec: ModelSpec,
): void {
  const dims = (t: tf.SymbolicTensor | undefined): string =>
    t === undefined ? '' : shapeText(t.shape.slice(1));
  const okIn =
    m.inputs.length === spec.inputs.length &&
    spec.inputs.every((s, i) => dims(m.inputs[i]) === shapeText(s.dims));
  const okOut = m.outputs.length === outputs && dims(m.outputs[0]) === shapeText(spec.outDims);
  if (okIn && okOut && outputs === 1 && !hasDropout(m) && bayesianLayers(m).length === 0) {
    throw new ArgumentError(
      path,
      'the loaded model has no dropout or Bayesian layer, so its passes would all be equal',
    );
  }
  if (!okIn || !okOut) {
    throw new ArgumentError(
      path,
      `the loaded model does not fit the given model: expected input${spec.inputs.length > 1 ? 's' : ''} ${spec.inputs.map((s) => shapeText(s.dims)).join(', ')} and ${outputs} output${outputs === 1 ? '' : 's'} (the first ${shapeText(spec.outDims)}), got inputs ${m.inputs.map(dims).join(', ')} and outputs ${m.outputs.map(dims).join(', ')}`,
    );
  }
}

/**
 * Check the options naming the model and the task (the model a `tf.LayersModel` with one output,
 * the task, `numClasses` for classification fitting the output width, both paths when `saveModel`)
 * and read the model's inputs and output once.
 */
export function checkModelOptions(options: UncertaintyEvaluationOptions): ModelSpec {
  if (!(options.model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  }
  if (options.taskType !== 'classification' && options.taskType !== 'regression') {
    throw new ArgumentError(
      'taskType',
      `expected 'classification' or 'regression', got '${String(options.taskType)}'`,
    );
  }
  if (options.taskType === 'classification') {
    const k = options.numClasses;
    if (k === undefined || !Number.isInteger(k) || k < 2) {
      throw new ArgumentError(
        'numClasses',
        `expected an integer >= 2 for classification, got ${k}`,
      );
    }
  }
  if (
    options.saveModel === true &&
    (options.epiUncerModelPath === undefined || options.aleUncerModelPath === undefined)
  ) {
    throw new ArgumentError(
      'saveModel',
      'when saveModel is true, epiUncerModelPath and aleUncerModelPath must both be given',
    );
  }
  const outDims = outputDims(options.model);
  const inSpecs = inputSpecs(options.model);
  if (options.taskType === 'classification') {
    const k = options.numClasses as number;
    const w = outDims[0];
    if (outDims.length !== 1) {
      throw new ArgumentError(
        'model',
        `a classifier must output [N, K], got ${shapeText(outDims)}`,
      );
    }
    if (w !== null && w !== k && !(w === 1 && k === 2)) {
      throw new ArgumentError(
        'numClasses',
        `the model outputs ${w} value${w === 1 ? '' : 's'} per input, so expected numClasses ${w === 1 ? '2 (one output: a binary classifier)' : w}, got ${k}`,
      );
    }
  }
  return {
    inputs: inSpecs,
    outDims,
    taskType: options.taskType,
    numClasses: options.numClasses,
  };
}
