/**
 * `AutoDiagonalNormal` (Pyro's): all latent sites flattened into one vector `z ∈ R^D` with
 * `q(z) = Normal(loc, diag(scale^2))`, one `loc` and one positive `scale` vector of length `D`.
 * Each site receives its slice, reshaped; the density is the same as `AutoNormal`'s, the
 * parameters are packed (convenient for covariance-free summaries of the whole posterior).
 */
import * as tf from '@tensorflow/tfjs';
import { Normal } from '../../distributions/normal.js';
import { positive } from '../constraints.js';
import { getParamStore } from '../param_store.js';
import { param, sample } from '../runtime.js';
import { AutoNormal, type AutoGuideOptions } from './auto_normal.js';
import type { Fn } from '../messenger.js';

/**
 * A diagonal Normal guide over the concatenated latent vector.
 *
 * @example
 * ```ts
 * const guide = new AutoDiagonalNormal(model);
 * ```
 */
export class AutoDiagonalNormal<A extends unknown[]> extends AutoNormal<A> {
  constructor(model: Fn<A, unknown>, options: AutoGuideOptions = {}) {
    super(model, { prefix: 'AutoDiagonalNormal', ...options });
  }

  override call(...args: A): Record<string, tf.Tensor> {
    const specs = this.setup(args);
    const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
    const d = sizes.reduce((a, b) => a + b, 0);
    const loc = param(`${this.prefix}.loc`, () =>
      tf.concat(specs.map((s) => tf.reshape(s.init, [-1]))),
    );
    const scale = param(`${this.prefix}.scale`, () => tf.fill([d], this.initScale), {
      constraint: positive,
    });
    // slices rather than tf.split: split's gradient fails when it has a single output
    const out: Record<string, tf.Tensor> = {};
    let offset = 0;
    specs.forEach((s, i) => {
      const k = sizes[i] as number;
      const q = new Normal(
        tf.reshape(tf.slice(loc, [offset], [k]), s.shape),
        tf.reshape(tf.slice(scale, [offset], [k]), s.shape),
      );
      offset += k;
      out[s.name] = sample(s.name, q);
    });
    this.releaseInits();
    return out;
  }

  override median(): Record<string, tf.Tensor> {
    return this.unpack(`${this.prefix}.loc`);
  }
  override scales(): Record<string, tf.Tensor> {
    return this.unpack(`${this.prefix}.scale`);
  }

  private unpack(name: string): Record<string, tf.Tensor> {
    const specs = this.specs ?? [];
    const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
    const v = getParamStore().value(name);
    const out: Record<string, tf.Tensor> = {};
    let offset = 0;
    specs.forEach((s, i) => {
      const k = sizes[i] as number;
      out[s.name] = tf.tidy(() => tf.reshape(tf.slice(v, [offset], [k]), s.shape));
      offset += k;
    });
    v.dispose();
    return out;
  }
}
