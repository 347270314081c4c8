/**
 * Shared machinery of the autoguides: the prototype trace of the model (run once, hidden from
 * outer handlers by `block`), giving the names and shapes of the latent sites.
 */
import * as tf from '@tensorflow/tfjs';
import { block } from '../handlers/block.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import { ArgumentError } from '../../utils/errors.js';

/** A latent site of the model as seen by an autoguide. */
export interface LatentSpec {
  name: string;
  shape: number[];
  /** The initial location (a new tensor, kept until the guide's params exist). */
  init: tf.Tensor;
}

/** How to initialize the guide's locations: zeros, a prior draw, or a function of the site. */
export type InitLoc = 'feasible' | 'sample' | ((name: string, priorDraw: tf.Tensor) => tf.Tensor);

/** Run `model` once and describe its latent sites. */
export function latentSpecs<A extends unknown[]>(
  model: Fn<A, unknown>,
  args: A,
  initLoc: InitLoc,
): LatentSpec[] {
  const specs: LatentSpec[] = [];
  tf.tidy(() => {
    const tr = block(() => trace(model).getTraceUntidied(...args).trace)();
    for (const s of tr.latentSites()) {
      const v = s.value as tf.Tensor;
      if (s.cond.some((f) => f.subsampleSize !== f.size)) {
        throw new ArgumentError(
          'model',
          `latent site '${s.name}' is inside a subsampled plate; autoguides support only global ` +
            'latents there (write a guide with the same plate)',
        );
      }
      const init =
        initLoc === 'feasible'
          ? tf.zerosLike(v)
          : initLoc === 'sample'
            ? v.clone()
            : initLoc(s.name, v);
      specs.push({ name: s.name, shape: v.shape, init: tf.keep(tf.cast(init, 'float32')) });
    }
  });
  return specs;
}
