/**
 * The networks a deep probabilistic network is built from: a `tf.LayersModel` (e.g. a
 * `tf.sequential`) or a plain stack of `tf.layers` applied in order.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';

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
    net.dispose();
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
