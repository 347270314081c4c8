/**
 * What the flow guides (`AutoNormalizingFlow`, `AutoBNAFNormal`) share: their joint latent
 * distribution `u = loc + T(ε)`, `ε ~ N(0, I_D)`, event `[D]`, any batch shape through
 * `expand` (a plate of vectorized particles draws whole batches), with
 *
 * $$\log q(u) = \log \mathcal N(\varepsilon; 0, I) - \log\lvert\det J_T(\varepsilon)\rvert,$$
 *
 * its map from the base `z ↦ loc + T(z)` ({@link FlowLatentTransform}, for NeuTra), the copies of
 * the current parameters both are made of ({@link copyFlowParams}) and the Monte Carlo summaries
 * ({@link monteCarloLocAndScale}).
 *
 * A single reparameterized draw keeps its density, so scoring the guide's own draw (what the ELBOs
 * do) never inverts `T`; a subclass says how to push `ε` forward and what the density is elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { independent, real, type Constraint } from '../../constraints/constraints.js';
import { Distribution, type DistributionOptions } from '../../distributions/distribution.js';
import { nextSeed } from '../../utils/seed.js';
import { getParamStore } from '../param_store.js';
import type { LatentTransform } from './latent_transform.js';

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
  /** What this instance owns besides its own tensors (see {@link owning}). */
  private release: (() => void) | undefined = undefined;
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
  /**
   * This flow, made the owner of what `release` frees (its transform, its parameter copies):
   * `dispose()` frees them after its own tensors. Flows made from it by `expand` own nothing.
   */
  owning(release: () => void): this {
    this.release = release;
    return this;
  }
  override dispose(): void {
    super.dispose();
    this.release?.();
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
    this.cachedLogQ?.dispose(); // the previous draw's density (a copy is what logProb returns)
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

/**
 * `z ↦ u = loc + T(z)` with `log|det J| = log|det J_T(z)|` (`T` given by `push`, which returns
 * `T(z)` and its log-det summed to `[...]`); owns what `release` frees.
 */
export class FlowLatentTransform implements LatentTransform {
  constructor(
    readonly dim: number,
    private readonly push: (z: tf.Tensor) => { y: tf.Tensor; logDet: tf.Tensor },
    private readonly loc: tf.Tensor,
    private readonly release: () => void,
  ) {}
  forwardAndLogDet(z: tf.Tensor): { u: tf.Tensor; logDet: tf.Tensor } {
    return tf.tidy(() => {
      const { y, logDet } = this.push(z);
      return { u: tf.add(this.loc, y), logDet };
    });
  }
  dispose(): void {
    this.release();
  }
}

/**
 * Copies of a flow guide's current `loc` (param `locName`) and of the parameters `build` reads
 * (kept: the caller frees `copies`; on a throw they are freed here).
 * @param build makes the flow from a reader of copies of the named parameters.
 */
export function copyFlowParams<T>(
  locName: string,
  build: (read: (name: string) => tf.Tensor) => T,
): { flow: T; loc: tf.Tensor; copies: tf.Tensor[] } {
  const store = getParamStore();
  const copies: tf.Tensor[] = [];
  const copy = (n: string): tf.Tensor => {
    const v = store.value(n);
    copies.push(v);
    return v;
  };
  try {
    const loc = copy(locName);
    const flow = build(copy);
    return { flow, loc, copies };
  } catch (e) {
    tf.dispose(copies);
    throw e;
  }
}

/**
 * Monte Carlo mean and sd of `q` from 4000 draws (`q` is disposed):
 * `loc = (1/n) Σ u_i`, `scale = sqrt((1/n) Σ (u_i - loc)^2)`.
 */
export function monteCarloLocAndScale(q: Distribution): { loc: tf.Tensor; scale: tf.Tensor } {
  try {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(q.sample([4000]), 0);
      return { loc: mean, scale: tf.sqrt(variance) };
    });
  } finally {
    q.dispose();
  }
}
