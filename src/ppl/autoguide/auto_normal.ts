/**
 * `AutoNormal`: a mean-field Normal guide built from the model (Pyro's `AutoNormal`): for every
 * latent site `z` of the model, `q(z) = Normal(loc_z, scale_z)` with learnable `loc_z` and
 * `scale_z = softplus(u_z) > 0`.
 */
import * as tf from '@tensorflow/tfjs';
import { Normal } from '../../distributions/normal.js';
import { ArgumentError } from '../../utils/errors.js';
import { positive } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param, sample } from '../runtime.js';
import { latentSpecs, type InitLoc, type LatentSpec } from './prototype.js';

/** Options of the autoguides. */
export interface AutoGuideOptions {
  /** Prefix of the guide's parameter names. */
  prefix?: string;
  /** Initial scale of the Normal guides. Default 0.1 (as Pyro). */
  initScale?: number;
  /** Initial locations: `'feasible'` (zeros, default), `'sample'` (a prior draw) or a function. */
  initLoc?: InitLoc;
}

/**
 * A mean-field Normal guide over the model's real-valued latent sites.
 *
 * @example
 * ```ts
 * const guide = new AutoNormal(model);
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceMeanFieldELBO());
 * svi.step(data);
 * guide.median(); // {siteName: loc}
 * ```
 */
export class AutoNormal<A extends unknown[]> {
  readonly prefix: string;
  readonly initScale: number;
  protected specs: LatentSpec[] | undefined;

  constructor(
    readonly model: Fn<A, unknown>,
    options: AutoGuideOptions = {},
  ) {
    this.prefix = options.prefix ?? 'AutoNormal';
    this.initScale = options.initScale ?? 0.1;
    if (!(this.initScale > 0)) {
      throw new ArgumentError('initScale', `expected a number > 0, got ${this.initScale}`);
    }
    this.initLoc = options.initLoc ?? 'feasible';
  }
  private readonly initLoc: InitLoc;

  /** Discover the latent sites on first call. */
  protected setup(args: A): LatentSpec[] {
    if (this.specs === undefined) this.specs = latentSpecs(this.model, args, this.initLoc);
    return this.specs;
  }

  /** Name of the location parameter of site `name`. */
  locName(name: string): string {
    return `${this.prefix}.locs.${name}`;
  }
  /** Name of the scale parameter of site `name`. */
  scaleName(name: string): string {
    return `${this.prefix}.scales.${name}`;
  }

  /** The guide: samples every latent site from its Normal. */
  call(...args: A): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.setup(args)) {
      const loc = param(this.locName(s.name), s.init);
      const scale = param(this.scaleName(s.name), () => tf.fill(s.shape, this.initScale), {
        constraint: positive,
      });
      out[s.name] = sample(s.name, new Normal(loc, scale));
    }
    this.releaseInits();
    return out;
  }

  /** Posterior medians (the locations), new tensors by site name. */
  median(): Record<string, tf.Tensor> {
    return this.collect((n) => getParamStore().value(this.locName(n)));
  }

  /** Posterior scales, new tensors by site name. */
  scales(): Record<string, tf.Tensor> {
    return this.collect((n) => getParamStore().value(this.scaleName(n)));
  }

  protected collect(f: (name: string) => tf.Tensor): Record<string, tf.Tensor> {
    if (this.specs === undefined) throw new ArgumentError('guide', 'call the guide first');
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.specs) out[s.name] = f(s.name);
    return out;
  }

  /** Initial values are needed only until the parameters exist. */
  protected releaseInits(): void {
    for (const s of this.specs ?? []) if (!s.init.isDisposed) s.init.dispose();
  }
}
