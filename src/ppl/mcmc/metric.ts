/**
 * The Euclidean metric of Hamiltonian Monte Carlo (the "mass matrix" `M`): kinetic energy
 * `K(p) = p^T M^{-1} p / 2`, velocity `dK/dp = M^{-1} p` and momentum draws `p ~ N(0, M)`.
 *
 * As in Stan, the adapted quantity is the inverse metric `M^{-1}`, an estimate of the posterior
 * covariance in the unconstrained space: diagonal (`diag`) or dense. For the dense metric the
 * lower Cholesky factor `L` of `M^{-1} = L L^T` is kept, and `p = L^{-T} u` with `u ~ N(0, I)`
 * has covariance `L^{-T} L^{-1} = M`.
 */
import { ArgumentError } from '../../utils/errors.js';
import type { ChainRng } from './rng.js';

/** The structure of the metric: a diagonal (default) or dense inverse mass matrix. */
export type MetricKind = 'diag' | 'dense';

/** A Euclidean metric over a `dim`-dimensional unconstrained space. */
export class Metric {
  /** `M^{-1}`: `dim` values (diag) or `dim * dim` row-major (dense). */
  readonly inverseMass: Float64Array;
  /** Dense only: the lower Cholesky factor of `M^{-1}`, row-major. */
  private chol: Float64Array | undefined;
  /** Diag only: `1 / sqrt(M^{-1}_ii)`. */
  private invSqrt: Float64Array | undefined;

  /**
   * @param dim number of unconstrained coordinates.
   * @param kind `diag` or `dense`.
   * @param inverseMass initial `M^{-1}` (default the identity).
   */
  constructor(
    readonly dim: number,
    readonly kind: MetricKind,
    inverseMass?: Float64Array,
  ) {
    const n = kind === 'diag' ? dim : dim * dim;
    this.inverseMass = new Float64Array(n);
    if (inverseMass !== undefined) {
      if (inverseMass.length !== n) {
        throw new ArgumentError('inverseMass', `expected ${n} values, got ${inverseMass.length}`);
      }
      this.inverseMass.set(inverseMass);
    } else if (kind === 'diag') {
      this.inverseMass.fill(1);
    } else {
      for (let i = 0; i < dim; i++) this.inverseMass[i * dim + i] = 1;
    }
    this.update();
  }

  /** Replace `M^{-1}` (e.g. after a warmup window) and refresh the factorization. */
  set(inverseMass: Float64Array): void {
    this.inverseMass.set(inverseMass);
    this.update();
  }

  private update(): void {
    const d = this.dim;
    if (this.kind === 'diag') {
      const s = new Float64Array(d);
      for (let i = 0; i < d; i++) s[i] = 1 / Math.sqrt(this.inverseMass[i] as number);
      this.invSqrt = s;
    } else {
      this.chol = cholesky(this.inverseMass, d);
    }
  }

  /** `out = M^{-1} p` (the velocity `dq/dt`). */
  velocity(p: Float64Array, out: Float64Array): Float64Array {
    const d = this.dim;
    const m = this.inverseMass;
    if (this.kind === 'diag') {
      for (let i = 0; i < d; i++) out[i] = (m[i] as number) * (p[i] as number);
    } else {
      for (let i = 0; i < d; i++) {
        let s = 0;
        const row = i * d;
        for (let j = 0; j < d; j++) s += (m[row + j] as number) * (p[j] as number);
        out[i] = s;
      }
    }
    return out;
  }

  /** `K(p) = p^T M^{-1} p / 2`. */
  kinetic(p: Float64Array): number {
    const d = this.dim;
    const m = this.inverseMass;
    let s = 0;
    if (this.kind === 'diag') {
      for (let i = 0; i < d; i++) s += (m[i] as number) * (p[i] as number) ** 2;
    } else {
      for (let i = 0; i < d; i++) {
        let r = 0;
        const row = i * d;
        for (let j = 0; j < d; j++) r += (m[row + j] as number) * (p[j] as number);
        s += r * (p[i] as number);
      }
    }
    return 0.5 * s;
  }

  /** Draw `p ~ N(0, M)` into `out`. */
  sampleMomentum(rng: ChainRng, out: Float64Array): Float64Array {
    const d = this.dim;
    rng.normals(out);
    if (this.kind === 'diag') {
      const s = this.invSqrt as Float64Array;
      for (let i = 0; i < d; i++) out[i] = (out[i] as number) * (s[i] as number);
      return out;
    }
    // Solve L^T p = u by back substitution (L lower, row-major).
    const L = this.chol as Float64Array;
    for (let i = d - 1; i >= 0; i--) {
      let s = out[i] as number;
      for (let k = i + 1; k < d; k++) s -= (L[k * d + i] as number) * (out[k] as number);
      out[i] = s / (L[i * d + i] as number);
    }
    return out;
  }
}

/**
 * The lower Cholesky factor `L` of a symmetric positive-definite `d x d` matrix `A = L L^T`
 * (row-major, float64). Throws an `ArgumentError` when `A` is not positive definite.
 */
export function cholesky(a: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * d + k] as number) * (L[j * d + k] as number);
      if (i === j) {
        if (!(s > 0)) {
          throw new ArgumentError('inverseMass', 'expected a symmetric positive-definite matrix');
        }
        L[i * d + i] = Math.sqrt(s);
      } else {
        L[i * d + j] = s / (L[j * d + j] as number);
      }
    }
  }
  return L;
}
