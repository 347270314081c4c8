/**
 * Running a compiled {@link LayerGraph} by hand: the forward pass with probes added to the
 * Dense/Conv2D pre-activations, the per-example back-propagated signals `(d f_n / d z_{n,s})^T u_n`
 * of one backward pass, and each parameter layer's per-example Jacobian
 * `J = sum_s sum_t a~_{s,t} g_{s,t}^T` from its sites' input rows (image patches for a Conv2D,
 * a ones column for the bias) and signals.
 */
import * as tf from '@tensorflow/tfjs';
import { dilateKernel } from '../../../layers/conv_variational.js';
import { ArgumentError } from '../../../utils/errors.js';
import type { LayerGraph, ParamLayer, ParamSite } from './layer_graph.js';

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

/** Forward record: the outputs, each site's input `a_s`. */
export interface GraphForward {
  outputs: tf.Tensor2D;
  inputs: tf.Tensor[];
}

/**
 * Run the program in inference mode on `x` (one tensor per model input), adding `probes[s]` (when
 * given) to the pre-activation of site `s`. Call inside a tidy / gradient scope.
 */
export function graphForward(g: LayerGraph, x: tf.Tensor[], probes?: tf.Tensor[]): GraphForward {
  const vals: tf.Tensor[] = new Array<tf.Tensor>(g.numSlots);
  x.forEach((t, i) => (vals[i] = t));
  const inputs: tf.Tensor[] = new Array<tf.Tensor>(g.sites.length);
  for (const st of g.steps) {
    const ins = st.inputs.map((s) => vals[s] as tf.Tensor);
    if (st.site < 0) {
      const out = st.layer.apply(ins.length === 1 ? (ins[0] as tf.Tensor) : ins, {
        ...st.kwargs,
        training: false,
      }) as tf.Tensor | tf.Tensor[];
      const list = Array.isArray(out) ? out : [out];
      st.outputs.forEach((s, i) => (vals[s] = list[i] as tf.Tensor));
      continue;
    }
    const site = g.sites[st.site] as ParamSite;
    const p = g.params[site.param] as ParamLayer;
    const a = ins[0] as tf.Tensor;
    inputs[st.site] = a;
    const w = p.layer.trainableWeights.map((v) => v.read());
    let z = linearMap(p, a, w[0] as tf.Tensor);
    if (p.hasBias) z = tf.add(z, w[1] as tf.Tensor);
    if (probes !== undefined) z = tf.add(z, probes[st.site] as tf.Tensor);
    vals[st.outputs[0] as number] =
      site.activation !== undefined ? (site.activation.apply(z) as tf.Tensor) : z;
  }
  const h = vals[g.output] as tf.Tensor;
  if (h.rank !== 2) {
    throw new ArgumentError('model', `expected outputs [batch, K], got rank ${h.rank}`);
  }
  return { outputs: h as tf.Tensor2D, inputs };
}

/** Pre-activation shapes of every site for a batch (from a forward pass). */
export function preActivationShapes(g: LayerGraph, fwd: GraphForward): number[][] {
  return g.sites.map((s, i) =>
    tf.tidy(() => {
      const p = g.params[s.param] as ParamLayer;
      const w = p.layer.trainableWeights[0]?.read() as tf.Tensor;
      return linearMap(p, fwd.inputs[i] as tf.Tensor, w).shape;
    }),
  );
}

/**
 * Per-example back-propagated signals `g_{n,s} = (d f_n / d z_{n,s})^T u_n` for every site, for a
 * batch of output cotangents `u` `[B, K]` (one backward pass).
 */
export function backprop(
  g: LayerGraph,
  x: tf.Tensor[],
  u: tf.Tensor2D,
  shapes: number[][],
): tf.Tensor[] {
  const probes = shapes.map((s) => tf.zeros(s));
  const f = (...ps: tf.Tensor[]): tf.Scalar =>
    tf.sum(tf.mul(graphForward(g, x, ps).outputs, u)) as tf.Scalar;
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

/** What the GGN needs of one forward pass: the record, the pre-activation shapes, each site's rows. */
export interface GraphPass {
  /** The outputs and each site's input `a_s`. */
  fwd: GraphForward;
  /** The pre-activation shape of each site (for {@link backprop}). */
  shapes: number[][];
  /** Each site's input rows `a~_s` `[B, T, D1]` ({@link augmentedRows} of its layer). */
  rows: tf.Tensor3D[];
}

/**
 * One forward pass of the layer graph on `x` (one tensor per model input) with what the GGN
 * `sum_n J_n^T Lambda_n J_n` needs, `J_n = sum_s a~_{n,s} g_{n,s}^T`: the outputs, the sites'
 * pre-activation shapes (for the backward passes giving `g`) and the sites' rows `a~_s`. Call
 * inside a tidy.
 */
export function graphPass(g: LayerGraph, x: tf.Tensor[]): GraphPass {
  const fwd = graphForward(g, x);
  const shapes = preActivationShapes(g, fwd);
  const rows = g.sites.map((site, s) =>
    augmentedRows(g.params[site.param] as ParamLayer, fwd.inputs[s] as tf.Tensor),
  );
  return { fwd, shapes, rows };
}

/** Back-propagated signals as rows `[B, T, U]`. */
export function signalRows(g: tf.Tensor, u: number): tf.Tensor3D {
  return tf.reshape(g, [g.shape[0] as number, -1, u]) as tf.Tensor3D;
}

/**
 * Per-example Jacobians of one parameter layer from its sites' input rows and signals:
 * `J = sum_s sum_t a~_{s,t} g_{s,t}^T`, `[B, D1, U]`.
 */
export function layerJacobian(
  g: LayerGraph,
  l: number,
  rows: tf.Tensor3D[],
  signals: tf.Tensor[],
): tf.Tensor3D {
  const p = g.params[l] as ParamLayer;
  return tf.tidy(
    () =>
      (g.paramSites[l] as number[])
        .map((s) =>
          tf.matMul(rows[s] as tf.Tensor3D, signalRows(signals[s] as tf.Tensor, p.u), true),
        )
        .reduce((acc, j) => tf.add(acc, j)) as tf.Tensor3D,
  );
}
