/**
 * The linearised network of the all-weights Laplace approximation ({@link AllLayersLaplace}):
 * per-layer posterior draws `theta - theta* = Q (lambda + delta)^{-1/2} z` (`Q = Q_A (x) Q_G`
 * for `kron`), Jacobian-vector products `J v = sum_l <lin_l(a_l; V_l) + v_b, d f / d z_l>` (one
 * backward pass per output) and the GLM covariance `J Sigma J^T = sum_l W_l W_l^T` with
 * `W_l = M_l (lambda + delta)^{-1/2}`, `M = Q_A^T J Q_G` (`kron`) or `M = J` (`diag`).
 */
import * as tf from '@tensorflow/tfjs';
import { type LayerGraph, type ParamLayer } from './layer_graph.js';
import {
  backprop,
  graphPass,
  graphForward,
  layerJacobian,
  linearMap,
  preActivationShapes,
} from './graph_run.js';
import { inputList, type ModelInput } from '../../../layers/model_input.js';
import { type EigenCurvature } from './posterior.js';

/** `[B, K]` rows all equal to the unit vector `e_c`. */
export function unitRows(b: number, k: number, c: number): tf.Tensor2D {
  return tf.tidy(() => tf.tile(tf.slice(tf.eye(k), [c, 0], [1, k]), [b, 1]) as tf.Tensor2D);
}

/**
 * `S` draws of `theta - theta*` per layer, as `[S, D1, U]` tensors (kernel rows, then the
 * bias row): `Q (lambda + delta)^{-1/2} z`, with `Q = Q_A (x) Q_G` for `kron`.
 */
export function sampleDeviations(
  blocks: readonly EigenCurvature[],
  deltaOf: (l: number) => number,
  s: number,
  seed: number,
): tf.Tensor3D[] {
  return blocks.map((e, l) =>
    tf.tidy(() => {
      const z = tf.randomNormal([s, e.d1, e.k], 0, 1, 'float32', (seed + 7919 * l) >>> 0);
      const scale = tf.tensor2d(
        Float32Array.from(e.lambda, (v) => 1 / Math.sqrt(v + deltaOf(l))),
        [e.d1, e.k],
      );
      const w = tf.mul(z, scale) as tf.Tensor3D;
      if (e.structure === 'diag') return w;
      const qa = tf.tensor2d(Float32Array.from(e.qa as Float64Array), [e.d1, e.d1]);
      const qg = tf.tensor2d(Float32Array.from(e.qg as Float64Array), [e.k, e.k]);
      const left = tf.matMul(tf.tile(tf.expandDims(qa, 0), [s, 1, 1]), w);
      return tf.matMul(left, tf.tile(tf.expandDims(qg, 0), [s, 1, 1]), false, true);
    }),
  );
}

/**
 * Jacobian-vector products `J(x) v` for one batch and every deviation sample: `[S, B, K]`.
 * `dev[l]` is `[S, D1, U]` as {@link sampleDeviations} returns.
 */
export function glmJvp(
  graph: LayerGraph,
  x: ModelInput,
  dev: tf.Tensor3D[],
): { mean: tf.Tensor2D; jv: tf.Tensor3D } {
  return tf.tidy(() => {
    const xs = inputList(x);
    const fwd = graphForward(graph, xs);
    const shapes = preActivationShapes(graph, fwd);
    const [b, k] = fwd.outputs.shape;
    const s = dev[0]?.shape[0] as number;
    // d f_c / d z_s for every output c, per site as [B, T*U, K]
    const perClass = Array.from({ length: k }, (_, c) =>
      backprop(graph, xs, unitRows(b, k, c), shapes),
    );
    let acc: tf.Tensor = tf.zeros([b, s, k]);
    graph.sites.forEach((site, si) => {
      const p = graph.params[site.param] as ParamLayer;
      const sig = tf.stack(
        perClass.map((g) => tf.reshape(g[si] as tf.Tensor, [b, -1])),
        2,
      ) as tf.Tensor3D;
      const v = dev[site.param] as tf.Tensor3D; // [S, D1, U]
      const kernels = tf.slice(v, [0, 0, 0], [s, p.d, p.u]);
      // lin_l(a; V_s) for all samples at once: [B, T, S, U]
      let lin: tf.Tensor;
      if (p.kind === 'dense') {
        const w = tf.reshape(tf.transpose(kernels, [1, 0, 2]), [p.d, s * p.u]);
        lin = tf.reshape(tf.matMul(fwd.inputs[si] as tf.Tensor2D, w as tf.Tensor2D), [
          b,
          1,
          s,
          p.u,
        ]);
      } else {
        const [kh, kw] = p.kernelSize as [number, number];
        const cin = p.d / (kh * kw);
        const w = tf.reshape(tf.transpose(kernels, [1, 0, 2]), [kh, kw, cin, s * p.u]);
        const out = linearMap(p, fwd.inputs[si] as tf.Tensor, w);
        lin = tf.reshape(out, [b, -1, s, p.u]);
      }
      if (p.hasBias) {
        const bias = tf.reshape(tf.slice(v, [0, p.d, 0], [s, 1, p.u]), [1, 1, s, p.u]);
        lin = tf.add(lin, bias);
      }
      const t = lin.shape[1] as number;
      const linB = tf.reshape(tf.transpose(lin, [0, 2, 1, 3]), [b, s, t * p.u]) as tf.Tensor3D;
      acc = tf.add(acc, tf.matMul(linB, sig)); // [B, S, K]
    });
    return { mean: fwd.outputs, jv: tf.transpose(acc, [1, 0, 2]) as tf.Tensor3D };
  });
}

/** `f(x; theta*)` `[B, K]` and `J Sigma J^T` `[B, K, K]` for one batch. */
export function glmMeanCov(
  graph: LayerGraph,
  blocks: readonly EigenCurvature[],
  deltaOf: (l: number) => number,
  x: ModelInput,
): { mean: tf.Tensor2D; cov: tf.Tensor3D } {
  return tf.tidy(() => {
    const xs = inputList(x);
    const { fwd, shapes, rows } = graphPass(graph, xs); // rows per site [B, T, D1]
    const [b, k] = fwd.outputs.shape;
    const perClass = Array.from({ length: k }, (_, c) =>
      backprop(graph, xs, unitRows(b, k, c), shapes),
    );
    let cov: tf.Tensor = tf.zeros([b, k, k]);
    graph.params.forEach((_, l) => {
      const e = blocks[l] as EigenCurvature;
      // per-example Jacobians of every output in this layer's parameters: [B, K, D1, U]
      const jac = tf.stack(
        perClass.map((g) => layerJacobian(graph, l, rows, g)),
        1,
      );
      let m: tf.Tensor = jac;
      if (e.structure === 'kron') {
        const qa = tf.tensor2d(Float32Array.from(e.qa as Float64Array), [e.d1, e.d1]);
        const qg = tf.tensor2d(Float32Array.from(e.qg as Float64Array), [e.k, e.k]);
        // Q_A^T J: contract the D1 axis, then J Q_G on the U axis
        const jt = tf.reshape(tf.transpose(jac, [0, 1, 3, 2]), [-1, e.d1]) as tf.Tensor2D;
        const left = tf.reshape(tf.matMul(jt, qa), [b, k, e.k, e.d1]);
        const back = tf.reshape(tf.transpose(left, [0, 1, 3, 2]), [-1, e.k]) as tf.Tensor2D;
        m = tf.reshape(tf.matMul(back, qg), [b, k, e.d1, e.k]);
      }
      const scale = tf.tensor2d(
        Float32Array.from(e.lambda, (v) => 1 / Math.sqrt(v + deltaOf(l))),
        [e.d1, e.k],
      );
      const w = tf.reshape(tf.mul(m, scale), [b, k, e.d1 * e.k]) as tf.Tensor3D;
      cov = tf.add(cov, tf.matMul(w, w, false, true));
    });
    return { mean: fwd.outputs, cov: cov as tf.Tensor3D };
  });
}
