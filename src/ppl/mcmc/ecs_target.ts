/**
 * The target of `HMCECS` (energy-conserving subsampling HMC, Dang et al. 2019; NumPyro's
 * `HMCECS`): the model's potential with the data of each subsample plate (`plate(name, N,
 * {subsampleSize: m}, ...)`) held at a subsample `u` of `m` indices drawn with replacement, as a
 * {@link Potential} over the extended vector `x = [z, u]` (the gradient along `u` is zero).
 *
 * Writing `l_i(θ)` for the log-likelihood of datum `i` (the observed sites of the plate, summed
 * over every dim but the plate's), the log-likelihood of a plate is estimated by
 *
 * - without a proxy, the plain subsample estimator `(N/m) Σ_{i∈u} l_i(θ)` (the model's own
 *   plate scaling, NumPyro's `proxy=None`);
 * - with the Taylor proxy `q_i(θ) = l_i(θ̂) + g_i^T Δ + ½ Δ^T H_i Δ` (`Δ = θ - θ̂` in the
 *   unconstrained space, `g_i`, `H_i` the gradient and Hessian of `l_i` at the reference `θ̂`;
 *   `H_i = 0` for `degree: 1`), the difference estimator with its variance correction (Quiroz et
 *   al. 2019, NumPyro's `perturbed` method): with `d_i = l_i(θ) - q_i(θ)`,
 *
 * $$\hat\ell(θ; u) = \sum_{i=1}^N q_i(θ) + \frac Nm \sum_{i\in u} d_i
 *   - \frac12\,\frac{N^2}{m}\,\widehat{\operatorname{var}}_u(d),$$
 *
 *   `\widehat{var}` the population variance over the subsample. `Σ_{i=1}^N q_i` is a quadratic in
 *   `Δ` from the sums `Σ l_i(θ̂)`, `Σ g_i`, `Σ H_i`, computed once over the whole data set.
 *
 * `U(z; u) = -(log prior + log-likelihood outside the subsample plates + Σ_plates \hat\ell +
 * log|det J|)`. The per-datum `l_i(θ̂)`, `g_i`, `H_i` come from runs of the model over all `N`
 * indices by central differences of the per-datum log-likelihoods (step `h = 0.05` in each
 * unconstrained coordinate; float32 values, so the proxy is good to about `1e-3`): the same
 * numbers enter the full sums and the subsample terms, so `Σ_i q_i - (N/m) Σ_{i∈u} q_i` has
 * expectation zero over `u` whatever the proxy's accuracy. They take `N (1 + d + d^2)` float64
 * numbers per plate.
 */
import * as tf from '@tensorflow/tfjs';
import { factor } from '../factor.js';
import type { Constrainer } from './compiled_constrain.js';
import { ECSHandler, type ECSPlate } from './ecs_plates.js';
import {
  fitTaylorProxy,
  proxySum,
  proxyValue,
  type ECSProxy,
  type PlateProxy,
} from './ecs_proxy.js';
import type { PotentialPoint } from './integrator.js';
import type { LatentSite, ModelPotential, Potential } from './potential.js';

/** The target of `HMCECS` (see the module docs). */
export class ECSTarget implements Potential, Constrainer {
  /** Each plate's current subsample. */
  readonly indices: Int32Array[];
  /** The potential over `z` of the model run under the estimator. */
  mp!: ModelPotential<unknown[]>;
  /** The proxy, when the estimator has one. */
  proxy: ECSProxy | undefined;
  /** While evaluating with a proxy: each plate's `q_i(θ)` over the subsample. */
  private q: Float64Array[] | undefined;
  /** After an evaluation: each plate's `l_i(θ)` over the subsample (float32 values). */
  private lastLik: Float64Array[] = [];
  /** While computing the proxy: all `N` indices of every plate. */
  private full = false;

  constructor(
    readonly model: (...a: unknown[]) => unknown,
    readonly args: unknown[],
    readonly plates: ECSPlate[],
  ) {
    this.indices = plates.map((p) => new Int32Array(p.subsampleSize));
  }

  /** The model run under the estimator (the subsample set, the plates' factors added). */
  readonly estimated = (...a: unknown[]): unknown => {
    const h = new ECSHandler(this);
    const saved = this.indices.map((u) => u);
    if (this.full) {
      this.plates.forEach((p, k) => {
        this.indices[k] = Int32Array.from({ length: p.size }, (_, i) => i);
      });
    }
    let out: unknown;
    try {
      out = h.run(() => this.model(...a));
    } finally {
      saved.forEach((u, k) => (this.indices[k] = u));
    }
    this.lastLik = [];
    this.plates.forEach((p, k) => {
      const terms = h.lik[k] as tf.Tensor[];
      const m = this.full ? p.size : p.subsampleSize;
      const l = terms.length === 0 ? tf.zeros([m]) : terms.length === 1 ? terms[0] : tf.addN(terms);
      this.lastLik.push(Float64Array.from((l as tf.Tensor).dataSync()));
      factor(`_${p.name}_log_likelihood`, this.estimator(k, l as tf.Tensor));
    });
    return out;
  };

  /** Plate `k`'s estimator as a tensor of the per-datum log-likelihoods `l` (module docs). */
  private estimator(k: number, l: tf.Tensor): tf.Tensor {
    const p = this.plates[k] as ECSPlate;
    if (this.full) return tf.sum(l);
    const n = p.size;
    const m = p.subsampleSize;
    const q = this.q?.[k];
    if (q === undefined) return tf.mul(tf.sum(l), n / m);
    const d = tf.sub(l, tf.tensor1d(Float32Array.from(q)));
    const sumQ = this.sumQ(k);
    const mean = tf.mean(d);
    const variance = tf.mean(tf.square(tf.sub(d, mean)));
    return tf.sub(tf.add(tf.mul(tf.sum(d), n / m), sumQ), tf.mul(variance, (0.5 * n * n) / m));
  }

  /** `Δ = z - θ̂`. */
  private delta(z: Float64Array): Float64Array {
    const t0 = (this.proxy as ECSProxy).theta0;
    return z.map((v, i) => v - (t0[i] as number));
  }

  private deltaNow: Float64Array | undefined;

  /** `Σ_{i=1}^N q_i(θ)` of plate `k` at the current `Δ`. */
  private sumQ(k: number): number {
    const pp = (this.proxy as ECSProxy).plates[k] as PlateProxy;
    return proxySum(pp, this.deltaNow as Float64Array);
  }

  /** `q_i(θ)` and `∇q_i(θ)` of plate `k` for datum `i`. */
  private qOf(k: number, i: number, dl: Float64Array, grad?: Float64Array): number {
    return proxyValue((this.proxy as ECSProxy).plates[k] as PlateProxy, i, dl, grad);
  }

  /** Number of coordinates of `z`. */
  get hmcDim(): number {
    return this.mp.dim;
  }

  /** `dim(z) + Σ m`. */
  get dim(): number {
    return this.mp.dim + this.indices.reduce((n, u) => n + u.length, 0);
  }

  /** Set the subsamples from the tail of `x`; `z` the head. */
  private split(x: Float64Array): Float64Array {
    const nh = this.mp.dim;
    this.plates.forEach((p, k) => {
      const u = this.indices[k] as Int32Array;
      for (let j = 0; j < p.subsampleSize; j++) u[j] = Math.round(x[nh + p.offset + j] as number);
    });
    return x.subarray(0, nh);
  }

  /** Prepare the proxy's constants at `z` (no-op without a proxy). */
  private prepare(z: Float64Array): void {
    if (this.proxy === undefined) return;
    const dl = this.delta(z);
    this.deltaNow = dl;
    this.q = this.plates.map((p, k) => {
      const u = this.indices[k] as Int32Array;
      return Float64Array.from(u, (i) => this.qOf(k, i, dl));
    });
  }

  valueAndGrad(x: Float64Array): PotentialPoint {
    const z = this.split(x);
    this.prepare(z);
    const p = this.mp.valueAndGrad(z);
    const grad = new Float64Array(this.dim);
    grad.set(p.grad);
    if (this.proxy !== undefined && Number.isFinite(p.value)) {
      // the proxy terms entered as constants: add -(∇Σq - Σ_i c_i ∇q_i), c_i = ∂ℓ̂/∂d_i
      const dl = this.deltaNow as Float64Array;
      const d = dl.length;
      const gq = new Float64Array(d);
      this.plates.forEach((pl, k) => {
        const pp = (this.proxy as ECSProxy).plates[k] as PlateProxy;
        const n = pl.size;
        const m = pl.subsampleSize;
        const lik = this.lastLik[k] as Float64Array;
        const q = (this.q as Float64Array[])[k] as Float64Array;
        const dvals = lik.map((l, j) => l - (q[j] as number));
        const dbar = dvals.reduce((a, b) => a + b, 0) / m;
        for (let a = 0; a < d; a++) {
          let s = pp.sumG[a] as number;
          if (pp.sumH !== undefined) {
            for (let b = 0; b < d; b++) s += (pp.sumH[a * d + b] as number) * (dl[b] as number);
          }
          grad[a] = (grad[a] as number) - s;
        }
        const u = this.indices[k] as Int32Array;
        for (let j = 0; j < m; j++) {
          const c = n / m - ((n * n) / (m * m)) * ((dvals[j] as number) - dbar);
          this.qOf(k, u[j] as number, dl, gq);
          for (let a = 0; a < d; a++) grad[a] = (grad[a] as number) + c * (gq[a] as number);
        }
      });
    }
    return p.reason === undefined
      ? { value: p.value, grad }
      : { value: p.value, grad, reason: p.reason };
  }

  /** `U(z; u)` alone (one model run, no gradient). */
  energy(z: Float64Array, u: Float64Array): number {
    const x = new Float64Array(this.dim);
    x.set(z);
    x.set(u, z.length);
    this.prepare(this.split(x));
    return this.mp.energy(z);
  }

  /**
   * The log-likelihood estimate `ℓ̂(θ; u)` summed over the plates at `z` and the subsample `u`
   * (the quantity whose variance the proxy lowers).
   */
  logLikelihoodEstimate(z: Float64Array, u: Float64Array): number {
    const x = new Float64Array(this.dim);
    x.set(z);
    x.set(u, z.length);
    this.prepare(this.split(x));
    this.mp.energy(z);
    let s = 0;
    this.plates.forEach((p, k) => {
      const lik = this.lastLik[k] as Float64Array;
      const n = p.size;
      const m = p.subsampleSize;
      if (this.proxy === undefined) {
        s += (n / m) * lik.reduce((a, b) => a + b, 0);
        return;
      }
      const q = (this.q as Float64Array[])[k] as Float64Array;
      const dv = lik.map((l, j) => l - (q[j] as number));
      const mean = dv.reduce((a, b) => a + b, 0) / m;
      const v = dv.reduce((a, b) => a + (b - mean) ** 2, 0) / m;
      s += this.sumQ(k) + (n / m) * mean * m - (0.5 * n * n * v) / m;
    });
    return s;
  }

  /** The full-data log-likelihood `Σ_{i=1}^N l_i(θ)` summed over the plates at `z`. */
  fullLogLikelihood(z: Float64Array): number {
    return this.perDatum(z).reduce((s, l) => s + l.reduce((a, b) => a + b, 0), 0);
  }

  /** Each plate's `l_i(θ)` over all `N` data at `z`. */
  perDatum(z: Float64Array): Float64Array[] {
    const proxy = this.proxy;
    this.proxy = undefined;
    this.q = undefined;
    this.full = true;
    try {
      this.mp.energy(z);
      return this.lastLik.map((l) => l.slice());
    } finally {
      this.full = false;
      this.proxy = proxy;
    }
  }

  /**
   * The Taylor proxy at `theta0` (unconstrained): the per-datum values, gradients and (degree 2)
   * Hessians by central differences of {@link ECSTarget.perDatum} (see the module docs).
   */
  fitProxy(theta0: Float64Array, degree: 1 | 2, h = 0.05): ECSProxy {
    return fitTaylorProxy((z) => this.perDatum(z), this.plates, theta0, degree, h);
  }

  /** The subsamples' indices, then the latent sites' constrained and deterministic values. */
  constrain(x: Float64Array): Map<string, { shape: number[]; values: Float32Array }> {
    const z = this.split(x);
    this.prepare(z);
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    this.plates.forEach((p, k) => {
      out.set(p.name, {
        shape: [p.subsampleSize],
        values: Float32Array.from(this.indices[k] as Int32Array),
      });
    });
    for (const [k, v] of this.mp.constrain(z)) out.set(k, v);
    return out;
  }

  /** The latent layout of the extended vector (the subsamples last, one site per plate). */
  layout(): LatentSite[] {
    const nh = this.mp.dim;
    return [
      ...this.mp.sites,
      ...this.plates.map((p) => ({
        name: p.name,
        shape: [p.subsampleSize],
        unconstrainedShape: [p.subsampleSize],
        offset: nh + p.offset,
        size: p.subsampleSize,
      })),
    ];
  }
}
