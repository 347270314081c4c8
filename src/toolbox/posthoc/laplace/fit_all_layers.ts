/**
 * Fitting the all-weights Laplace approximation: per-layer GGN blocks (`diag`: the exact
 * diagonal; `kron`: KFAC factors `A` and `G`) summed over the training data in batches, from the
 * layer inputs and the back-propagated signals of the output cotangents `u_{n,c}` with
 * `sum_c u_{n,c} u_{n,c}^T = Lambda_n` (see `all_layers.ts` for the posterior).
 */
import * as tf from '@tensorflow/tfjs';
import {
  AllLayersLaplace,
  type AllLayersLaplaceOptions,
  type AllLayersStructure,
} from './all_layers.js';
import { unitRows } from './glm_jacobian.js';
import { checkInputs, checkPriorPrecision, checkTargets, type LaplaceTargets } from './checks.js';
import { emptyCurvature } from './curvature.js';
import { batchLogLikelihood, outputLikelihood, type OutputLikelihood } from './likelihood.js';
import { resolveFitOptions } from './fit_options.js';
import { layerGraph } from './layer_graph.js';
import { backprop, graphPass, layerJacobian, signalRows } from './graph_run.js';
import { inputList, sliceInputs, type ModelInput } from '../../../layers/model_input.js';
import { eigenCurvature } from './posterior.js';

function addInto(target: Float64Array, t: tf.Tensor): void {
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) target[i] = (target[i] as number) + (v[i] as number);
}

/**
 * Output cotangents `u_c` `[B, K]` whose outer products sum to `Lambda_n`,
 * `sum_c u_{n,c} u_{n,c}^T = Lambda_n` (Gaussian: `e_c / sigma`; Bernoulli: `sqrt(p (1 - p))`;
 * softmax: `sqrt(p_c) (e_c - p)`).
 */
export function lambdaFactors(
  out: tf.Tensor2D,
  lik: OutputLikelihood,
  sigmaNoise: number,
): tf.Tensor2D[] {
  const [b, k] = out.shape;
  if (lik === 'gaussian') {
    return Array.from({ length: k }, (_, c) =>
      tf.tidy(() => tf.mul(unitRows(b, k, c), 1 / sigmaNoise) as tf.Tensor2D),
    );
  }
  if (lik === 'bernoulli') {
    // one logit: Lambda = p (1 - p) = u^2
    return [
      tf.tidy(() => tf.sqrt(tf.mul(tf.sigmoid(out), tf.sigmoid(tf.neg(out)))) as tf.Tensor2D),
    ];
  }
  return tf.tidy(() => {
    const p = tf.softmax(out);
    return Array.from({ length: k }, (_, c) => {
      const e = unitRows(b, k, c);
      const pc = tf.slice(p, [0, c], [b, 1]);
      return tf.mul(tf.sqrt(pc), tf.sub(e, p)) as tf.Tensor2D;
    });
  });
}

/**
 * Fit a Laplace approximation over all Dense and Conv2D weights of a trained model
 * (laplace-torch's `Laplace(model, likelihood, subset_of_weights='all', hessian_structure=...)`)
 * whose graph is any DAG of layer applications (skip connections, branches, merges, several
 * inputs, nested models at any depth; see `layer_graph.ts`). A layer applied several times has one
 * posterior (its per-example Jacobian summed over its applications; `kron` treats the applications
 * as more positions). Batch / layer normalisation and frozen layers (`trainable = false`) keep
 * their trained values; any other trainable layer (Conv1D, Embedding, LSTM, ...) is refused naming
 * it. A classifier may end in a softmax (the last layer's `activation: 'softmax'`, or a trailing
 * `Softmax` / `Activation('softmax')` layer): the approximation is then over the logits `z` before
 * it (`p = softmax(z)`), so its predictions and `logLikelihood` are those of the model.
 *
 * @param model trained single-output `tf.LayersModel` ending in logits / means `[N, K]` (or a
 *   softmax, for classification), or a binary classifier with one output (a sigmoid or one raw
 *   logit: Bernoulli likelihood, labels in `{0, 1}`; a multi-unit sigmoid head is rejected).
 *   Conv2D layers may be strided or dilated, channels last.
 * @param x training inputs `[N, ...]` shaped like the model's input, all finite; for a model with
 *   several inputs an array of one tensor per input (`model.inputs` order).
 * @param y `N` integer labels in `[0, K)` (`{0, 1}` for a binary head) or one-hot rows `[N, K]`,
 *   or finite targets `[N, K]` (a tensor, flat or an array of rows).
 * @throws ArgumentError naming the argument, before any work, on a model or input it cannot use.
 * @param options `likelihood`, `hessianStructure` (`kron` | `diag`), `priorPrecision`,
 *   `sigmaNoise`, `batchSize`.
 * @example
 * ```ts
 * const la = toolbox.allLayersLaplace(net, xTrain, yTrain, { hessianStructure: 'kron' });
 * la.optimizePriorPrecision();
 * const probs = la.sampleProbs(xTest, 30); // [30, N, K], GLM predictive
 * ```
 */
export function allLayersLaplace(
  model: tf.LayersModel,
  x: ModelInput,
  y: LaplaceTargets,
  options: AllLayersLaplaceOptions = {},
): AllLayersLaplace {
  const o = resolveFitOptions<AllLayersStructure>(options, {
    what: 'allLayersLaplace',
    batchSize: 128,
    structures: ['diag', 'kron'],
    expectedStructure:
      "expected 'diag' or 'kron' over all layers ('full' is for the last layer only)",
  });
  const g = layerGraph(model, o.likelihood);
  checkPriorPrecision(
    o.priorPrecision,
    g.params.length,
    g.params.reduce((s, p) => s + (p.d + (p.hasBias ? 1 : 0)) * p.u, 0),
    o.hessianStructure,
  );
  const n = checkInputs(model, x, { finite: true, minRows: 1 });
  const k = g.k;
  const lik = outputLikelihood(o.likelihood, k);
  const yHost = checkTargets(y, n, lik === 'bernoulli' ? 2 : k, o.likelihood);
  const sums = g.params.map((p) =>
    emptyCurvature(o.hessianStructure, p.d + (p.hasBias ? 1 : 0), p.u),
  );
  const positions = g.params.map(() => 0);
  const thetaSq = g.params.reduce(
    (s, p) =>
      s +
      tf.tidy(() =>
        p.layer.trainableWeights.reduce(
          (a, w) => a + (tf.sum(tf.square(w.read())).dataSync()[0] as number),
          0,
        ),
      ),
    0,
  );
  let logLik = 0;
  for (let i = 0; i < n; i += o.batchSize) {
    const size = Math.min(o.batchSize, n - i);
    tf.tidy(() => {
      const xb = inputList(sliceInputs(x, i, size));
      // per site: the layer input rows [B, T, D1]
      const { fwd, shapes, rows } = graphPass(g, xb);
      if (o.hessianStructure === 'kron') {
        // KFAC over the sites of a layer applied several times: their rows are more positions
        g.sites.forEach((site, s) => {
          const r = rows[s] as tf.Tensor3D;
          const flat = tf.reshape(r, [-1, r.shape[2]]) as tf.Tensor2D;
          addInto((sums[site.param] as { a: Float64Array }).a, tf.matMul(flat, flat, true, false));
          positions[site.param] = (positions[site.param] as number) + flat.shape[0];
        });
      }
      for (const u of lambdaFactors(fwd.outputs, lik, o.sigmaNoise)) {
        const gs = backprop(g, xb, u, shapes);
        g.params.forEach((p, l) => {
          const s = sums[l] as { a: Float64Array; g?: Float64Array };
          if (o.hessianStructure === 'diag') {
            // per-example Jacobian [B, D1, U], summed over the layer's sites
            addInto(s.a, tf.sum(tf.square(layerJacobian(g, l, rows, gs)), 0));
          } else {
            for (const site of g.paramSites[l] as number[]) {
              const flat = tf.reshape(signalRows(gs[site] as tf.Tensor, p.u), [-1, p.u]);
              addInto(
                s.g as Float64Array,
                tf.matMul(flat as tf.Tensor2D, flat as tf.Tensor2D, true),
              );
            }
          }
        });
      }
      const yb = yHost.subarray(
        i * (o.likelihood === 'classification' ? 1 : k),
        (i + size) * (o.likelihood === 'classification' ? 1 : k),
      );
      logLik += batchLogLikelihood(fwd.outputs, yb, lik, o.sigmaNoise);
    });
  }
  const eigs = sums.map((s, l) => {
    // kron: the eigenvalues are lambda^A lambda^G / n with n = N T (rows summed into A)
    s.n = o.hessianStructure === 'kron' ? (positions[l] as number) : n;
    return eigenCurvature(s);
  });
  return new AllLayersLaplace({
    graph: g,
    eigs,
    thetaSq,
    n,
    logLikelihood: logLik,
    outputLikelihood: lik,
    options: o,
  });
}
