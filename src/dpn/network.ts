/**
 * The networks a deep probabilistic network is built from: a `tf.LayersModel` (e.g. a
 * `tf.sequential`) or a plain stack of `tf.layers` applied in order.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { disposeModel } from '../layers/dispose_model.js';

/** A `tf.LayersModel` or an array of layers applied in sequence. */
export type Network = tf.LayersModel | tf.layers.Layer[];

/** Apply `net` to `x` (or to several inputs for a multi-input model). */
export function applyNetwork(net: Network, x: tf.Tensor | tf.Tensor[], training = true): tf.Tensor {
  checkNetwork(net, 'net');
  if (Array.isArray(net)) {
    let h = x;
    for (const l of net) h = l.apply(h, { training }) as tf.Tensor;
    return h as tf.Tensor;
  }
  return net.apply(x, { training }) as tf.Tensor;
}

/** What a layer declares of its input (tfjs's `InputSpec`): rank bounds and fixed axes. */
export interface DeclaredInputSpec {
  ndim?: number;
  minNDim?: number;
  maxNDim?: number;
  axes?: Record<number, number>;
}

/**
 * What the first layer of a layer-stack network declares of its input: the `inputShape` it was
 * given (`batchInputShape`, batch dim first) and its `inputSpec` (e.g. `Conv2D`: rank 4 with the
 * channels fixed once built). A `tf.LayersModel` (the network, or nested as the stack's first
 * element) declares `inputs[0].shape` instead.
 */
export function declaredInput(net: Network): {
  shape?: (number | null)[];
  spec?: DeclaredInputSpec;
} {
  if (!Array.isArray(net)) return { shape: net.inputs[0]?.shape };
  const first = net[0] as tf.layers.Layer;
  // a model nested as the first element declares its own input shape
  if (first instanceof tf.LayersModel) return { shape: first.inputs[0]?.shape };
  const declared = first as { batchInputShape?: (number | null)[] | null };
  const spec = (first.inputSpec as DeclaredInputSpec[] | null | undefined)?.[0] ?? undefined;
  return {
    ...(Array.isArray(declared.batchInputShape) ? { shape: declared.batchInputShape } : {}),
    ...(spec !== null && spec !== undefined ? { spec } : {}),
  };
}

/**
 * Why an input of shape `shape` does not meet `spec` (rank `ndim`, `minNDim`, `maxNDim`, the
 * sizes of fixed `axes`, negative ones counted from the end), or `undefined` when it does.
 */
export function inputSpecMismatch(shape: number[], spec: DeclaredInputSpec): string | undefined {
  const r = shape.length;
  if (spec.ndim !== undefined && spec.ndim !== null && r !== spec.ndim) {
    return `rank ${spec.ndim}`;
  }
  if (typeof spec.minNDim === 'number' && r < spec.minNDim) return `rank >= ${spec.minNDim}`;
  if (typeof spec.maxNDim === 'number' && r > spec.maxNDim) return `rank <= ${spec.maxNDim}`;
  for (const [k, size] of Object.entries(spec.axes ?? {})) {
    const a = Number(k);
    const i = a < 0 ? r + a : a;
    if (typeof size === 'number' && shape[i] !== size) {
      return `size ${size} on axis ${i}${i === r - 1 ? ' (the last, e.g. channels)' : ''}`;
    }
  }
  return undefined;
}

/** Number of inputs the network takes (1 for a layer stack). */
export function numInputs(net: Network): number {
  return Array.isArray(net) ? 1 : net.inputs.length;
}

/** The trainable variables of a network (those an optimizer updates). */
export function networkVariables(net: Network): tf.Variable[] {
  checkNetwork(net, 'net');
  const ws = Array.isArray(net) ? net.flatMap((l) => l.trainableWeights) : net.trainableWeights;
  return ws.map((w) => w.read() as tf.Variable);
}

/** Free the weights of a network. */
export function disposeNetwork(net: Network): void {
  checkNetwork(net, 'net');
  if (Array.isArray(net)) {
    for (const l of net) if (l.built) l.dispose();
  } else {
    disposeModel(net);
  }
}

/** Check that `net` is a network; `name` appears in the error. */
export function checkNetwork(net: unknown, name: string): Network {
  if (net instanceof tf.LayersModel) return net;
  if (Array.isArray(net) && net.every((l) => l instanceof tf.layers.Layer) && net.length > 0) {
    return net as tf.layers.Layer[];
  }
  throw new ArgumentError(name, 'expected a tf.LayersModel or a non-empty array of tf.layers');
}

/** Values per example of a symbolic shape `[null, ...]`; `undefined` where a dim is unknown. */
function exampleSize(shape: (number | null)[] | undefined): number | undefined {
  if (shape === undefined || shape.length < 2) return undefined;
  let n = 1;
  for (const d of shape.slice(1)) {
    if (typeof d !== 'number' || d < 0) return undefined;
    n *= d;
  }
  return n;
}

const fmt = (shape: (number | null)[]): string => `[${shape.map((d) => d ?? 'n').join(', ')}]`;

/**
 * Check, before any training, the shapes a VAE's networks declare (those of a `tf.LayersModel`;
 * a layer stack declares none and is checked on its first batch): the encoder outputs
 * `[n, hiddenSize]`, the decoder takes `[n, hiddenSize]`, and the decoder outputs as many values
 * per example as the encoder's (first) input takes, less `labelSize` one-hot columns for a
 * one-input conditional encoder; a two-input conditional encoder's second input takes
 * `[n, labelSize]`.
 */
export function checkNetworkShapes(
  encoder: Network,
  decoder: Network,
  hiddenSize: number,
  labelSize = 0,
): void {
  for (const [net, name] of [
    [encoder, 'encoder'],
    [decoder, 'decoder'],
  ] as const) {
    if (!Array.isArray(net) && net.outputs.length !== 1) {
      throw new ArgumentError(
        name,
        `expected a network with one output, got ${net.outputs.length} outputs${name === 'encoder' ? " (the VAE adds the mean and std heads to the encoder output itself, as MindSpore's dpn.VAE: the encoder outputs the hidden vector [n, hiddenSize])" : ''}`,
      );
    }
  }
  if (!Array.isArray(encoder)) {
    const out = encoder.outputs[0]?.shape;
    if (out !== undefined && (out.length !== 2 || (out[1] !== null && out[1] !== hiddenSize))) {
      throw new ArgumentError(
        'encoder',
        `expected the encoder to output [n, ${hiddenSize}] (hiddenSize), but it outputs ${fmt(out)}`,
      );
    }
  }
  // a VAE's encoder takes x; a conditional one x (with the labels concatenated) or [x, onehot(y)]
  const maxInputs = labelSize > 0 ? 2 : 1;
  if (!Array.isArray(encoder) && encoder.inputs.length > maxInputs) {
    throw new ArgumentError(
      'encoder',
      `expected a network with ${labelSize > 0 ? 'one input (x and the one-hot labels concatenated) or two ([x, onehot(y)])' : 'one input (x)'}, got ${encoder.inputs.length} inputs`,
    );
  }
  // a two-input conditional encoder takes [x, onehot(y)]: its second input is numClasses wide
  const cShape = Array.isArray(encoder) ? undefined : encoder.inputs[1]?.shape;
  if (
    !Array.isArray(encoder) &&
    labelSize > 0 &&
    encoder.inputs.length === 2 &&
    cShape !== undefined
  ) {
    const w = cShape[cShape.length - 1];
    if (cShape.length !== 2 || (w !== null && w !== labelSize)) {
      throw new ArgumentError(
        'encoder',
        `expected the encoder's second input to take the one-hot labels [n, ${labelSize}] (numClasses), but it takes ${fmt(cShape)}`,
      );
    }
  }
  if (Array.isArray(decoder)) return;
  const inp = decoder.inputs[0]?.shape;
  if (inp !== undefined && (inp.length !== 2 || (inp[1] !== null && inp[1] !== hiddenSize))) {
    throw new ArgumentError(
      'decoder',
      `expected the decoder to take [n, ${hiddenSize}] (hiddenSize), but it takes ${fmt(inp)}`,
    );
  }
  if (Array.isArray(encoder)) return;
  const xShape = encoder.inputs[0]?.shape;
  const outShape = decoder.outputs[0]?.shape;
  const xSize = exampleSize(xShape);
  const outSize = exampleSize(outShape);
  if (xShape === undefined || outShape === undefined || xSize === undefined) return;
  if (outSize === undefined) return;
  const oneInputConditional = labelSize > 0 && encoder.inputs.length === 1;
  const dataSize = oneInputConditional ? xSize - labelSize : xSize;
  if (outSize !== dataSize) {
    const what = oneInputConditional
      ? `the encoder input ${fmt(xShape)} less the ${labelSize} one-hot label columns: ${dataSize}`
      : `the encoder input ${fmt(xShape)}: ${dataSize}`;
    throw new ArgumentError(
      'decoder',
      `expected the decoder to output as many values per example as ${what}, but it outputs ${fmt(outShape)}: ${outSize}`,
    );
  }
}

/** Check a positive integer size. */
export function checkSize(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new ArgumentError(name, `expected an integer >= 1, got ${v}`);
  }
  return v;
}

/** A dense layer built for inputs of width `inputSize`. */
export function builtDense(inputSize: number, units: number, name: string): tf.layers.Layer {
  const d = tf.layers.dense({
    units,
    inputShape: [inputSize],
    name: `${name}_${uid++}`,
    // Glorot uniform (tfjs's default) from the deepprob seed stream: reproducible under setSeed.
    kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
  });
  tf.tidy(() => {
    d.apply(tf.zeros([1, inputSize]));
  });
  return d;
}
let uid = 0;
