/**
 * A functional forward pass of a sequential tfjs-layers network with substituted weights.
 *
 * `model.apply` reads the network's own variables; to run it with *sampled* weights (and let
 * gradients reach the distributions they were sampled from) Dense and Conv2D layers are evaluated
 * here from their config, `y = act(x W + b)` and `y = act(conv(x, K) + b)`, with the weights given
 * by the caller. Weightless layers (Flatten, Reshape, pooling, Activation, Dropout...) run through
 * their own `apply`.
 */
import * as tf from '@tensorflow/tfjs';
import { applyActivation, normalizeActivation } from '../../layers/activations.js';
import { ArgumentError } from '../../utils/errors.js';

/** A sequential network: a `tf.Sequential`/linear `tf.LayersModel`, or an array of layers. */
export type SequentialNet = tf.LayersModel | tf.layers.Layer[];

/** The layers of a sequential network in order (input layers skipped). */
export function layersOf(net: SequentialNet): tf.layers.Layer[] {
  const ls = Array.isArray(net) ? net : net.layers;
  return ls.filter((l) => l.getClassName() !== 'InputLayer');
}

/**
 * Check, before any sampling, that {@link forwardWith} can evaluate every layer of `net`: a layer
 * with weights must be a channels-last `Conv2D` or a `Dense` (`y = act(conv(x, K) + b)`,
 * `y = act(x W + b)`); weightless layers run through their own `apply`.
 * @throws ArgumentError naming `net` and the first layer without a functional form (e.g. a
 *   `BatchNormalization` or an `LSTM`), or the first layer of a layer array that has not been
 *   built (a layer creates its weights on its first input, so they cannot be lifted yet).
 */
export function checkFunctionalForm(net: SequentialNet): void {
  const isLayers = (a: unknown[]): boolean =>
    a.length > 0 && a.every((l) => l instanceof tf.layers.Layer);
  if (Array.isArray(net) ? !isLayers(net as unknown[]) : !(net instanceof tf.LayersModel)) {
    throw new ArgumentError('net', 'expected a tf.LayersModel or a non-empty array of tf.layers');
  }
  for (const layer of layersOf(net)) {
    if (!layer.built) {
      throw new ArgumentError(
        'net',
        `layer ${layer.name} has not been built, so its weights do not exist yet (a layer array builds on its first input): use tf.sequential with an inputShape on the first layer, or apply the network to a batch once`,
      );
    }
    if (layer.weights.length === 0) continue;
    const cls = layer.getClassName();
    if (cls === 'Dense') continue;
    if (cls === 'Conv2D' && layer.getConfig().dataFormat !== 'channelsFirst') continue;
    throw new ArgumentError(
      'net',
      cls === 'Conv2D'
        ? `layer ${layer.name}: only channelsLast Conv2D is supported`
        : `layer ${layer.name} (${cls}) has weights but no functional form; use Dense/Conv2D`,
    );
  }
}

/** A weight of a network: `key` is `layerName.kernel` or `layerName.bias`. */
export interface NamedWeight {
  key: string;
  layer: tf.layers.Layer;
  variable: tf.LayerVariable;
  shape: number[];
}

/** The weights of a sequential network keyed `layerName.weightName` (e.g. `fc1.kernel`). */
export function namedWeights(net: SequentialNet): NamedWeight[] {
  const out: NamedWeight[] = [];
  for (const layer of layersOf(net)) {
    for (const w of layer.weights) {
      const short = w.originalName.split('/').pop() as string;
      out.push({
        key: `${layer.name}.${short}`,
        layer,
        variable: w,
        shape: [...w.shape] as number[],
      });
    }
  }
  return out;
}

/** The layer's activation by its config name (the Bayesian layers' table, `layers/activations`). */
function activation(name: unknown): (x: tf.Tensor) => tf.Tensor {
  const n = normalizeActivation(typeof name === 'string' ? name : null);
  return (x) => applyActivation(n, x);
}

/**
 * Run `net` on `x` with each weight taken from `weights(key)` (falling back to the layer's own
 * variable when it returns undefined).
 *
 * @example
 * ```ts
 * const y = forwardWith(net, (key) => sampled[key], x);
 * ```
 */
export function forwardWith(
  net: SequentialNet,
  weights: (key: string) => tf.Tensor | undefined,
  x: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    let h = x;
    for (const layer of layersOf(net)) {
      const cls = layer.getClassName();
      const w = (name: string): tf.Tensor | undefined => {
        const own = layer.weights.find((v) => v.originalName.split('/').pop() === name);
        if (own === undefined) return undefined;
        return weights(`${layer.name}.${name}`) ?? own.read();
      };
      const cfg = layer.getConfig();
      if (cls === 'Dense') {
        const kernel = w('kernel') as tf.Tensor;
        const bias = w('bias');
        const flat = h.rank > 2 ? tf.reshape(h, [-1, h.shape[h.rank - 1] as number]) : h;
        let y = tf.matMul(flat, kernel);
        if (bias !== undefined) y = tf.add(y, bias);
        if (h.rank > 2) y = tf.reshape(y, [...h.shape.slice(0, -1), kernel.shape[1] as number]);
        h = activation(cfg.activation)(y);
      } else if (cls === 'Conv2D') {
        if (cfg.dataFormat === 'channelsFirst') {
          throw new ArgumentError(
            'net',
            `layer ${layer.name}: only channelsLast Conv2D is supported`,
          );
        }
        const kernel = w('kernel') as tf.Tensor4D;
        const bias = w('bias');
        const strides = cfg.strides as [number, number];
        const dil = cfg.dilationRate as number | [number, number];
        let y: tf.Tensor = tf.conv2d(
          h as tf.Tensor4D,
          kernel,
          strides,
          cfg.padding as 'same' | 'valid',
          'NHWC',
          dil,
        );
        if (bias !== undefined) y = tf.add(y, bias);
        h = activation(cfg.activation)(y);
      } else if (layer.weights.length === 0) {
        h = layer.apply(h, { training: false }) as tf.Tensor;
      } else {
        throw new ArgumentError(
          'net',
          `layer ${layer.name} (${cls}) has weights but no functional form; use Dense/Conv2D`,
        );
      }
    }
    return h;
  });
}
