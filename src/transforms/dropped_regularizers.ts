/**
 * What a DNN -> BNN conversion leaves out of a converted layer: its weight regularizers and
 * constraints (`kernelRegularizer`, `biasRegularizer`, `recurrentRegularizer`,
 * `depthwiseRegularizer`, ..., and the matching `*Constraint`s). The Bayesian layer's prior takes
 * their place: an `l2(lambda)` kernel regularizer is the MAP form of the Gaussian prior
 * `N(0, 1/(2 lambda))`, and the KL term `KL(q(w) || p(w))` of `WithBNNLoss` plays its part, so
 * they are dropped (as MindSpore's `TransformToBNN` does) but, unlike MindSpore, said once.
 * (An `activityRegularizer` never reaches a conversion: tfjs 4.22 refuses to apply a layer that
 * has one, so no model holding one can be built; one found in a config is reported alike.)
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvertedLayer } from './conversion_types.js';

/** A converted layer and the regularizer / constraint options it had. */
export interface DroppedOptions {
  /** The layer's path (`outer/inner` inside a nested model). */
  path: string;
  /** The dropped option names (camelCase, as `getConfig()` gives them). */
  options: string[];
}

/** Set regularizer / constraint keys of a layer config, recursing into a wrapper's `layer`. */
function regularizerKeys(config: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (/(Regularizer|Constraint)$/.test(key) && value !== null && value !== undefined) {
      out.push(key);
    }
  }
  const inner = config.layer as { config?: Record<string, unknown> } | undefined;
  if (inner !== null && typeof inner === 'object' && typeof inner.config === 'object') {
    for (const k of regularizerKeys(inner.config)) if (!out.includes(k)) out.push(k);
  }
  return out;
}

/** The DNN layer at `path` (`outer/inner`), or undefined (a layer the conversion inserted). */
function layerAt(model: tf.LayersModel, path: string): tf.layers.Layer | undefined {
  let current: tf.layers.Layer = model;
  for (const part of path.split('/')) {
    if (!(current instanceof tf.LayersModel)) return undefined;
    const next: tf.layers.Layer | undefined = current.layers.find((l) => l.name === part);
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

/**
 * The regularizers and constraints of the DNN layers that were converted, one entry per layer
 * that had any (model order).
 */
export function droppedOptions(
  dnn: tf.LayersModel,
  converted: readonly ConvertedLayer[],
): DroppedOptions[] {
  const out: DroppedOptions[] = [];
  for (const c of converted) {
    const layer = layerAt(dnn, c.path);
    if (layer === undefined) continue;
    const keys = regularizerKeys(layer.getConfig() as Record<string, unknown>);
    if (keys.length > 0) out.push({ path: c.path, options: keys });
  }
  return out;
}

/**
 * The one warning of a conversion that dropped regularizers or constraints (`undefined` for none):
 * `deepprob: warning: ...` naming each layer and its options, saying the prior replaces them and
 * how to silence it (`quiet: true`).
 */
export function droppedWarning(dropped: readonly DroppedOptions[]): string | undefined {
  if (dropped.length === 0) return undefined;
  const list = dropped.map((d) => `'${d.path}' (${d.options.join(', ')})`).join(', ');
  return (
    `deepprob: warning: transformToBnn dropped the regularizers/constraints of ${dropped.length} ` +
    `converted layer(s): ${list}. The Bayesian layers' prior replaces them (the KL term of ` +
    'WithBNNLoss regularises the weights; an l2(lambda) kernel regularizer corresponds to the ' +
    'prior N(0, 1/(2 lambda)): set priorSigma via addDenseArgs / addConvArgs to match). ' +
    'Pass quiet: true to silence this warning.'
  );
}
