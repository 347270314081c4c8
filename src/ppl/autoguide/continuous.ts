/**
 * The base of the joint autoguides (Pyro's `AutoContinuous`): all latent sites are mapped to the
 * unconstrained space and concatenated into one vector `u ∈ R^D`, drawn from a joint
 * distribution `q(u)` at an auxiliary guide site; each model site then receives
 *
 * $$z_s = T_s(u_s),\qquad \log q(z) = \log q(u) - \sum_s \log\lvert\det J_{T_s}(u_s)\rvert$$
 *
 * through a point mass whose `logDensity` carries `-log|det J|` (Pyro's `Delta(log_density)`).
 * Subclasses give `q(u)` ({@link AutoContinuous.latentDistribution}) and, for the summaries, its
 * location and marginal scales ({@link AutoContinuous.locAndScale}).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { Delta } from '../../distributions/delta.js';
import { ArgumentError, NotDefinedError } from '../../utils/errors.js';
import type { Fn } from '../messenger.js';
import { sample } from '../runtime.js';
import { AutoGuide, checkNumSamples, normalQuantiles, type AutoGuideOptions } from './guide.js';
import type { LatentSpec } from './prototype.js';
import type { LatentTransform } from './latent_transform.js';

/** Slices of a flat latent vector, one per site: `[...lead, ...unconstrainedShape]` each. */
export function unpackLatent(u: tf.Tensor, specs: LatentSpec[]): tf.Tensor[] {
  const lead = u.shape.slice(0, u.rank - 1);
  const out: tf.Tensor[] = [];
  let offset = 0;
  for (const s of specs) {
    const begin = [...lead.map(() => 0), offset];
    const size = [...lead, s.size];
    // slices rather than tf.split: split's gradient fails when it has a single output
    out.push(tf.reshape(tf.slice(u, begin, size), [...lead, ...s.unconstrainedShape]));
    offset += s.size;
  }
  return out;
}

/**
 * The shape of a site's unconstrained slice of a latent draw `u` of shape `[...B, D]` drawn
 * inside batch plates (Pyro's `AutoContinuous._unpack_latent`): the batch dims `B` of the draw
 * (e.g. the plate of vectorized particles, with 1 at the model's plate dims) are aligned to the
 * right of the site's batch dims, left of its `e` unconstrained event dims:
 *
 * $$\text{shape}_s = \operatorname{broadcast}\big(\text{unconstrainedShape}_s,\ B \mathbin{\Vert} 1^{e}\big)$$
 *
 * so that a site of shape `[N]` in a plate at dim -1 gets `[P, N]` under `P` particles at dim
 * -2 (not `[P, 1, N]`). Throws naming the site when the shapes do not broadcast.
 */
export function plateAlignedShape(spec: LatentSpec, lead: readonly number[]): number[] {
  const e = spec.eventDim + spec.unconstrainedShape.length - spec.shape.length;
  const b = [...lead, ...new Array<number>(e).fill(1)];
  const a = spec.unconstrainedShape;
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ArgumentError(
        spec.name,
        `site '${spec.name}': its unconstrained shape [${a.join(',')}] does not broadcast ` +
          `against the latent draw's batch shape [${lead.join(',')}] (a batch plate, e.g. of ` +
          'vectorized particles, at a dim the site uses: give maxPlateNesting)',
      );
    }
    out.push(Math.max(x, y));
  }
  return out;
}

/** Slices of a latent draw `[...B, D]` made inside batch plates, shaped by {@link plateAlignedShape}. */
export function unpackLatentInPlates(u: tf.Tensor, specs: LatentSpec[]): tf.Tensor[] {
  const lead = u.shape.slice(0, u.rank - 1);
  const out: tf.Tensor[] = [];
  let offset = 0;
  for (const s of specs) {
    const shape = plateAlignedShape(s, lead);
    const begin = [...lead.map(() => 0), offset];
    const size = [...lead, s.size];
    out.push(tf.reshape(tf.slice(u, begin, size), shape));
    offset += s.size;
  }
  return out;
}

/** A joint guide over the concatenated unconstrained latent vector. */
export abstract class AutoContinuous<A extends unknown[]> extends AutoGuide<A> {
  constructor(
    model: Fn<A, unknown>,
    options: AutoGuideOptions,
    defaultPrefix: string,
    extraKeys: readonly string[] = [],
  ) {
    super(model, options, defaultPrefix, extraKeys);
  }

  /** Total unconstrained dimension `D`. */
  get latentDim(): number {
    return this.specs.reduce((a, s) => a + s.size, 0);
  }

  /** The initial unconstrained latent vector (concatenated site inits). */
  protected initLatent(): tf.Tensor {
    return tf.concat(this.specs.map((s) => tf.reshape(s.init, [-1])));
  }

  /** Name of the auxiliary site of the latent vector. */
  get latentSiteName(): string {
    return `_${this.prefix}_latent`;
  }

  /** `q(u)` at the current parameters (creates or reads them with `param`). */
  protected abstract latentDistribution(): Distribution;

  /** Location of `q(u)` and its marginal standard deviations, `[D]` each (new tensors). */
  abstract locAndScale(): { loc: tf.Tensor; scale: tf.Tensor };

  /** The guide: draws `u`, then each site `T_s(u_s)`. */
  call(...args: A): Record<string, tf.Tensor> {
    return this.standalone(() => {
      const specs = this.setup(args);
      const q = this.latentDistribution();
      this.releaseInits();
      const u = sample(this.latentSiteName, q, { infer: { isAuxiliary: true } });
      const parts = unpackLatentInPlates(u, specs);
      const out: Record<string, tf.Tensor> = {};
      specs.forEach((s, i) => {
        const { y, logDet } = s.bijector.forwardAndLogDet(parts[i] as tf.Tensor);
        // log|det J| per event of the site: summed over its dims right of the site's batch dims
        const k = logDet.rank - (y.rank - s.eventDim);
        const ld =
          k > 0
            ? tf.neg(
                tf.sum(
                  logDet,
                  Array.from({ length: k }, (_, j) => logDet.rank - k + j),
                ),
              )
            : tf.neg(logDet);
        out[s.name] = sample(s.name, new Delta(y, s.eventDim, { logDensity: ld }));
      });
      return out;
    });
  }

  /** `n` joint draws by site: shape `[n, ...siteShape]` (new tensors). */
  samplePosterior(n: number): Record<string, tf.Tensor> {
    checkNumSamples(n);
    const q = this.getPosterior();
    const out: Record<string, tf.Tensor> = {};
    try {
      tf.tidy(() => {
        const parts = unpackLatent(q.sample([n]), this.specs);
        this.specs.forEach((s, i) => {
          out[s.name] = tf.keep(s.bijector.forward(parts[i] as tf.Tensor));
        });
      });
    } finally {
      q.dispose();
    }
    return out;
  }

  /** Posterior medians `T_s(loc_s)` (for the Gaussian guides). */
  median(...args: A | []): Record<string, tf.Tensor> {
    this.setUpWith(args);
    if (this.specs.length === 0) return {}; // throws 'call the guide' before any call
    const { loc, scale } = this.locAndScale();
    scale.dispose();
    const out: Record<string, tf.Tensor> = {};
    try {
      tf.tidy(() => {
        const parts = unpackLatent(loc, this.specs);
        this.specs.forEach((s, i) => {
          out[s.name] = tf.keep(s.bijector.forward(parts[i] as tf.Tensor));
        });
      });
    } finally {
      loc.dispose();
    }
    return out;
  }

  /** Marginal quantiles `T_s(loc_s + sd_s * Phi^{-1}(q))`, shape `[qs.length, ...siteShape]`. */
  quantiles(qs: number[]): Record<string, tf.Tensor> {
    const z = normalQuantiles(qs);
    const { loc, scale } = this.locAndScale();
    const out: Record<string, tf.Tensor> = {};
    tf.tidy(() => {
      const u = tf.add(tf.expandDims(loc, 0), tf.mul(tf.tensor2d(z, [z.length, 1]), scale));
      const parts = unpackLatent(u, this.specs);
      this.specs.forEach((s, i) => {
        out[s.name] = tf.keep(s.bijector.forward(parts[i] as tf.Tensor));
      });
    });
    loc.dispose();
    scale.dispose();
    return out;
  }

  /**
   * The joint posterior `q(u)` over the unconstrained latent vector: a new distribution holding
   * copies of the parameters (`dispose()` it).
   */
  abstract getPosterior(): Distribution;

  /**
   * The guide as a map from a standard normal base, `u = T(z)`, `z ~ N(0, I_D)` (Pyro's
   * `get_transform`; see `latent_transform.ts`), at the current parameter values (copies: a new
   * transform, `dispose()` it). Implemented by `AutoDiagonalNormal`, `AutoMultivariateNormal`,
   * `AutoLowRankMultivariateNormal` and `AutoIAFNormal`.
   * @throws NotDefinedError for a guide without such a map (e.g. `AutoLaplaceApproximation`,
   *   whose `laplaceApproximation()` is an `AutoMultivariateNormal`).
   */
  getTransform(): LatentTransform {
    throw new NotDefinedError(
      `${this.constructor.name}: no map from a standard normal base (getTransform); ` +
        'use AutoDiagonalNormal, AutoMultivariateNormal, AutoLowRankMultivariateNormal or ' +
        'AutoIAFNormal',
    );
  }

  /**
   * The latent vector's unconstrained slices by site, for a draw `u` of shape `[..., D]` made
   * outside any plate (new tensors, `[..., ...unconstrainedShape]` each).
   */
  unpackLatent(u: tf.Tensor): Record<string, tf.Tensor> {
    const parts = unpackLatent(u, this.specs);
    const out: Record<string, tf.Tensor> = {};
    this.specs.forEach((s, i) => (out[s.name] = parts[i] as tf.Tensor));
    return out;
  }
}
