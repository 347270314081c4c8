/**
 * `AutoLaplaceApproximation` (Pyro's): SVI with it finds the MAP point `û` of the posterior in
 * the unconstrained space (a point mass at `loc`, with the Jacobian of every site's bijector in
 * the density, so the objective is `log p(x, T(u)) + log|det J_T(u)|`); then
 * {@link AutoLaplaceApproximation.laplaceApproximation} fits the Gaussian
 *
 * $$q(u) = \mathcal N\big(\hat u,\; H^{-1}\big),\qquad
 *   H = -\nabla^2_u\big[\log p(x, T(u)) + \log\lvert\det J_T(u)\rvert\big]_{u = \hat u},$$
 *
 * returned as an {@link AutoMultivariateNormal} guide. The Hessian is formed by central
 * differences of the exact gradient (step `h`, symmetrized), inverted and factored in float64.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { Delta } from '../../distributions/delta.js';
import { condition } from '../handlers/condition.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param } from '../runtime.js';
import { AutoMultivariateNormal } from './auto_multivariate_normal.js';
import { AutoContinuous, unpackLatent } from './continuous.js';
import type { AutoGuideOptions } from './guide.js';

/** Lower Cholesky factor of a symmetric positive-definite `d x d` matrix (row-major, float64). */
function choleskyHost(a: Float64Array, d: number, what: string): Float64Array {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j] as number;
    for (let k = 0; k < j; k++) s -= (l[j * d + k] as number) ** 2;
    if (!(s > 0)) {
      throw new ArgumentError(
        'laplaceApproximation',
        `the ${what} is not positive definite at the mode (is the MAP point a maximum?)`,
      );
    }
    const ljj = Math.sqrt(s);
    l[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j] as number;
      for (let k = 0; k < j; k++) t -= (l[i * d + k] as number) * (l[j * d + k] as number);
      l[i * d + j] = t / ljj;
    }
  }
  return l;
}

/** `A^{-1}` of a symmetric positive-definite matrix from its Cholesky factor. */
function spdInverse(a: Float64Array, d: number): Float64Array {
  const l = choleskyHost(a, d, 'Hessian of the negative log-density');
  // L^{-1} by forward substitution, then A^{-1} = L^{-T} L^{-1}
  const li = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    for (let i = 0; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= (l[i * d + k] as number) * (li[k * d + c] as number);
      li[i * d + c] = s / (l[i * d + i] as number);
    }
  }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (li[k * d + i] as number) * (li[k * d + j] as number);
      inv[i * d + j] = s;
    }
  }
  return inv;
}

/**
 * MAP, then a Gaussian at the mode with the inverse Hessian as covariance.
 *
 * @example
 * ```ts
 * const guide = new AutoLaplaceApproximation(model);
 * for (let i = 0; i < 500; i++) svi.step(data);   // MAP
 * const laplace = guide.laplaceApproximation(data); // an AutoMultivariateNormal
 * laplace.quantiles([0.05, 0.95]);
 * ```
 */
export class AutoLaplaceApproximation<A extends unknown[]> extends AutoContinuous<A> {
  constructor(model: Fn<A, unknown>, options: Omit<AutoGuideOptions, 'initScale'> = {}) {
    super(model, options, 'AutoLaplaceApproximation');
  }
  protected latentDistribution(): Distribution {
    const loc = param(`${this.prefix}.loc`, () => this.initLatent());
    return new Delta(loc, 1);
  }
  locAndScale(): { loc: tf.Tensor; scale: tf.Tensor } {
    const loc = getParamStore().value(`${this.prefix}.loc`);
    return { loc, scale: tf.zerosLike(loc) };
  }
  override getPosterior(): Distribution {
    const loc = getParamStore().value(`${this.prefix}.loc`);
    const d = new Delta(loc.arraySync() as number[], 1);
    loc.dispose();
    return d;
  }

  /** `U(u) = -[log p(x, T(u)) + log|det J_T(u)|]` at a flat unconstrained `u` (a scalar). */
  private potential(u: tf.Tensor, args: A): tf.Tensor {
    const parts = unpackLatent(u, this.specs);
    const values: Record<string, tf.Tensor> = {};
    let logDet: tf.Tensor = tf.scalar(0);
    this.specs.forEach((s, i) => {
      const r = s.bijector.forwardAndLogDet(parts[i] as tf.Tensor);
      values[s.name] = r.y;
      logDet = tf.add(logDet, tf.sum(r.logDet));
    });
    const tr = trace(condition(this.model, values)).getTraceUntidied(...args).trace;
    return tf.neg(tf.add(tr.logProbSum(), logDet));
  }

  /**
   * The Laplace approximation at the current MAP point, as a new {@link AutoMultivariateNormal}
   * (prefix `<prefix>.laplace`, its `loc` and `scale_tril` set in the param store).
   * @param args the model's arguments.
   */
  laplaceApproximation(...args: A): AutoMultivariateNormal<A> {
    const h = 1e-2; // central differences of an exact gradient: O(h^2) error
    const d = this.latentDim;
    const loc = getParamStore().value(`${this.prefix}.loc`);
    const u0 = Float64Array.from(loc.dataSync());
    loc.dispose();
    const grad = tf.grad((u: tf.Tensor) => this.potential(u, args));
    const gradAt = (u: Float64Array): Float64Array => {
      const g = tf.tidy(() => grad(tf.tensor1d(Float32Array.from(u))));
      const out = Float64Array.from(g.dataSync());
      g.dispose();
      return out;
    };
    const hess = new Float64Array(d * d);
    for (let j = 0; j < d; j++) {
      const up = Float64Array.from(u0);
      const um = Float64Array.from(u0);
      up[j] = (up[j] as number) + h;
      um[j] = (um[j] as number) - h;
      const gp = gradAt(up);
      const gm = gradAt(um);
      for (let i = 0; i < d; i++)
        hess[i * d + j] = ((gp[i] as number) - (gm[i] as number)) / (2 * h);
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) {
        const m = ((hess[i * d + j] as number) + (hess[j * d + i] as number)) / 2;
        hess[i * d + j] = m;
        hess[j * d + i] = m;
      }
    }
    const cov = spdInverse(hess, d);
    const l = choleskyHost(cov, d, 'covariance');
    const guide = new AutoMultivariateNormal(this.model, { prefix: `${this.prefix}.laplace` });
    // set up the new guide's sites and parameters, then overwrite them with the fit
    tf.tidy(() => {
      trace(() => guide.call(...args)).getTraceUntidied();
    });
    const store = getParamStore();
    store.set(`${guide.prefix}.loc`, Array.from(u0));
    const rows = Array.from({ length: d }, (_, i) => Array.from(l.subarray(i * d, i * d + d)));
    store.set(guide.scaleTrilName, rows, store.constraintOf(guide.scaleTrilName));
    return guide;
  }
}
