/**
 * The base of the flow guides' joint latent distributions (`AutoNormalizingFlow`,
 * `AutoBNAFNormal`): `u = loc + T(ε)`, `ε ~ N(0, I_D)`, event `[D]`, any batch shape through
 * `expand` (a plate of vectorized particles draws whole batches), with
 *
 * $$\log q(u) = \log \mathcal N(\varepsilon; 0, I) - \log\lvert\det J_T(\varepsilon)\rvert.$$
 *
 * A single reparameterized draw keeps its density, so scoring the guide's own draw (what the ELBOs
 * do) never inverts `T`; a subclass says how to push `ε` forward and what the density is elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { independent, real, type Constraint } from '../../constraints/constraints.js';
import { Distribution, type DistributionOptions } from '../../distributions/distribution.js';
import { nextSeed } from '../../utils/seed.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** `log N(ε; 0, I_D)` summed over the last dim of `eps` `[..., D]`. */
export function standardNormalLogDensity(eps: tf.Tensor): tf.Tensor {
  const d = eps.shape[eps.rank - 1] as number;
  return tf.mul(-0.5, tf.add(tf.sum(tf.square(eps), -1), d * LOG_2PI));
}

/** A flow distribution over `u` `[..., D]` that keeps the density of its last single draw. */
export abstract class FlowLatentBase extends Distribution {
  private cachedU: tf.Tensor | null = null;
  private cachedLogQ: tf.Tensor | null = null;
  constructor(
    readonly dim: number,
    readonly loc: tf.Tensor,
    protected readonly batch: number[] = [],
    options: DistributionOptions = {},
  ) {
    super(options);
  }
  /** `u = loc + T(ε)` and `log q(u)` for `eps` `[..., D]`. */
  protected abstract pushForward(eps: tf.Tensor): { u: tf.Tensor; logQ: tf.Tensor };
  /** The same flow with the batch shape `batchShape`. */
  protected abstract withBatch(batchShape: number[]): FlowLatentBase;
  /** `log q(u)` at a value that is not the last single draw. */
  protected abstract logProbElsewhere(u: tf.Tensor): tf.Tensor;
  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [this.dim];
  }
  override get support(): Constraint {
    return independent(real, 1);
  }
  /** The same flow over a batch (a plate of vectorized particles): whole draws keep densities. */
  override expand(batchShape: number[]): Distribution {
    return this.withBatch([...batchShape]);
  }
  /** A draw of the batch; a single call keeps its density for `logProb`. */
  override rsample(shape: number[] = [], seed?: number): tf.Tensor {
    if (shape.length > 0) return super.rsample(shape, seed);
    const eps = tf.randomNormal([...this.batch, this.dim], 0, 1, 'float32', nextSeed(seed));
    const { u, logQ } = tf.tidy(() => this.pushForward(eps));
    eps.dispose();
    this.cachedU = u;
    this.cachedLogQ = logQ;
    return u;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const eps = tf.randomNormal([...shape, ...this.batch, this.dim], 0, 1, 'float32', seed);
    return this.pushForward(eps).u;
  }
  /** At the guide's own draw, its kept density; elsewhere {@link logProbElsewhere}. */
  protected _logProb(u: tf.Tensor): tf.Tensor {
    if (u === this.cachedU && this.cachedLogQ !== null) return this.cachedLogQ.clone();
    return this.logProbElsewhere(u);
  }
}
