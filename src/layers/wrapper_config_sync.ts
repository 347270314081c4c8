/**
 * A `Bidirectional` over a Bayesian recurrent layer saves the mode and KL factor its two directions
 * run with.
 *
 * tfjs 4.22's `Bidirectional` runs two copies of the layer it was given (`forward_<name>`,
 * `backward_<name>`) but serialises that template (`getConfig` writes `this.layer.getConfig()`), so
 * `setMode(model, 'mean')` or `compileBayesian` (`klScale = beta / N`), which set the copies, were
 * lost by `model.save`: the loaded model sampled again (mean-mode predictions moved by 0.02) and
 * trained with `klScale = 1`, an `N` times larger KL. This patch of `Bidirectional.getConfig`
 * (inherited by `BidirectionalVariational`) first copies the forward direction's `mode` and
 * `klScale` to a Bayesian template, so the saved configuration is what runs:
 * `mode_template = mode_forward`, `klScale_template = klScale_forward`.
 */
import * as tf from '@tensorflow/tfjs';
import { BayesianLayer } from './bayesian_layer.js';
import { tfjsLayerClass, wrappedLayers } from './tfjs_wrappers.js';

interface WrapperProto {
  getConfig(this: tf.layers.Layer): tf.serialization.ConfigDict;
}

const MARK = Symbol.for('deepprob.wrapperConfigSync');

/**
 * Patch tfjs's `Bidirectional.prototype.getConfig` once (idempotent; a no-op where the class or
 * its prototype is not available or writable).
 */
export function installWrapperConfigSync(): void {
  let proto: WrapperProto & Record<symbol, unknown>;
  try {
    const cls = tfjsLayerClass<{ prototype: WrapperProto }>('Bidirectional');
    proto = cls.prototype as WrapperProto & Record<symbol, unknown>;
  } catch {
    return;
  }
  if (proto[MARK] === true || typeof proto.getConfig !== 'function') return;
  const stock = proto.getConfig;
  const synced = function (this: tf.layers.Layer): tf.serialization.ConfigDict {
    const template = (this as unknown as { layer?: unknown }).layer;
    const forward = wrappedLayers(this)[0];
    if (
      template instanceof BayesianLayer &&
      forward instanceof BayesianLayer &&
      template !== forward
    ) {
      template.mode = forward.mode;
      template.klScale = forward.klScale;
    }
    return stock.call(this);
  };
  try {
    proto.getConfig = synced;
    proto[MARK] = true;
  } catch {
    // a frozen prototype: keep tfjs's config
  }
}
