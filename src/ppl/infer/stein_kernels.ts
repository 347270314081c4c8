/**
 * The kernels of Stein variational gradient descent (Pyro's `SteinKernel`, `RBFSteinKernel`,
 * `IMQSteinKernel`): each kernel is a product over the `D` coordinates of the particles,
 *
 * $$k(x, y) = \prod_{d=1}^{D} k_d(x_d, y_d),$$
 *
 * with one bandwidth `h_d` per coordinate from the median heuristic over the `N` particles
 * (Liu & Wang 2016, as Pyro):
 *
 * $$h_d = f \cdot \frac{\operatorname{med}_{i<j} (x_{j,d} - x_{i,d})^2}{\log(N + 1)}$$
 *
 * (`f` the `bandwidthFactor`, default 1; the median is the lower one of an even count, as
 * `torch.median`; `h_d` is floored at `1e-20` so that a coordinate on which the particles
 * coincide gives `k_d = 1` and a zero gradient rather than `0 / 0`).
 *
 * {@link SteinKernel.logKernelAndGrad} gives, for every pair `(n, m)` of particles and every
 * coordinate `d`, the per-coordinate log-kernel `log k_d(x_m, x_n)` and the gradient term
 * `-∂/∂x_{m,d} log k_d(x_m, x_n)` (at fixed `h`), the two ingredients of the SVGD direction.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';

/** Smallest bandwidth (see the module doc). */
const MIN_BANDWIDTH = 1e-20;

/** The per-pair, per-coordinate ingredients of the SVGD direction, `[N, N, D]` each. */
export interface SteinKernelTerms {
  /** `log k_d(x_m, x_n)` at `[n, m, d]`. */
  logKernel: tf.Tensor3D;
  /** `-∂/∂x_{m,d} log k_d(x_m, x_n)` at `[n, m, d]` (the bandwidth held fixed). */
  gradTerm: tf.Tensor3D;
}

function checkFactor(f: unknown): number | undefined {
  if (f === undefined) return undefined;
  if (typeof f !== 'number' || !(f > 0) || !Number.isFinite(f)) {
    throw new ArgumentError('bandwidthFactor', `expected a finite number > 0, got ${String(f)}`);
  }
  return f;
}

function checkParticles(particles: unknown): tf.Tensor2D {
  if (!(particles instanceof tf.Tensor) || particles.isDisposed) {
    throw new ArgumentError('particles', 'expected a live tensor [N, D]');
  }
  if (particles.rank !== 2 || (particles.shape[0] as number) < 2) {
    throw new ArgumentError(
      'particles',
      `expected shape [N, D] with N >= 2 particles, got [${particles.shape.join(',')}]`,
    );
  }
  return particles as tf.Tensor2D;
}

/**
 * A kernel of SVGD over `N` particles in `R^D` with a median-heuristic bandwidth per coordinate.
 * Subclasses give the log-kernel and its gradient at a bandwidth.
 */
export abstract class SteinKernel {
  /** The factor `f` of the median heuristic (undefined: 1, as Pyro's `None`). */
  readonly bandwidthFactor: number | undefined;

  /**
   * @param bandwidthFactor `f > 0`, scaling the median heuristic (default 1).
   * @throws ArgumentError naming `bandwidthFactor` when it is not a finite number > 0.
   */
  constructor(bandwidthFactor?: number) {
    this.bandwidthFactor = checkFactor(bandwidthFactor);
  }

  /**
   * The per-coordinate bandwidth
   * `h_d = f · med_{i<j} (x_{j,d} - x_{i,d})² / log(N + 1)` (floored at `1e-20`), `[D]`.
   * @param particles `[N, D]`, `N >= 2`.
   * @returns a new tensor.
   * @throws ArgumentError naming `particles` for another shape.
   */
  bandwidth(particles: tf.Tensor): tf.Tensor1D {
    const x = checkParticles(particles);
    const n = x.shape[0];
    return tf.tidy(() => {
      const ii: number[] = [];
      const jj: number[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          ii.push(i);
          jj.push(j);
        }
      }
      const m = ii.length;
      const diff = tf.sub(
        tf.gather(x, tf.tensor1d(jj, 'int32')),
        tf.gather(x, tf.tensor1d(ii, 'int32')),
      );
      // [D, M]: the squared differences of every pair, per coordinate
      const sq = tf.transpose(tf.square(diff));
      // the lower median: the (floor((M-1)/2)+1)-th smallest, from topk of the negated values
      const k = Math.floor((m - 1) / 2) + 1;
      const smallest = tf.neg(tf.topk(tf.neg(sq), k).values);
      const median = tf.reshape(tf.slice(smallest, [0, k - 1], [-1, 1]), [-1]);
      const h = tf.mul(median, (this.bandwidthFactor ?? 1) / Math.log(n + 1));
      return tf.maximum(h, MIN_BANDWIDTH) as tf.Tensor1D;
    });
  }

  /**
   * The log-kernel `log k_d(x_m, x_n)` and gradient term `-∂/∂x_{m,d} log k_d(x_m, x_n)` of every
   * pair of particles, at `[n, m, d]`.
   * @param particles `[N, D]`, `N >= 2`.
   * @param bandwidth `h`, `[D]` (default: {@link bandwidth} of the particles).
   * @returns new tensors `[N, N, D]`.
   * @throws ArgumentError naming `particles` or `bandwidth` for a wrong shape.
   */
  logKernelAndGrad(particles: tf.Tensor, bandwidth?: tf.Tensor): SteinKernelTerms {
    const x = checkParticles(particles);
    const d = x.shape[1];
    if (bandwidth !== undefined) {
      if (!(bandwidth instanceof tf.Tensor) || bandwidth.isDisposed) {
        throw new ArgumentError('bandwidth', 'expected a live tensor [D]');
      }
      if (bandwidth.rank !== 1 || bandwidth.shape[0] !== d) {
        throw new ArgumentError(
          'bandwidth',
          `expected shape [${d}] (one per coordinate), got [${bandwidth.shape.join(',')}]`,
        );
      }
    }
    const terms = tf.tidy(() => {
      const h = bandwidth ?? this.bandwidth(x);
      // delta[n, m] = x_m - x_n
      const delta = tf.sub(tf.expandDims(x, 0), tf.expandDims(x, 1)) as tf.Tensor3D;
      const t = this.terms(delta, h);
      return [t.logKernel, t.gradTerm];
    });
    return { logKernel: terms[0] as tf.Tensor3D, gradTerm: terms[1] as tf.Tensor3D };
  }

  /** The two terms from `delta[n, m] = x_m - x_n` and `h` (called inside a tidy). */
  protected abstract terms(delta: tf.Tensor3D, h: tf.Tensor): SteinKernelTerms;
}

/**
 * The radial basis function kernel (Pyro's `RBFSteinKernel`), per coordinate
 *
 * $$k_d(x, y) = \exp\!\left(-\frac{(x_d - y_d)^2}{h_d}\right),\qquad
 *   -\frac{\partial}{\partial x_d}\log k_d(x, y) = \frac{2 (x_d - y_d)}{h_d}.$$
 *
 * @example
 * ```ts
 * const svgd = new SVGD(model, new RBFSteinKernel(), tf.train.adam(0.1), { numParticles: 50 });
 * ```
 */
export class RBFSteinKernel extends SteinKernel {
  /**
   * @param options `bandwidthFactor` `f > 0` (default 1).
   * @throws ArgumentError naming `options` or the option.
   */
  constructor(options: { bandwidthFactor?: number } = {}) {
    super(kernelOptions(options, ['bandwidthFactor'], 'RBFSteinKernel').bandwidthFactor);
  }

  protected terms(delta: tf.Tensor3D, h: tf.Tensor): SteinKernelTerms {
    const logKernel = tf.neg(tf.div(tf.square(delta), h)) as tf.Tensor3D;
    const gradTerm = tf.div(tf.mul(delta, 2), h) as tf.Tensor3D;
    return { logKernel, gradTerm };
  }
}

/**
 * The inverse multi-quadratic kernel (Pyro's `IMQSteinKernel`; Gorham & Mackey 2017), per
 * coordinate
 *
 * $$k_d(x, y) = \left(\alpha + \frac{(x_d - y_d)^2}{h_d}\right)^{\beta},\qquad
 *   -\frac{\partial}{\partial x_d}\log k_d(x, y)
 *   = \frac{-2\beta\,(x_d - y_d) / h_d}{\alpha + (x_d - y_d)^2 / h_d},$$
 *
 * `α > 0`, `β < 0` (defaults `0.5`, `-0.5`). Its heavier tails keep distant particles in touch.
 */
export class IMQSteinKernel extends SteinKernel {
  readonly alpha: number;
  readonly beta: number;

  /**
   * @param options `alpha > 0` (default 0.5), `beta < 0` (default -0.5), `bandwidthFactor > 0`.
   * @throws ArgumentError naming `options` or the option.
   */
  constructor(options: { alpha?: number; beta?: number; bandwidthFactor?: number } = {}) {
    const o = kernelOptions(options, ['alpha', 'beta', 'bandwidthFactor'], 'IMQSteinKernel');
    super(o.bandwidthFactor);
    const alpha = o.alpha ?? 0.5;
    const beta = o.beta ?? -0.5;
    if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha)) {
      throw new ArgumentError('alpha', `expected a finite number > 0, got ${String(alpha)}`);
    }
    if (typeof beta !== 'number' || !(beta < 0) || !Number.isFinite(beta)) {
      throw new ArgumentError('beta', `expected a finite number < 0, got ${String(beta)}`);
    }
    this.alpha = alpha;
    this.beta = beta;
  }

  protected terms(delta: tf.Tensor3D, h: tf.Tensor): SteinKernelTerms {
    const base = tf.add(tf.div(tf.square(delta), h), this.alpha);
    const logKernel = tf.mul(tf.log(base), this.beta) as tf.Tensor3D;
    const gradTerm = tf.div(tf.div(tf.mul(delta, -2 * this.beta), h), base) as tf.Tensor3D;
    return { logKernel, gradTerm };
  }
}

function kernelOptions<T extends object>(options: T, known: string[], what: string): T {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `${what}: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, known, what);
  return options;
}
