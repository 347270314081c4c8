/**
 * A model's losses count each Bayesian layer's KL once, however often the layer is applied.
 *
 * tfjs-layers 4.22 collects a model's losses (`Container.calculateLosses`, which `model.fit` adds to
 * every batch's data loss) once per *application* of each layer: a layer shared by two branches (a
 * siamese net, a tied encoder) or a nested model applied twice has its losses summed twice. For a
 * weight penalty that only rescales it, but a Bayesian layer's loss is `klScale KL(q || p)` of
 * one set of weights, and the per-example ELBO has it once:
 *
 * $$\mathcal L = \frac{1}{|B|}\sum_{i \in B} -\log p(y_i \mid x_i, w) + \frac{\beta}{N}
 *   \sum_{\text{layers } l} \mathrm{KL}(q_l \,\|\, p_l),$$
 *
 * each distinct layer `l` once (as `modelKL` and the loss cells count it, and as Keras's
 * `Model.losses` lists each layer once). This patch of `Container.calculateLosses` adds the losses
 * of a layer that holds Bayesian weights (a Bayesian layer, a wrapper over one, a nested model with
 * one) once per outermost loss computation, also across nested models; every other layer keeps
 * tfjs's count (once per application). A wrapper's Bayesian layers are reached through
 * `bayesianLayers` (`wrappedLayers`): tfjs's own `tf.layers.bidirectional` over a Bayesian LSTM
 * reports the losses of the template layer it copied (none), so its two directions' KL is taken
 * from the copies it runs.
 */
import * as tf from '@tensorflow/tfjs';
import { bayesianLayers } from './model_utils.js';

interface ContainerLike {
  layers: tf.layers.Layer[];
  containerNodes: Set<string>;
  calculateLosses(): tf.Scalar[];
}

const MARK = Symbol.for('deepprob.sharedLayerLosses');

/** The layers already counted in the loss computation under way (null between computations). */
let counted: Set<tf.layers.Layer> | null = null;

/** How many applications of `layer` belong to this container (tfjs's node keys). */
function applications(container: ContainerLike, layer: tf.layers.Layer): number {
  let n = 0;
  for (let i = 0; i < layer.inboundNodes.length; i++) {
    if (container.containerNodes.has(`${layer.name}_ib-${i}`)) n += 1;
  }
  return n;
}

/**
 * Patch tfjs's `Container.calculateLosses` once (idempotent; a no-op where the prototype is not
 * writable) so that layers holding Bayesian weights add their losses once per model loss.
 */
export function installSharedLayerLosses(): void {
  const proto = Object.getPrototypeOf(tf.LayersModel.prototype) as ContainerLike &
    Record<symbol, unknown>;
  if (proto[MARK] === true || typeof proto.calculateLosses !== 'function') return;
  const patched = function (this: ContainerLike): tf.Scalar[] {
    const outermost = counted === null;
    if (outermost) counted = new Set();
    const seen = counted as Set<tf.layers.Layer>;
    try {
      return tf.tidy(() => {
        const losses: tf.Scalar[] = [];
        for (const layer of this.layers) {
          const n = applications(this, layer);
          if (n === 0) continue;
          const bayesian = bayesianLayers(layer);
          if (layer instanceof tf.LayersModel && bayesian.length > 0) {
            // a nested model: its own (patched) count, once
            if (seen.has(layer)) continue;
            seen.add(layer);
            losses.push(...layer.calculateLosses());
          } else if (bayesian.length > 0) {
            // a Bayesian layer or a wrapper running some: each Bayesian layer's KL once (tfjs's
            // Bidirectional reports the losses of the unbuilt layer it copied, none)
            for (const b of bayesian) {
              if (seen.has(b)) continue;
              seen.add(b);
              losses.push(...b.calculateLosses());
            }
          } else {
            for (let k = 0; k < n; k++) losses.push(...layer.calculateLosses());
          }
        }
        return losses;
      });
    } finally {
      if (outermost) counted = null;
    }
  };
  try {
    proto.calculateLosses = patched;
    proto[MARK] = true;
  } catch {
    // a frozen prototype: keep tfjs's count
  }
}
