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
import { ArgumentError } from '../../utils/errors.js';
import { seed as seedHandler } from '../handlers/seed.js';
import { trace } from '../handlers/trace.js';
import { factor } from '../factor.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import type { Constrainer } from './compiled_constrain.js';
import type { PotentialPoint } from './integrator.js';
import { ModelPotential, type LatentSite, type Potential } from './potential.js';

/** A subsample plate of the model. */
export interface ECSPlate {
  name: string;
  /** Full size `N`. */
  size: number;
  /** Subsample size `m`. */
  subsampleSize: number;
  /** First index of its subsample in the Gibbs part of the extended vector. */
  offset: number;
}

/** The per-datum Taylor coefficients of one plate at the reference point. */
interface PlateProxy {
  /** `l_i(θ̂)`, `N` values. */
  l0: Float64Array;
  /** `g_i`, `N x d` row-major. */
  g: Float64Array;
  /** `H_i`, `N x d x d` (absent for degree 1). */
  h: Float64Array | undefined;
  /** `Σ l_i(θ̂)`, `Σ g_i`, `Σ H_i`. */
  sumL0: number;
  sumG: Float64Array;
  sumH: Float64Array | undefined;
}

/** The proxy of the target (the reference point and each plate's coefficients). */
export interface ECSProxy {
  /** `θ̂` in the unconstrained layout. */
  theta0: Float64Array;
  degree: 1 | 2;
  plates: PlateProxy[];
}

/** The subsample plates of `model` (one seeded run), refused naming them when unusable. */
export function subsamplePlates(
  model: (...a: unknown[]) => unknown,
  args: unknown[],
  seed: number,
): ECSPlate[] {
  const plates: ECSPlate[] = [];
  tf.tidy(() => {
    const tr = trace(seedHandler(model, seed)).getTraceUntidied(...args).trace;
    let offset = 0;
    for (const s of tr.sites()) {
      if (s.type !== 'subsample' || s.subsampleSize >= s.size) continue;
      plates.push({ name: s.name, size: s.size, subsampleSize: s.subsampleSize, offset });
      offset += s.subsampleSize;
    }
    const names = new Set(plates.map((p) => p.name));
    for (const s of tr.sampleSites()) {
      if (s.isObserved || s.fn === null) continue;
      const inPlate = s.cond.find((f) => names.has(f.name));
      if (inPlate !== undefined) {
        throw new ArgumentError(
          'model',
          `HMCECS: latent site '${s.name}' is inside the subsample plate '${inPlate.name}': the subsampled plates may hold observed sites only (global latents outside them)`,
        );
      }
    }
  });
  if (plates.length === 0) {
    throw new ArgumentError(
      'model',
      "HMCECS: the model has no subsampled plate: give the data plate a subsampleSize smaller than its size, plate('data', N, {subsampleSize: m}, (idx) => ...)",
    );
  }
  return plates;
}

/**
 * During a run of the model: sets each subsample plate's indices, takes its observed sites out
 * of the density (collecting their per-datum log-likelihoods), and adds the plate's estimator as
 * a factor after the model. @internal
 */
class ECSHandler extends Messenger {
  /** Per plate: the per-datum log-likelihood terms collected. */
  readonly lik: tf.Tensor[][];
  constructor(private readonly t: ECSTarget) {
    super();
    this.lik = t.plates.map(() => []);
  }
  override processMessage(msg: Message): void {
    const t = this.t;
    if (msg.type === 'subsample') {
      const p = t.plates.findIndex((q) => q.name === msg.name);
      if (p >= 0) msg.value = tf.tensor1d(t.indices[p] as Int32Array, 'int32');
      return;
    }
    if (msg.type !== 'sample' || !msg.isObserved || msg.fn === null || msg.value === null) return;
    const frame = msg.cond.find((f) => t.plates.some((q) => q.name === f.name));
    if (frame === undefined) return;
    if ((msg.mask !== null && msg.mask !== true) || msg.scaleTensor !== null) {
      throw new ArgumentError(
        'model',
        `HMCECS: observed site '${msg.name}' in the subsample plate '${frame.name}' has a mask or a scale tensor, which the likelihood estimator does not take`,
      );
    }
    const lp = msg.fn.logProb(msg.value);
    const axis = lp.rank + frame.dim;
    if (axis < 0 || lp.shape[axis] !== frame.subsampleSize) {
      throw new ArgumentError(
        'model',
        `HMCECS: site '${msg.name}' has a log-density of shape [${lp.shape}], without the plate '${frame.name}' (${frame.subsampleSize}) at dim ${frame.dim}`,
      );
    }
    const others = Array.from({ length: lp.rank }, (_, i) => i).filter((i) => i !== axis);
    const per = others.length === 0 ? lp : tf.sum(lp, others);
    // the plates outside the subsample plate scale the term too (their own subsampling)
    const outer = msg.scale / (frame.size / frame.subsampleSize);
    const p = t.plates.findIndex((q) => q.name === frame.name);
    (this.lik[p] as tf.Tensor[]).push(outer === 1 ? per : tf.mul(per, outer));
    msg.mask = false;
    msg.infer = { ...msg.infer, ecsLikelihood: true };
  }
}

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
    const dl = this.deltaNow as Float64Array;
    const d = dl.length;
    let s = pp.sumL0;
    for (let a = 0; a < d; a++) s += (pp.sumG[a] as number) * (dl[a] as number);
    if (pp.sumH !== undefined) {
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          s += 0.5 * (dl[a] as number) * (pp.sumH[a * d + b] as number) * (dl[b] as number);
        }
      }
    }
    return s;
  }

  /** `q_i(θ)` and `∇q_i(θ)` of plate `k` for datum `i`. */
  private qOf(k: number, i: number, dl: Float64Array, grad?: Float64Array): number {
    const pp = (this.proxy as ECSProxy).plates[k] as PlateProxy;
    const d = dl.length;
    let s = pp.l0[i] as number;
    for (let a = 0; a < d; a++) {
      const g = pp.g[i * d + a] as number;
      s += g * (dl[a] as number);
      if (grad !== undefined) grad[a] = g;
    }
    if (pp.h !== undefined) {
      const base = i * d * d;
      for (let a = 0; a < d; a++) {
        let r = 0;
        for (let b = 0; b < d; b++) r += (pp.h[base + a * d + b] as number) * (dl[b] as number);
        s += 0.5 * (dl[a] as number) * r;
        if (grad !== undefined) grad[a] = (grad[a] as number) + r;
      }
    }
    return s;
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
    const d = theta0.length;
    const at = (dz: [number, number][]): Float64Array[] => {
      const z = theta0.slice();
      for (const [i, s] of dz) z[i] = (z[i] as number) + s;
      return this.perDatum(z);
    };
    const f0 = at([]);
    const plus: Float64Array[][] = [];
    const minus: Float64Array[][] = [];
    for (let a = 0; a < d; a++) {
      plus.push(at([[a, h]]));
      minus.push(at([[a, -h]]));
    }
    const plates = this.plates.map((p, k): PlateProxy => {
      const n = p.size;
      const l0 = f0[k] as Float64Array;
      const g = new Float64Array(n * d);
      for (let a = 0; a < d; a++) {
        const fp = (plus[a] as Float64Array[])[k] as Float64Array;
        const fm = (minus[a] as Float64Array[])[k] as Float64Array;
        for (let i = 0; i < n; i++)
          g[i * d + a] = ((fp[i] as number) - (fm[i] as number)) / (2 * h);
      }
      const sumG = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < d; a++) sumG[a] = (sumG[a] as number) + (g[i * d + a] as number);
      }
      return {
        l0,
        g,
        h: undefined,
        sumL0: l0.reduce((s, v) => s + v, 0),
        sumG,
        sumH: undefined,
      };
    });
    if (degree === 2) {
      const hs = this.plates.map((p) => new Float64Array(p.size * d * d));
      for (let a = 0; a < d; a++) {
        this.plates.forEach((p, k) => {
          const fp = (plus[a] as Float64Array[])[k] as Float64Array;
          const fm = (minus[a] as Float64Array[])[k] as Float64Array;
          const f = f0[k] as Float64Array;
          const hk = hs[k] as Float64Array;
          for (let i = 0; i < p.size; i++) {
            hk[i * d * d + a * d + a] =
              ((fp[i] as number) - 2 * (f[i] as number) + (fm[i] as number)) / (h * h);
          }
        });
        for (let b = a + 1; b < d; b++) {
          const pp = at([
            [a, h],
            [b, h],
          ]);
          const pm = at([
            [a, h],
            [b, -h],
          ]);
          const mp = at([
            [a, -h],
            [b, h],
          ]);
          const mm = at([
            [a, -h],
            [b, -h],
          ]);
          this.plates.forEach((p, k) => {
            const hk = hs[k] as Float64Array;
            const [x1, x2, x3, x4] = [pp[k], pm[k], mp[k], mm[k]] as Float64Array[];
            for (let i = 0; i < p.size; i++) {
              const v =
                ((x1?.[i] as number) -
                  (x2?.[i] as number) -
                  (x3?.[i] as number) +
                  (x4?.[i] as number)) /
                (4 * h * h);
              hk[i * d * d + a * d + b] = v;
              hk[i * d * d + b * d + a] = v;
            }
          });
        }
      }
      plates.forEach((pp, k) => {
        const hk = hs[k] as Float64Array;
        const sumH = new Float64Array(d * d);
        const n = (this.plates[k] as ECSPlate).size;
        for (let i = 0; i < n; i++) {
          for (let e = 0; e < d * d; e++)
            sumH[e] = (sumH[e] as number) + (hk[i * d * d + e] as number);
        }
        pp.h = hk;
        pp.sumH = sumH;
      });
    }
    return { theta0: theta0.slice(), degree, plates };
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
