/**
 * A trained tfjs model seen as a chain of layers whose `Dense` and `Conv2D` layers are linear maps
 * `z_l = lin_l(a_l; W_l) + b_l` followed by their activation. The chain is run by hand so that a
 * probe `e_l` can be added to every pre-activation: the gradient of a scalar `sum_n u_n^T f_n`
 * with respect to the probes is the per-example back-propagated signal `g_{n,l} = J_{z_l}^T u_n`
 * (rows of a batch do not interact), which is all the Gauss-Newton curvature and the Jacobian-
 * vector products of the GLM predictive need (as BackPACK / ASDL do for laplace-torch).
 *
 * Parameters of a layer are ordered like laplace-torch's Kronecker factors: the kernel flattened
 * to `[D, U]` (`Dense`: `[in, units]`; `Conv2D`: `[kh * kw * cin, filters]` in tfjs's kernel
 * order) with the bias as the extra row `D` (`a~ = [a; 1]`).
 *
 * The chain ends at the model's logits (see `head.ts`): a classifier's final softmax (or, for one
 * output, sigmoid) activation and trailing link-only layers are left out. A dilated convolution is run as an undilated one
 * with the kernel spread out by zeros (tfjs has no gradient for dilated convolutions).
 */
import * as tf from '@tensorflow/tfjs';
import { dilateKernel } from '../../../layers/conv_variational.js';
import { ArgumentError } from '../../../utils/errors.js';
import type { LaplaceLikelihood } from './curvature.js';
import { modelHead } from './head.js';

/** One `Dense` / `Conv2D` layer of the chain. */
export interface ParamLayer {
  layer: tf.layers.Layer;
  kind: 'dense' | 'conv2d';
  /** Rows of the flattened kernel `D` (without the bias row). */
  d: number;
  /** Output units / filters `U`. */
  u: number;
  hasBias: boolean;
  /** Conv2D geometry (channels last). */
  kernelSize?: [number, number];
  strides?: [number, number];
  padding?: 'valid' | 'same';
  dilation?: [number, number];
  /** Activation applied after the linear map (`undefined`: linear). */
  activation?: tf.layers.Layer;
}

/** A model as a chain: every layer in order, and the parameter layers among them. */
export interface LayerChain {
  model: tf.LayersModel;
  /** The layers run, in order (without a classifier's trailing link-only layers). */
  layers: tf.layers.Layer[];
  /** Outputs `K` of the chain. */
  k: number;
  /** For each entry of `layers`: its index in `params`, or -1. */
  paramIndex: number[];
  params: ParamLayer[];
}

/**
 * Layers whose trainable weights stay at their trained values (a normalisation's scale and offset,
 * as laplace-torch's curvature backends leave them); any other layer with trainable weights that
 * is not Dense / Conv2D is refused rather than silently left out of "all" weights.
 */
const FIXED_WEIGHTS = new Set(['BatchNormalization', 'LayerNormalization']);

function pair(v: unknown, name: string): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || !a.every((x) => Number.isInteger(x))) {
    throw new ArgumentError(
      'model',
      `layer option ${name}: expected an integer pair, got ${String(v)}`,
    );
  }
  return a as [number, number];
}

/**
 * Describe `model` as a {@link LayerChain} ending at its logits (classification) or means. Throws
 * an `ArgumentError` naming `model` when it is not a single chain (each layer fed by the previous
 * one), nests a model, has a trainable layer other than Dense / Conv2D / a normalisation (e.g.
 * Conv1D, DepthwiseConv2D, Embedding, LSTM: their weights would silently get no posterior), has
 * no Dense/Conv2D layer, uses a Dense on inputs of rank > 2 or a channels-first Conv2D,
 * or has an output `modelHead` rejects.
 */
export function layerChain(model: tf.LayersModel, likelihood: LaplaceLikelihood): LayerChain {
  const head = modelHead(model, likelihood);
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  layers.forEach((l, i) => {
    if (l instanceof tf.LayersModel) {
      throw new ArgumentError(
        'model',
        `expected a flat chain of layers, got the nested model '${l.name}' (${l.getClassName()}); rebuild the model with its layers inline, or use lastLayerLaplace`,
      );
    }
    const cls = l.getClassName();
    if (
      !['Dense', 'Conv2D'].includes(cls) &&
      !FIXED_WEIGHTS.has(cls) &&
      l.trainableWeights.length > 0
    ) {
      throw new ArgumentError(
        'model',
        `layer '${l.name}' (${cls}) has trainable weights that all-layers Laplace cannot put a posterior on (supported: Dense, Conv2D; normalisation layers keep their trained values); use lastLayerLaplace, or freeze the layer (layer.trainable = false) to keep its weights fixed`,
      );
    }
    const nodes = (l as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] })
      .inboundNodes;
    const prev = nodes?.[0]?.inboundLayers ?? [];
    const expected = i === 0 ? undefined : layers[i - 1];
    if (
      nodes === undefined ||
      nodes.length !== 1 ||
      prev.length !== 1 ||
      (expected !== undefined && prev[0] !== expected)
    ) {
      throw new ArgumentError(
        'model',
        `expected a single chain of layers (layer '${l.name}' is not fed by the previous one only)`,
      );
    }
  });
  const run = layers.filter((l) => !head.skipped.has(l));
  const last = run[run.length - 1];
  if (
    head.dropActivation &&
    (last !== head.layer || !['Dense', 'Conv2D'].includes(head.layer.getClassName()))
  ) {
    throw new ArgumentError(
      'model',
      `expected the final ${head.binary ? 'sigmoid' : 'softmax'} on a Dense or Conv2D layer or a link-only layer, got '${head.layer.name}' of class ${head.layer.getClassName()}`,
    );
  }
  const params: ParamLayer[] = [];
  const paramIndex = run.map((l) => {
    const cls = l.getClassName();
    // a frozen layer (trainable = false) keeps its weights, as laplace-torch's requires_grad
    if ((cls !== 'Dense' && cls !== 'Conv2D') || l.trainableWeights.length === 0) return -1;
    const cfg = l.getConfig() as Record<string, unknown>;
    const w = l.getWeights();
    const kernel = w[0] as tf.Tensor;
    const act =
      typeof cfg.activation === 'string' && !(head.dropActivation && l === head.layer)
        ? cfg.activation
        : 'linear';
    const activation =
      act === 'linear' ? undefined : tf.layers.activation({ activation: act as 'relu' });
    const hasBias = w.length > 1;
    if (cls === 'Dense') {
      const inShape = (l.input as tf.SymbolicTensor).shape;
      if (inShape.length !== 2) {
        throw new ArgumentError(
          'model',
          `Dense layer '${l.name}' takes rank-${inShape.length} inputs; expected [batch, features] (add a Flatten)`,
        );
      }
      params.push({
        layer: l,
        kind: 'dense',
        d: kernel.shape[0] as number,
        u: kernel.shape[1] as number,
        hasBias,
        ...(activation !== undefined ? { activation } : {}),
      });
    } else {
      if (cfg.dataFormat === 'channelsFirst') {
        throw new ArgumentError('model', `Conv2D layer '${l.name}': expected channelsLast`);
      }
      const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
      params.push({
        layer: l,
        kind: 'conv2d',
        d: kh * kw * cin,
        u: cout,
        hasBias,
        kernelSize: [kh, kw],
        strides: pair(cfg.strides, 'strides'),
        padding: cfg.padding === 'same' ? 'same' : 'valid',
        dilation: pair(cfg.dilationRate ?? 1, 'dilationRate'),
        ...(activation !== undefined ? { activation } : {}),
      });
    }
    return params.length - 1;
  });
  if (params.length === 0) {
    throw new ArgumentError('model', 'has no Dense or Conv2D layer to put a posterior on');
  }
  return { model, layers: run, k: head.k, paramIndex, params };
}

/** `lin_l(a; W)` without the bias: matMul or conv2d with the layer's geometry. */
export function linearMap(p: ParamLayer, a: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
  if (p.kind === 'dense') return tf.matMul(a as tf.Tensor2D, kernel as tf.Tensor2D);
  return tf.tidy(() =>
    tf.conv2d(
      a as tf.Tensor4D,
      dilateKernel(kernel as tf.Tensor4D, ...(p.dilation as [number, number])),
      p.strides as [number, number],
      p.padding as 'valid' | 'same',
      'NHWC',
    ),
  );
}

/** Forward record: the outputs, each parameter layer's input `a_l`. */
export interface ChainForward {
  outputs: tf.Tensor2D;
  inputs: tf.Tensor[];
}

/**
 * Run the chain in inference mode, adding `probes[l]` (when given) to the pre-activation of
 * parameter layer `l`. Call inside a tidy / gradient scope.
 */
export function chainForward(chain: LayerChain, x: tf.Tensor, probes?: tf.Tensor[]): ChainForward {
  let h = x;
  const inputs: tf.Tensor[] = [];
  chain.layers.forEach((layer, i) => {
    const pi = chain.paramIndex[i] as number;
    if (pi < 0) {
      h = layer.apply(h, { training: false }) as tf.Tensor;
      return;
    }
    const p = chain.params[pi] as ParamLayer;
    inputs.push(h);
    const w = layer.trainableWeights.map((v) => v.read());
    let z = linearMap(p, h, w[0] as tf.Tensor);
    if (p.hasBias) z = tf.add(z, w[1] as tf.Tensor);
    if (probes !== undefined) z = tf.add(z, probes[pi] as tf.Tensor);
    h = p.activation !== undefined ? (p.activation.apply(z) as tf.Tensor) : z;
  });
  if (h.rank !== 2) {
    throw new ArgumentError('model', `expected outputs [batch, K], got rank ${h.rank}`);
  }
  return { outputs: h as tf.Tensor2D, inputs };
}

/** Pre-activation shapes of every parameter layer for a batch (from a forward pass). */
export function preActivationShapes(chain: LayerChain, fwd: ChainForward): number[][] {
  return chain.params.map((p, i) =>
    tf.tidy(() => {
      const w = p.layer.trainableWeights[0]?.read() as tf.Tensor;
      return linearMap(p, fwd.inputs[i] as tf.Tensor, w).shape;
    }),
  );
}

/**
 * Per-example back-propagated signals `g_{n,l} = (d f_n / d z_{n,l})^T u_n` for every parameter
 * layer, for a batch of output cotangents `u` `[B, K]` (one backward pass).
 */
export function backprop(
  chain: LayerChain,
  x: tf.Tensor,
  u: tf.Tensor2D,
  shapes: number[][],
): tf.Tensor[] {
  const probes = shapes.map((s) => tf.zeros(s));
  const f = (...ps: tf.Tensor[]): tf.Scalar =>
    tf.sum(tf.mul(chainForward(chain, x, ps).outputs, u)) as tf.Scalar;
  try {
    return tf.grads(f)(probes);
  } finally {
    tf.dispose(probes);
  }
}

/**
 * Image patches of a Conv2D input in the kernel's row order `(i, j, c)`: `[B, T, kh * kw * cin]`
 * with `T = Ho * Wo` output positions (a convolution with a one-hot kernel, so strides, padding
 * and dilation are exactly the layer's).
 */
export function convPatches(p: ParamLayer, a: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const [kh, kw] = p.kernelSize as [number, number];
    const cin = a.shape[3];
    const eye = tf.reshape(tf.eye(kh * kw * cin), [kh, kw, cin, kh * kw * cin]);
    const patches = linearMap(p, a, eye);
    const [b, ho, wo, d] = patches.shape as [number, number, number, number];
    return tf.reshape(patches, [b, ho * wo, d]) as tf.Tensor3D;
  });
}

/** Layer inputs as rows `[B, T, D1]` (T = 1 for Dense), with a ones column when the layer has a bias. */
export function augmentedRows(p: ParamLayer, a: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const rows =
      p.kind === 'dense' ? tf.expandDims(a, 1) : (convPatches(p, a as tf.Tensor4D) as tf.Tensor);
    if (!p.hasBias) return rows as tf.Tensor3D;
    const [b, t] = rows.shape as [number, number, number];
    return tf.concat([rows, tf.ones([b, t, 1])], 2) as tf.Tensor3D;
  });
}

/** Back-propagated signals as rows `[B, T, U]`. */
export function signalRows(g: tf.Tensor, u: number): tf.Tensor3D {
  return tf.reshape(g, [g.shape[0] as number, -1, u]) as tf.Tensor3D;
}
