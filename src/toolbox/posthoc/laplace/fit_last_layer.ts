/**
 * Fitting the last-layer Laplace approximation: the GGN of the model's last (linear) Dense layer
 * summed over the training data, its eigendecomposition, `log p(D | theta_MAP)` and
 * `||theta_MAP||^2` for the marginal likelihood (see `last_layer.ts` for the posterior).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkInputs, checkPriorPrecision, checkTargets, type LaplaceTargets } from './checks.js';
import {
  accumulateCurvature,
  emptyCurvature,
  type HessianStructure,
  type LaplaceLikelihood,
} from './curvature.js';
import { modelHead, type ModelHead } from './head.js';
import {
  LastLayerLaplace,
  denseLogits,
  type FeatureMap,
  type LaplaceOptions,
} from './last_layer.js';
import { batchLogLikelihood, outputLikelihood } from './likelihood.js';
import { eigenCurvature } from './posterior.js';
import { inputList, sliceInputs, type ModelInput } from '../../../layers/model_input.js';
import { lambdaFactors } from './fit_all_layers.js';
import { resolveFitOptions } from './fit_options.js';
import { layerGraph, type ParamLayer } from './layer_graph.js';
import { backprop, graphPass, layerJacobian, signalRows } from './graph_run.js';

function inboundNodes(layer: tf.layers.Layer): { inputTensors: tf.SymbolicTensor[] }[] {
  return (
    (layer as unknown as { inboundNodes?: { inputTensors: tf.SymbolicTensor[] }[] }).inboundNodes ??
    []
  );
}

/**
 * The layers with weights nearest the output when the output is made by layers without weights
 * (`Add`, `Average`, `Concatenate`, activations, ...): found by walking back from the output
 * through such layers, into nested models (a `Sequential` head applied to several branches) from
 * their outputs; the last-layer fit needs exactly one, a Dense.
 */
function nearestWeightedLayer(t0: tf.SymbolicTensor): tf.layers.Layer[] {
  const found = new Set<tf.layers.Layer>();
  const seen = new Set<number>();
  const stack = [t0];
  while (stack.length > 0) {
    const t = stack.pop() as tf.SymbolicTensor;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    const l = t.sourceLayer;
    if (l.getClassName() === 'InputLayer') continue;
    if (l instanceof tf.LayersModel) {
      // a nested model (applied once or several times): its own graph, from its outputs
      stack.push(...l.outputs);
      continue;
    }
    if (l.weights.length > 0) {
      found.add(l);
      continue;
    }
    stack.push(...(inboundNodes(l)[t.nodeIndex]?.inputTensors ?? []));
  }
  return [...found];
}

/**
 * The Dense layer that makes the model's logits / means (see `head.ts`; inside a nested model at
 * the output, at any depth): linear, or with a softmax (sigmoid for one output) activation
 * (ignored) for classification, on inputs `[batch, features]`. `shared` when it is applied
 * several times, or when the output is made from its applications by layers without weights
 * (`Add`, `Average`, `Concatenate`, ...): the fit then runs the model's layer graph with the
 * Dense's applications as sites (see `fitShared`).
 */
function lastDense(
  model: tf.LayersModel,
  likelihood: LaplaceLikelihood,
): { layer: tf.layers.Layer; head: ModelHead; shared: boolean } {
  const head = modelHead(model, likelihood);
  const { dropActivation } = head;
  const layer = head.layer;
  if (layer.getClassName() !== 'Dense' && layer.weights.length === 0) {
    const near = nearestWeightedLayer(head.output);
    if (near.length === 1 && near[0]?.getClassName() === 'Dense') {
      const dense = near[0];
      if (dense.trainableWeights.length === 0) {
        throw new ArgumentError(
          'model',
          `expected the last Dense layer '${dense.name}' to be trainable (trainable = false keeps its weights fixed)`,
        );
      }
      return { layer: dense, head, shared: true };
    }
    throw new ArgumentError(
      'model',
      `expected the output to come from a Dense layer (the layer Laplace acts on), got '${layer.name}' of class ${layer.getClassName()}${near.length === 0 ? '' : ` made from ${near.map((l) => `'${l.name}' (${l.getClassName()})`).join(', ')}: expected one Dense layer nearest the output`}`,
    );
  }
  if (layer.getClassName() !== 'Dense') {
    throw new ArgumentError(
      'model',
      `expected the output to come from a Dense layer (the layer Laplace acts on), got '${layer.name}' of class ${layer.getClassName()}`,
    );
  }
  const act = (layer.getConfig() as { activation?: string }).activation;
  if (!dropActivation && act !== undefined && act !== 'linear') {
    throw new ArgumentError(
      'model',
      `expected the last Dense layer '${layer.name}' to output ${likelihood === 'classification' ? `logits (activation 'linear' or '${head.binary ? 'sigmoid' : 'softmax'}')` : "means (activation 'linear')"}, got '${act}'`,
    );
  }
  // applied several times, itself or through a nested model applied several times at the output
  if (inboundNodes(layer).length !== 1 || head.nesting.some((st) => st.uses > 1)) {
    return { layer, head, shared: true };
  }
  const inShape = (layer.input as tf.SymbolicTensor).shape;
  if (inShape.length !== 2) {
    throw new ArgumentError(
      'model',
      `the last Dense layer '${layer.name}' takes rank-${inShape.length} inputs; expected [batch, features] (add a Flatten)`,
    );
  }
  return { layer, head, shared: false };
}

/**
 * The feature map `phi(x)`: the model up to the input of the head's Dense layer. Through nested
 * models it is the composition of each container's graph up to the nested model's input, then
 * the innermost graph up to the Dense's input (as laplace-torch's `FeatureExtractor` hooks the
 * input of the last `Linear` at any depth).
 */
function featureMap(model: tf.LayersModel, head: ModelHead): FeatureMap {
  const stages = head.nesting.map((s) =>
    tf.model({ inputs: s.container.inputs, outputs: s.feeds }),
  );
  stages.push(
    tf.model({ inputs: head.owner.inputs, outputs: head.layer.input as tf.SymbolicTensor }),
  );
  return (x) =>
    tf.tidy(() =>
      stages.reduce<ModelInput>((h, m) => m.apply(h, { training: false }) as tf.Tensor, x),
    ) as tf.Tensor;
}

/**
 * Fit a last-layer Laplace approximation to a trained model: sum the GGN of the last Dense layer
 * over the training data (in batches), eigendecompose it, and record `log p(D | theta_MAP)` and
 * `||theta_MAP||^2` for the marginal likelihood.
 *
 * A classifier may end in a softmax (the last Dense's `activation: 'softmax'`, or a trailing
 * `Softmax` / `Activation('softmax')` layer): the approximation is then over the logits `z` before
 * it (`p = softmax(z)`), which is what the model computes, so its predictions are unchanged. A
 * classifier with one output (a sigmoid, or one raw logit `z`) is binary: Bernoulli likelihood
 * `p(y = 1) = sigmoid(z)`, GGN `Lambda = p (1 - p)`, labels in `{0, 1}`, class probabilities
 * `[1 - p, p]`. The last Dense may sit inside a nested model at the output (a `Sequential` head
 * in a functional model), found at any depth as laplace-torch's `FeatureExtractor` finds the last
 * `Linear`. The last Dense may be applied several times (weight sharing) or reach the output
 * through layers without weights (`Add`, `Average`, `Concatenate`): its GGN is then summed over
 * its applications (`diag` / `full` exact, `kron` KFAC-expand; see `fitShared`).
 *
 * @param model trained single-output `tf.LayersModel` (one input, or several: `x` is then an array
 *   of tensors) whose output comes from a
 *   `Dense` layer on `[batch, features]`: linear (logits or means) or, for classification, softmax
 *   (`K >= 2`) or sigmoid (one unit; a multi-unit sigmoid head is rejected).
 * @param x training inputs `[N, ...]` shaped like the model's input, all finite.
 * @param y labels: `N` integers in `[0, K)` (classification; `{0, 1}` for one output) or one-hot
 *   rows `[N, K]`, or finite targets `[N, K]` (regression; a tensor, flat or an array of rows).
 * @throws ArgumentError naming the argument, before any work, on a model or input it cannot use.
 * @param options `likelihood`, `hessianStructure`, `priorPrecision`, `sigmaNoise`, `batchSize`.
 * @example
 * ```ts
 * const la = toolbox.lastLayerLaplace(net, xTrain, yTrain, { hessianStructure: 'kron' });
 * la.optimizePriorPrecision();
 * const probs = la.predictProbs(xTest);          // probit GLM predictive
 * ```
 */
export function lastLayerLaplace(
  model: tf.LayersModel,
  x: ModelInput,
  y: LaplaceTargets,
  options: LaplaceOptions = {},
): LastLayerLaplace {
  const o = resolveFitOptions<HessianStructure>(options, {
    what: 'lastLayerLaplace',
    batchSize: 256,
    structures: ['diag', 'kron', 'full'],
    expectedStructure: 'expected diag, kron or full',
  });
  const { layer, head, shared } = lastDense(model, o.likelihood);
  const numParams = layer.getWeights().reduce((s, w) => s + w.size, 0);
  checkPriorPrecision(o.priorPrecision, 1, numParams, o.hessianStructure);
  if (shared) return fitShared(model, layer, x, y, o);
  const n = checkInputs(model, x, { finite: true, minRows: 1 });
  const weights = layer.getWeights();
  const kernel = weights[0] as tf.Tensor;
  const d = kernel.shape[0] as number;
  const k = kernel.shape[1] as number;
  const d1 = weights.length > 1 ? d + 1 : d;
  const lik = outputLikelihood(o.likelihood, k);
  const yHost = checkTargets(y, n, lik === 'bernoulli' ? 2 : k, o.likelihood);
  const thetaSq = weights.reduce(
    (s, w) => s + (tf.tidy(() => tf.sum(tf.square(w)).dataSync()[0]) as number),
    0,
  );
  const features = featureMap(model, head);
  const sums = emptyCurvature(o.hessianStructure, d1, k);
  let logLik = 0;
  for (let i = 0; i < n; i += o.batchSize) {
    const size = Math.min(o.batchSize, n - i);
    logLik += tf.tidy(() => {
      const xb = sliceInputs(x, i, size);
      const f = tf.reshape(features(xb), [size, -1]) as tf.Tensor2D;
      const phi = (d1 > d ? tf.concat([f, tf.ones([size, 1])], 1) : f) as tf.Tensor2D;
      const out = denseLogits(layer, f);
      accumulateCurvature(sums, phi, out, lik, o.sigmaNoise);
      const yb = yHost.subarray(
        i * (o.likelihood === 'classification' ? 1 : k),
        (i + size) * (o.likelihood === 'classification' ? 1 : k),
      );
      return batchLogLikelihood(out, yb, lik, o.sigmaNoise);
    });
  }
  const eig = eigenCurvature(sums);
  return new LastLayerLaplace({
    model,
    features,
    layer,
    eig,
    thetaSq,
    n,
    logLikelihood: logLik,
    outputLikelihood: lik,
    options: o,
  });
}

/**
 * The last-layer fit of a Dense layer applied several times (weight sharing), or whose
 * applications reach the output through layers without weights (`Add`, `Concatenate`, ...):
 * the model runs as its layer graph (`layer_graph.ts`) with the Dense's applications `s` as sites
 * and every other layer fixed, and the per-example Jacobian of the outputs in the Dense's
 * parameters `theta = [W; b]` `[D1, U]` is the sum over its applications,
 *
 * $$J_n = \sum_s \tilde a_{n,s}\, g_{n,s}^T,\qquad g_{n,s} = \Big(\frac{\partial f_n}{\partial z_{n,s}}\Big)^T u ,$$
 *
 * (`a~_{n,s}` the input of application `s` with a one appended for the bias, `z_{n,s}` its
 * pre-activation, `u` an output cotangent). With cotangents `u_{n,c}`,
 * `sum_c u_{n,c} u_{n,c}^T = Lambda_n`, the GGN `H = sum_n J_n^T Lambda_n J_n` is then summed
 * exactly for `diag` (`sum_{n,c} (J_n^T u_{n,c})^2`) and `full`
 * (`sum_{n,c} vec(J_n^T u_{n,c}) vec(J_n^T u_{n,c})^T`), as ASDL sums a shared module's
 * contributions for laplace-torch. `kron` is KFAC-expand (Eschenhagen et al. 2023): the `R`
 * applications are treated as more positions of the same weight, as the positions of a
 * convolution (KFC) and the layers applied several times of the all-layers fit,
 *
 * $$H \approx \frac{1}{NR}\Big(\sum_{n,s} \tilde a_{n,s}\tilde a_{n,s}^T\Big) \otimes
 *   \Big(\sum_{n,s,c} g_{n,s,c}\, g_{n,s,c}^T\Big) ,$$
 *
 * exact for one application and in the `expand` setting (applications feeding separate outputs,
 * as a convolution's positions). It is the rule the all-layers fit applies to a layer used several
 * times and KFC to a convolution, so every `kron` block of a shared weight means the same thing;
 * KFAC-reduce (inputs averaged and signals summed over the applications) would instead be exact
 * when the applications are summed into one output of a linear network (`Add([d(x1), d(x2)])`),
 * where `full` or `diag` give the exact block.
 */
function fitShared(
  model: tf.LayersModel,
  layer: tf.layers.Layer,
  x: ModelInput,
  y: LaplaceTargets,
  o: Required<LaplaceOptions>,
): LastLayerLaplace {
  const g = layerGraph(model, o.likelihood, layer);
  const n = checkInputs(model, x, { finite: true, minRows: 1 });
  const k = g.k;
  const p = g.params[0] as ParamLayer;
  const d1 = p.d + (p.hasBias ? 1 : 0);
  const lik = outputLikelihood(o.likelihood, k);
  const yHost = checkTargets(y, n, lik === 'bernoulli' ? 2 : k, o.likelihood);
  const weights = layer.getWeights();
  const thetaSq = weights.reduce(
    (s, w) => s + (tf.tidy(() => tf.sum(tf.square(w)).dataSync()[0]) as number),
    0,
  );
  const sums = emptyCurvature(o.hessianStructure, d1, p.u);
  let positions = 0;
  let logLik = 0;
  const per = o.likelihood === 'classification' ? 1 : k;
  for (let i = 0; i < n; i += o.batchSize) {
    const size = Math.min(o.batchSize, n - i);
    tf.tidy(() => {
      const xb = inputList(sliceInputs(x, i, size));
      const { fwd, shapes, rows } = graphPass(g, xb);
      if (o.hessianStructure === 'kron') {
        for (const r of rows) {
          const flat = tf.reshape(r, [-1, d1]) as tf.Tensor2D;
          addInto(sums.a, tf.matMul(flat, flat, true, false));
          positions += flat.shape[0];
        }
      }
      for (const u of lambdaFactors(fwd.outputs, lik, o.sigmaNoise)) {
        const gs = backprop(g, xb, u, shapes);
        if (o.hessianStructure === 'kron') {
          for (const s of g.paramSites[0] as number[]) {
            const flat = tf.reshape(signalRows(gs[s] as tf.Tensor, p.u), [-1, p.u]) as tf.Tensor2D;
            addInto(sums.g as Float64Array, tf.matMul(flat, flat, true));
          }
          continue;
        }
        // J_n^T u_n summed over the applications: [B, D1 * U]
        const jac = tf.reshape(layerJacobian(g, 0, rows, gs), [size, d1 * p.u]) as tf.Tensor2D;
        addInto(
          sums.a,
          o.hessianStructure === 'diag' ? tf.sum(tf.square(jac), 0) : tf.matMul(jac, jac, true),
        );
      }
      logLik += batchLogLikelihood(
        fwd.outputs,
        yHost.subarray(i * per, (i + size) * per),
        lik,
        o.sigmaNoise,
      );
    });
  }
  sums.n = o.hessianStructure === 'kron' ? positions : n;
  return new LastLayerLaplace({
    model,
    graph: g,
    layer,
    eig: eigenCurvature(sums),
    thetaSq,
    n,
    logLikelihood: logLik,
    outputLikelihood: lik,
    options: o,
  });
}

function addInto(target: Float64Array, t: tf.Tensor): void {
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) target[i] = (target[i] as number) + (v[i] as number);
}
