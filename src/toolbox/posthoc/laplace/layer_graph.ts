/**
 * A trained tfjs model seen as a program over its layer graph, whose `Dense` and `Conv2D`
 * applications are linear maps `z = lin_l(a; W_l) + b_l` followed by their activation. The graph
 * is any directed acyclic graph of layer applications (skip connections, branches, merges such as
 * `Add` / `Concatenate`, several inputs, nested models inlined at any depth, a layer or a nested
 * model applied several times), compiled once into steps in topological order from the model's
 * inbound nodes, and run by hand so that a probe `e_s` can be added to the pre-activation of every
 * application `s` of a parameter layer (a *site*): the gradient of a scalar `sum_n u_n^T f_n` with
 * respect to the probes is the per-example back-propagated signal `g_{n,s} = J_{z_s}^T u_n` (rows
 * of a batch do not interact), which is all the Gauss-Newton curvature and the Jacobian-vector
 * products of the GLM predictive need (as BackPACK / ASDL do for laplace-torch). A layer applied
 * at several sites has one set of weights: its per-example Jacobian is the sum over its sites.
 *
 * Parameters of a layer are ordered like laplace-torch's Kronecker factors: the kernel flattened
 * to `[D, U]` (`Dense`: `[in, units]`; `Conv2D`: `[kh * kw * cin, filters]` in tfjs's kernel
 * order) with the bias as the extra row `D` (`a~ = [a; 1]`).
 *
 * The program ends at the model's logits (see `head.ts`): a classifier's final softmax (or, for one
 * output, sigmoid) activation and trailing link-only layers are left out. A dilated convolution is
 * run as an undilated one with the kernel spread out by zeros (tfjs has no gradient for dilated
 * convolutions). Other layers run as tfjs runs them at inference (`training: false`, the call
 * arguments recorded in their node). The compiled graph is run by `graph_run.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import type { LaplaceLikelihood } from './curvature.js';
import { modelHead } from './head.js';

/** One `Dense` / `Conv2D` layer with a posterior (its weights, shared by all its sites). */
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
}

/** One application of a parameter layer. */
export interface ParamSite {
  /** Index of the layer in {@link LayerGraph.params}. */
  param: number;
  /** Activation applied after the linear map (`undefined`: linear, or the dropped final link). */
  activation?: tf.layers.Layer;
}

/** One layer application of the program: values are numbered slots. */
export interface GraphStep {
  layer: tf.layers.Layer;
  inputs: number[];
  outputs: number[];
  /** The call arguments recorded in the layer's node (`training` is overridden to false). */
  kwargs: Record<string, unknown>;
  /** Index in {@link LayerGraph.sites}, or -1 for a layer run as it is. */
  site: number;
}

/** A model as a program of layer applications ending at its logits / means. */
export interface LayerGraph {
  model: tf.LayersModel;
  /** Slots `0..numInputs-1` hold the model's inputs, in `model.inputs` order. */
  numInputs: number;
  numSlots: number;
  steps: GraphStep[];
  /** The slot of the logits (classification) or means (regression) `[B, K]`. */
  output: number;
  /** Outputs `K`. */
  k: number;
  params: ParamLayer[];
  /** The sites in program order. */
  sites: ParamSite[];
  /** For each parameter layer, its sites. */
  paramSites: number[][];
}

/** The fields of a tfjs node this module reads. */
interface GraphNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
  callArgs?: Record<string, unknown> | null;
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

function nodesOf(layer: tf.layers.Layer): GraphNode[] {
  return (layer as unknown as { inboundNodes?: GraphNode[] }).inboundNodes ?? [];
}

/** The {@link ParamLayer} of a trainable Dense / Conv2D (shape checks of the layer itself). */
function paramLayer(l: tf.layers.Layer): ParamLayer {
  const cfg = l.getConfig() as Record<string, unknown>;
  const kernel = l.weights[0] as tf.LayerVariable;
  const hasBias = l.weights.length > 1;
  if (l.getClassName() === 'Dense') {
    return {
      layer: l,
      kind: 'dense',
      d: kernel.shape[0] as number,
      u: kernel.shape[1] as number,
      hasBias,
    };
  }
  if (cfg.dataFormat === 'channelsFirst') {
    throw new ArgumentError('model', `Conv2D layer '${l.name}': expected channelsLast`);
  }
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  return {
    layer: l,
    kind: 'conv2d',
    d: kh * kw * cin,
    u: cout,
    hasBias,
    kernelSize: [kh, kw],
    strides: pair(cfg.strides, 'strides'),
    padding: cfg.padding === 'same' ? 'same' : 'valid',
    dilation: pair(cfg.dilationRate ?? 1, 'dilationRate'),
  };
}

/**
 * Compile `model` into a {@link LayerGraph} ending at its logits (classification) or means. With
 * `only` (the last-layer fit of a head layer applied several times), that one Dense layer is the
 * parameter layer (one site per application) and every other layer, whatever its weights, runs as
 * a fixed function of its inputs. Otherwise throws
 * an `ArgumentError` naming `model` when a layer on the way to the output has trainable weights
 * and is neither Dense / Conv2D nor a normalisation (e.g. Conv1D, DepthwiseConv2D, Embedding,
 * LSTM: their weights would silently get no posterior), when it has no Dense/Conv2D layer, uses a
 * Dense on inputs of rank > 2 or a channels-first Conv2D, or has an output `modelHead` rejects.
 */
export function layerGraph(
  model: tf.LayersModel,
  likelihood: LaplaceLikelihood,
  only?: tf.layers.Layer,
): LayerGraph {
  const head = modelHead(model, likelihood);
  const params: ParamLayer[] = [];
  const paramOf = new Map<tf.layers.Layer, number>();
  const sites: ParamSite[] = [];
  const steps: GraphStep[] = [];
  let numSlots = model.inputs.length;

  const siteOf = (layer: tf.layers.Layer, node: GraphNode, dropLink: boolean): number => {
    const cls = layer.getClassName();
    // one layer with a posterior (the last-layer fit): every other layer is a fixed function
    if (only !== undefined && layer !== only) return -1;
    if (cls !== 'Dense' && cls !== 'Conv2D') {
      if (!FIXED_WEIGHTS.has(cls) && layer.trainableWeights.length > 0) {
        throw new ArgumentError(
          'model',
          `layer '${layer.name}' (${cls}) has trainable weights that all-layers Laplace cannot put a posterior on (supported: Dense, Conv2D; normalisation layers keep their trained values); use lastLayerLaplace, or freeze the layer (layer.trainable = false) to keep its weights fixed`,
        );
      }
      return -1;
    }
    // a frozen layer (trainable = false) keeps its weights, as laplace-torch's requires_grad
    if (layer.trainableWeights.length === 0) return -1;
    const inRank = node.inputTensors[0]?.shape.length;
    if (cls === 'Dense' && inRank !== 2) {
      throw new ArgumentError(
        'model',
        `Dense layer '${layer.name}' takes rank-${String(inRank)} inputs; expected [batch, features] (add a Flatten)`,
      );
    }
    let param = paramOf.get(layer);
    if (param === undefined) {
      param = params.push(paramLayer(layer)) - 1;
      paramOf.set(layer, param);
    }
    const act = (layer.getConfig() as { activation?: unknown }).activation;
    const activation =
      typeof act === 'string' && act !== 'linear' && !dropLink
        ? tf.layers.activation({ activation: act as 'relu' })
        : undefined;
    return sites.push({ param, ...(activation !== undefined ? { activation } : {}) }) - 1;
  };

  /** A scope: symbolic tensors of one graph (the model's, or one application of a nested model). */
  const scope = (bound: Map<number, number>): ((t: tf.SymbolicTensor) => number) => {
    const memo = new Map(bound);
    const visit = (t: tf.SymbolicTensor): number => {
      const hit = memo.get(t.id);
      if (hit !== undefined) return hit;
      const layer = t.sourceLayer;
      const node = nodesOf(layer)[t.nodeIndex];
      if (node === undefined || layer.getClassName() === 'InputLayer') {
        throw new ArgumentError(
          'model',
          `the tensor '${t.name}' is not computed from the model's inputs (an input of a nested model left unconnected?)`,
        );
      }
      const ins = node.inputTensors.map(visit);
      let outs: number[];
      if (layer instanceof tf.LayersModel) {
        const inner = scope(new Map(layer.inputs.map((s, i) => [s.id, ins[i] as number])));
        outs = layer.outputs.map(inner);
      } else {
        const dropLink = head.dropActivation && t === head.output;
        outs = node.outputTensors.map(() => numSlots++);
        steps.push({
          layer,
          inputs: ins,
          outputs: outs,
          kwargs: { ...(node.callArgs ?? {}) },
          site: siteOf(layer, node, dropLink),
        });
        if (dropLink && steps[steps.length - 1]?.site === -1 && only === undefined) {
          throw new ArgumentError(
            'model',
            `expected the final ${head.binary ? 'sigmoid' : 'softmax'} on a trainable Dense or Conv2D layer or a link-only layer, got '${layer.name}' of class ${layer.getClassName()}`,
          );
        }
      }
      node.outputTensors.forEach((o, i) => memo.set(o.id, outs[i] as number));
      const slot = memo.get(t.id);
      if (slot === undefined) {
        throw new ArgumentError('model', `the tensor '${t.name}' is not an output of its node`);
      }
      return slot;
    };
    return visit;
  };

  let visit = scope(new Map(model.inputs.map((s, i) => [s.id, i])));
  for (const step of head.nesting) {
    const feeds = step.feeds.map(visit);
    visit = scope(new Map(step.nested.inputs.map((s, i) => [s.id, feeds[i] as number])));
  }
  const output = visit(head.output);
  if (params.length === 0) {
    throw new ArgumentError(
      'model',
      only === undefined
        ? 'has no Dense or Conv2D layer to put a posterior on'
        : `the layer '${only.name}' is not on the way to the model's output`,
    );
  }
  const paramSites = params.map(() => [] as number[]);
  sites.forEach((s, i) => paramSites[s.param]?.push(i));
  return {
    model,
    numInputs: model.inputs.length,
    numSlots,
    steps,
    output,
    k: head.k,
    params,
    sites,
    paramSites,
  };
}
