/**
 * `AutoDelta` (Pyro's): a point-mass guide `q(z) = δ(z - ẑ)` with learnable `ẑ`; SVI with it
 * maximizes `log p(x, ẑ)`, i.e. finds a MAP estimate.
 */
import * as tf from '@tensorflow/tfjs';
import { Delta } from '../delta.js';
import { getParamStore } from '../param_store.js';
import { param, sample } from '../runtime.js';
import type { Fn } from '../messenger.js';
import { latentSpecs, type InitLoc, type LatentSpec } from './prototype.js';
import { ArgumentError } from '../../utils/errors.js';

/**
 * A MAP guide.
 *
 * @example
 * ```ts
 * const guide = new AutoDelta(model);
 * new SVI(model, guide, tf.train.adam(0.05), new TraceELBO()).step(data);
 * guide.median(); // the MAP estimates
 * ```
 */
export class AutoDelta<A extends unknown[]> {
  readonly prefix: string;
  private specs: LatentSpec[] | undefined;
  private readonly initLoc: InitLoc;

  constructor(
    readonly model: Fn<A, unknown>,
    options: { prefix?: string; initLoc?: InitLoc } = {},
  ) {
    this.prefix = options.prefix ?? 'AutoDelta';
    this.initLoc = options.initLoc ?? 'sample';
  }

  /** The guide: every latent site is the point mass at its parameter. */
  call(...args: A): Record<string, tf.Tensor> {
    this.specs ??= latentSpecs(this.model, args, this.initLoc);
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.specs) {
      const v = param(`${this.prefix}.${s.name}`, s.init);
      out[s.name] = sample(s.name, new Delta(v));
    }
    for (const s of this.specs) if (!s.init.isDisposed) s.init.dispose();
    return out;
  }

  /** The point estimates, new tensors by site name. */
  median(): Record<string, tf.Tensor> {
    if (this.specs === undefined) throw new ArgumentError('guide', 'call the guide first');
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.specs) out[s.name] = getParamStore().value(`${this.prefix}.${s.name}`);
    return out;
  }
}
