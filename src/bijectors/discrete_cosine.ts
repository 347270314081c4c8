/**
 * The orthonormal discrete cosine transform of type II along a time dim (Pyro's
 * `DiscreteCosineTransform(dim, smooth)`), with an optional frequency weighting. Along an axis of
 * length `N`, for `k = 0, ..., N-1`,
 *
 * $$y_k = w_k\, s_k \sum_{n=0}^{N-1} x_n \cos\!\Big(\frac{\pi (n + \tfrac12) k}{N}\Big),\qquad
 *   s_0 = \sqrt{1/N},\ s_k = \sqrt{2/N}\ (k \ge 1),$$
 *
 * an orthogonal matrix `C` (DCT-II with orthonormal scaling: `C^T C = I`, so `x = C^T (y / w)`)
 * followed by the weights
 *
 * $$w_k = \frac{f_k^{\,s}}{\exp\big(\frac1N\sum_j \log f_j^{\,s}\big)},\qquad f_k = k + \tfrac12,$$
 *
 * the DCT-II frequencies to the power `s = smooth`, normalised to geometric mean 1 as Pyro does,
 * so that `log|det J| = Σ_k log w_k = 0` for every `smooth` (computed in float64 and counted once
 * per transformed row of the event). `smooth = 0` maps white noise to white noise, `smooth = 1`
 * Brownian noise (a random walk) to nearly white noise, `smooth = 2` an integrated random walk.
 *
 * The transform is a dense `N x N` matrix product (built in float64, one matrix cached per length:
 * the inverse is its transpose after dividing by `w²`), exact
 * and differentiable; `O(N^2)` per row, meant for time axes of up to a few thousand steps.
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type BijectorOptions, type ForwardResult } from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { alongDim, checkTimeDim } from './along_dim.js';

/**
 * The forward matrix of one length (row-major, `y = x @ fwd`) and `1 / w_k²`: the inverse is
 * `x = (y / w²) @ fwd^T`, since `fwd[j][k] = C[k][j] w_k` and `C` is orthogonal.
 */
interface DctMatrices {
  fwd: Float32Array;
  invW2: Float32Array;
  /** `Σ_k log w_k` (float64). */
  logDetRow: number;
}

/**
 * The orthonormal DCT-II along `dim`, with Pyro's optional `smooth` frequency weighting.
 *
 * @example
 * ```ts
 * const dct = new DiscreteCosineTransform(-1);
 * const y = dct.forward([[1, 2, 3, 4]]); // orthonormal DCT-II of each row
 * dct.inverse(y);                         // [[1, 2, 3, 4]]
 * dct.forwardLogDetJacobian(y);           // [0]
 * ```
 */
export class DiscreteCosineTransform extends Bijector {
  /** The time dim (negative, counted from the right). */
  readonly dim: number;
  /** The smoothing exponent `s` of the frequency weights. */
  readonly smooth: number;
  private readonly cache = new Map<number, DctMatrices>();

  /**
   * @param dim the time dim, a negative integer (default -1); the bijector's event rank is `-dim`.
   * @param smooth the smoothing exponent, a finite number (default 0: no weighting).
   * @param options name and validation flag.
   * @throws ArgumentError naming `dim` or `smooth`.
   */
  constructor(dim = -1, smooth = 0, options: BijectorOptions = {}) {
    super(options);
    this.dim = checkTimeDim(dim);
    if (typeof smooth !== 'number' || !Number.isFinite(smooth)) {
      throw new ArgumentError('smooth', `expected a finite number, got ${String(smooth)}`);
    }
    this.smooth = smooth;
  }
  override get eventRank(): number {
    return -this.dim;
  }

  /** The matrices of length `n`, built once in float64. */
  private matrices(n: number): DctMatrices {
    const hit = this.cache.get(n);
    if (hit !== undefined) return hit;
    const logF = Array.from({ length: n }, (_, k) => this.smooth * Math.log(k + 0.5));
    const meanLog = logF.reduce((a, b) => a + b, 0) / n;
    const logW = logF.map((v) => v - meanLog);
    const fwd = new Float32Array(n * n);
    const invW2 = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const s = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
      const w = Math.exp(logW[k] as number);
      invW2[k] = 1 / (w * w);
      for (let j = 0; j < n; j++) {
        // y_k = Σ_j x_j C[k][j] w_k
        fwd[j * n + k] = s * Math.cos((Math.PI * (j + 0.5) * k) / n) * w;
      }
    }
    const m = { fwd, invW2, logDetRow: logW.reduce((a, b) => a + b, 0) };
    this.cache.set(n, m);
    return m;
  }

  private apply(x: tf.Tensor, inverse: boolean): tf.Tensor {
    return alongDim(x, this.dim, (t) => {
      const n = t.shape[t.rank - 1] as number;
      const mats = this.matrices(n);
      const m = tf.tensor2d(mats.fwd, [n, n]);
      const rows = tf.reshape(t, [-1, n]);
      const out = inverse
        ? tf.matMul(
            this.smooth === 0 ? rows : tf.mul(rows, tf.tensor1d(mats.invW2)),
            m,
            false,
            true,
          )
        : tf.matMul(rows, m);
      return tf.reshape(out, t.shape);
    });
  }

  /** `log|det J|` of an input of shape `shape`: `Σ_k log w_k` times the rows per event. */
  private logDet(shape: readonly number[]): tf.Tensor {
    const r = shape.length + this.dim;
    const n = shape[r] as number;
    const event = shape.slice(r);
    const rows = event.reduce((a, b) => a * b, 1) / Math.max(n, 1);
    const v = n === 0 ? 0 : this.matrices(n).logDetRow * rows;
    return tf.fill(shape.slice(0, r), v);
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return { y: this.apply(x, false), logDet: this.logDet(x.shape) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return this.apply(y, true);
  }
}
