/**
 * `NeuTraReparam(guide)` (Pyro's and NumPyro's; neural transport, Hoffman et al. 2019): after an
 * `AutoContinuous` guide `q` is fitted to a model by SVI, the model's latent sites are all drawn
 * from one standard-normal-shaped latent `z` through the guide's map `u = T(z)` (its
 * `getTransform`), so that MCMC samples `z`, where the posterior is close to `N(0, I)` when the
 * guide fits well (a funnel or a banana straightened out):
 *
 * $$z \in \mathbb R^D,\quad u = T(z),\quad x_s = B_s(u_s),\qquad
 *   \log p_Z(z) = \log p\big(x(z)\big) + \sum_s \log\lvert\det J_{B_s}(u_s)\rvert
 *   + \log\lvert\det J_T(z)\rvert,$$
 *
 * `B_s = bijectTo(support_s)` and `u_s` site `s`'s slice of `u` (in the guide's site order). In the
 * model's trace the first latent site draws `<name>_shared_latent` (an improper flat site, drawn
 * once for the model outside its plates), a `<name>_shared_latent_log_det` factor carries
 * `log|det J_T(z)|`, and each latent site becomes `Delta(x_s, {logDensity: log p(x_s) + log|det
 * J_{B_s}|})`, which MCMC records with its draws; `transformSample(z)` maps draws of `z` to the
 * model's sites (Pyro's `transform_sample`).
 *
 * The guide's parameters are copied when the reparameterizer is made (NumPyro's rule; Pyro reads
 * them on every run): train the guide first, `dispose()` the reparameterizer when done.
 */
import * as tf from '@tensorflow/tfjs';
import { Normal } from '../../../distributions/normal.js';
import { bijectTo } from '../../../distributions/transform_to.js';
import { ArgumentError, NotDefinedError } from '../../../utils/errors.js';
import { sumRightmost } from '../../../utils/tensor.js';
import { AutoContinuous, unpackLatentInPlates } from '../../autoguide/continuous.js';
import type { LatentTransform } from '../../autoguide/latent_transform.js';
import type { LatentSpec } from '../../autoguide/prototype.js';
import { Delta } from '../../../distributions/delta.js';
import type { Fn } from '../../messenger.js';
import { sample, type Message } from '../../runtime.js';
import { Unit } from '../../unit.js';
import { reparam, type Reparam, type ReparamMessage } from '../reparam.js';
import { checkLatent } from './wrappers.js';

/**
 * Reparameterize all latent sites of a model by a trained `AutoContinuous` guide.
 *
 * @example
 * ```ts
 * const guide = new AutoIAFNormal(model);
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * for (let i = 0; i < 2000; i++) svi.step();
 * const neutra = new NeuTraReparam(guide);
 * const mcmc = new MCMC(new NUTS(neutra.reparam(model)), { numSamples: 1000 });
 * mcmc.run();
 * const z = mcmc.getSamples()[neutra.sharedLatentName];
 * const draws = neutra.transformSample(z); // {siteName: [1000, ...siteShape]}
 * ```
 */
export class NeuTraReparam<G extends unknown[] = unknown[]> implements Reparam {
  /** The guide whose map is used. */
  readonly guide: AutoContinuous<G>;
  private transform: LatentTransform | null;
  private readonly specs: LatentSpec[];
  private readonly names: Set<string>;
  private readonly plateNames: string[];
  /** Unconstrained values of the sites not yet reached in the current run. */
  private readonly pending = new Map<string, tf.Tensor>();

  /**
   * @param guide an `AutoContinuous` guide already fitted to the model (`AutoMultivariateNormal`,
   *   `AutoDiagonalNormal`, `AutoLowRankMultivariateNormal`, `AutoIAFNormal`).
   * @throws ArgumentError naming `guide` for another guide, one never run (no parameters) or one
   *   without a map from a standard normal base.
   */
  constructor(guide: AutoContinuous<G>) {
    if (!(guide instanceof AutoContinuous)) {
      const got =
        guide === null || typeof guide !== 'object'
          ? String(guide)
          : (guide as object).constructor.name;
      throw new ArgumentError(
        'guide',
        `NeuTraReparam: expected an AutoContinuous guide (AutoMultivariateNormal, ` +
          `AutoDiagonalNormal, AutoLowRankMultivariateNormal, AutoIAFNormal), got ${got}`,
      );
    }
    const g = guide;
    let specs: LatentSpec[];
    try {
      specs = g.specs;
    } catch {
      throw new ArgumentError(
        'guide',
        `NeuTraReparam: the ${g.constructor.name} has not been run: fit it to the model with ` +
          'SVI first (its parameters define the transport map)',
      );
    }
    try {
      this.transform = g.getTransform();
    } catch (e) {
      if (e instanceof NotDefinedError) {
        throw new ArgumentError('guide', `NeuTraReparam: ${e.message}`);
      }
      throw new ArgumentError(
        'guide',
        `NeuTraReparam: could not read the ${g.constructor.name}'s parameters (fit it with SVI ` +
          `first; was the param store cleared?): ${(e as Error).message}`,
      );
    }
    this.guide = g;
    this.specs = specs;
    this.names = new Set(specs.map((s) => s.name));
    this.plateNames = [...new Set(specs.flatMap((s) => s.cond.map((f) => f.name)))];
  }

  /** The latent dimension `D` of `z`. */
  get dim(): number {
    return this.live().dim;
  }

  /** The name of the shared latent site (after the guide's first site, as Pyro names it). */
  get sharedLatentName(): string {
    return `${(this.specs[0] as LatentSpec).name}_shared_latent`;
  }

  private live(): LatentTransform {
    if (this.transform === null) {
      throw new ArgumentError('NeuTraReparam', 'this reparameterizer has been disposed');
    }
    return this.transform;
  }

  /**
   * The model with every latent site of the guide reparameterized (Pyro's `neutra.reparam(model)`).
   * @param model the model the guide was fitted to.
   */
  reparam<A extends unknown[], R>(model: Fn<A, R>): Fn<A, R> {
    return reparam(model, (msg: Message) =>
      this.names.has(msg.name) && !msg.isObserved ? this : null,
    );
  }

  /** Draw `z` (at the first latent site of a run) and push it through the guide's map. */
  private drawShared(first: string): void {
    const t = this.live();
    this.pending.clear();
    const block = { infer: { _noReparam: true, _blockPlates: this.plateNames } };
    const base = new Normal(tf.zeros([t.dim]), 1).toEvent(1).mask(false);
    const z = sample(`${first}_shared_latent`, base, block);
    const { u, logDet } = t.forwardAndLogDet(z);
    sample(`${first}_shared_latent_log_det`, new Unit(logDet), {
      ...block,
      obs: tf.zeros(logDet.shape),
    });
    const parts = unpackLatentInPlates(u, this.specs);
    this.specs.forEach((s, i) => this.pending.set(s.name, parts[i] as tf.Tensor));
  }

  apply(msg: ReparamMessage): ReparamMessage {
    if (!this.names.has(msg.name)) return msg;
    checkLatent(msg, 'NeuTraReparam');
    if (!this.pending.has(msg.name)) this.drawShared(msg.name);
    const u = this.pending.get(msg.name) as tf.Tensor;
    this.pending.delete(msg.name);
    const eventDim = msg.fn.eventShape.length;
    const { y, logDet } = bijectTo(msg.fn.support).forwardAndLogDet(u);
    const k = logDet.rank - (y.rank - eventDim);
    const ld = sumRightmost(logDet, k);
    const logDensity = tf.add(msg.fn.logProb(y), ld);
    return {
      name: msg.name,
      fn: new Delta(y, eventDim, { logDensity }),
      value: y,
      isObserved: true,
    };
  }

  /**
   * Map draws of the shared latent `z` (shape `[..., D]`, e.g. MCMC's samples of
   * {@link NeuTraReparam.sharedLatentName}) to the model's latent sites (Pyro's
   * `transform_sample`): `{site: [..., ...siteShape]}`, new tensors.
   */
  transformSample(latent: tf.Tensor): Record<string, tf.Tensor> {
    const t = this.live();
    if (!(latent instanceof tf.Tensor) || latent.rank < 1 || latent.shape.at(-1) !== t.dim) {
      const got = latent instanceof tf.Tensor ? `[${latent.shape.join(',')}]` : String(latent);
      throw new ArgumentError('latent', `expected a tensor of shape [..., ${t.dim}], got ${got}`);
    }
    const out: Record<string, tf.Tensor> = {};
    tf.tidy(() => {
      const { u } = t.forwardAndLogDet(latent);
      const lead = u.shape.slice(0, -1);
      let offset = 0;
      for (const s of this.specs) {
        const part = tf.reshape(tf.slice(u, [...lead.map(() => 0), offset], [...lead, s.size]), [
          ...lead,
          ...s.unconstrainedShape,
        ]);
        offset += s.size;
        out[s.name] = tf.keep(bijectTo(s.support).forward(part));
      }
    });
    return out;
  }

  /** Free the copy of the guide's parameters. */
  dispose(): void {
    this.transform?.dispose();
    this.transform = null;
    this.pending.clear();
  }
}
