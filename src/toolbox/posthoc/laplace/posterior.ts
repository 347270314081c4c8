/**
 * The Gaussian posterior of a last-layer Laplace approximation in eigen form. Every structure is
 * stored as an eigendecomposition of the GGN, `H = Q diag(lambda) Q^T`, so the posterior precision
 * for any isotropic prior precision `delta` is `P = Q diag(lambda + delta) Q^T`: the log-determinant,
 * the GLM predictive and its samples need no refactorisation when `delta` is re-fitted.
 *
 * - `diag`: `Q = I`, `lambda = diag(H)`;
 * - `kron`: `H = (1/N) A (x) G`, `Q = Q_A (x) Q_G`, `lambda_{ij} = lambda^A_i lambda^G_j / N`;
 * - `full`: dense symmetric eigendecomposition of `H`.
 */
import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { CurvatureSums, HessianStructure } from './curvature.js';

/** Eigen form of the GGN of one structure (host, float64). */
export interface EigenCurvature {
  structure: HessianStructure;
  d1: number;
  k: number;
  /** Eigenvalues of `H`, `[D1*K]`, ordered `(i, j)` with `i` over features, `j` over outputs. */
  lambda: Float64Array;
  /** `kron`: `Q_A` `[D1 x D1]`; `full`: `Q` `[P x P]` (row-major; columns are eigenvectors). */
  qa?: Float64Array;
  /** `kron`: `Q_G` `[K x K]`. */
  qg?: Float64Array;
}

/** Symmetric eigendecomposition (`values` `[n x n]` row-major, symmetrised); eigenvalues clamped at 0. */
export function symEig(values: Float64Array, n: number): { lambda: Float64Array; q: Float64Array } {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r: number[] = new Array<number>(n);
    for (let j = 0; j < n; j++) {
      // symmetrise against float32 round-off of the accumulated sums
      r[j] = 0.5 * ((values[i * n + j] as number) + (values[j * n + i] as number));
    }
    rows.push(r);
  }
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const lambda = Float64Array.from(evd.realEigenvalues, (v) => Math.max(v, 0));
  const v = evd.eigenvectorMatrix;
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] = v.get(i, j);
  return { lambda, q };
}

/** Eigendecompose the curvature sums of any structure. */
export function eigenCurvature(s: CurvatureSums): EigenCurvature {
  const { d1, k } = s;
  if (s.structure === 'diag') {
    return { structure: 'diag', d1, k, lambda: Float64Array.from(s.a, (v) => Math.max(v, 0)) };
  }
  if (s.structure === 'full') {
    const { lambda, q } = symEig(s.a, d1 * k);
    return { structure: 'full', d1, k, lambda, qa: q };
  }
  const ea = symEig(s.a, d1);
  const eg = symEig(s.g as Float64Array, k);
  const lambda = new Float64Array(d1 * k);
  const n = Math.max(s.n, 1);
  for (let i = 0; i < d1; i++) {
    for (let j = 0; j < k; j++) {
      lambda[i * k + j] = ((ea.lambda[i] as number) * (eg.lambda[j] as number)) / n;
    }
  }
  return { structure: 'kron', d1, k, lambda, qa: ea.q, qg: eg.q };
}

/** `log det (H + delta I)`. */
export function logDetPosterior(e: EigenCurvature, delta: number): number {
  let s = 0;
  for (let i = 0; i < e.lambda.length; i++) s += Math.log((e.lambda[i] as number) + delta);
  return s;
}

function f32(a: Float64Array, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from(a), shape);
}

/** Scales `(lambda + delta)^(power)` as a `[D1, K]` (or `[P]` for full) tensor. */
function eigScales(e: EigenCurvature, delta: number, power: number): tf.Tensor {
  const s = Float64Array.from(e.lambda, (v) => Math.pow(v + delta, power));
  return e.structure === 'full' ? f32(s, [s.length]) : f32(s, [e.d1, e.k]);
}

/** `J Q (lambda + delta)^(-1/2)` for full: `[B, K, P]`. */
function fullJacobianFactor(e: EigenCurvature, delta: number, phi: tf.Tensor2D): tf.Tensor3D {
  const p = e.d1 * e.k;
  const b = phi.shape[0];
  const q = f32(e.qa as Float64Array, [e.d1, e.k * p]);
  const jq = tf.reshape(tf.matMul(phi, q as tf.Tensor2D), [b, e.k, p]);
  return tf.mul(jq, eigScales(e, delta, -0.5)) as tf.Tensor3D;
}

/**
 * Covariance of the GLM predictive logits per input,
 *
 * $$\operatorname{Var}[f_*] = J_* (H + \delta I)^{-1} J_*^T,\qquad J_* = \tilde\phi_*^T \otimes I_K,$$
 *
 * returned as `[B, K, K]`.
 */
export function glmCovariance(e: EigenCurvature, delta: number, phi: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    if (e.structure === 'full') {
      const jf = fullJacobianFactor(e, delta, phi);
      return tf.matMul(jf, jf, false, true);
    }
    const inv = eigScales(e, delta, -1) as tf.Tensor2D; // [D1, K]
    const v =
      e.structure === 'kron'
        ? tf.matMul(phi, f32(e.qa as Float64Array, [e.d1, e.d1]) as tf.Tensor2D)
        : phi;
    const m = tf.matMul(tf.square(v), inv); // [B, K] in the output eigenbasis
    if (e.structure === 'diag') {
      const eye = tf.eye(e.k);
      return tf.mul(tf.expandDims(m, 2), eye) as tf.Tensor3D;
    }
    const qg = f32(e.qg as Float64Array, [e.k, e.k]);
    const scaled = tf.mul(tf.expandDims(qg, 0), tf.expandDims(m, 1)); // [B, K, K]: Q_G diag(m)
    return tf.matMul(scaled, tf.tile(tf.expandDims(qg, 0), [phi.shape[0], 1, 1]), false, true);
  });
}

/**
 * Samples of the GLM predictive logits minus their mean, `J_* (theta_s - theta_MAP)` with
 * `theta_s ~ N(theta_MAP, (H + delta I)^{-1})`: `[S, B, K]`. The same parameter draws are used
 * for every input of the batch (so samples of different inputs are jointly consistent).
 *
 * @param z standard normal draws: `[S, D1, K]` for diag/kron, `[S, P]` for full.
 */
export function glmNoise(
  e: EigenCurvature,
  delta: number,
  phi: tf.Tensor2D,
  z: tf.Tensor,
): tf.Tensor3D {
  return tf.tidy(() => {
    const b = phi.shape[0];
    const s = z.shape[0] as number;
    if (e.structure === 'full') {
      const jf = fullJacobianFactor(e, delta, phi); // [B, K, P]
      const out = tf.matMul(tf.reshape(jf, [b * e.k, e.d1 * e.k]), z as tf.Tensor2D, false, true);
      return tf.transpose(tf.reshape(out, [b, e.k, s]), [2, 0, 1]) as tf.Tensor3D;
    }
    const scaled = tf.mul(z, tf.expandDims(eigScales(e, delta, -0.5), 0)); // [S, D1, K]
    const v =
      e.structure === 'kron'
        ? tf.matMul(phi, f32(e.qa as Float64Array, [e.d1, e.d1]) as tf.Tensor2D)
        : phi;
    const flat = tf.reshape(tf.transpose(scaled, [1, 0, 2]), [e.d1, s * e.k]);
    let out = tf.reshape(tf.matMul(v, flat as tf.Tensor2D), [b * s, e.k]);
    if (e.structure === 'kron') {
      out = tf.matMul(
        out as tf.Tensor2D,
        f32(e.qg as Float64Array, [e.k, e.k]) as tf.Tensor2D,
        false,
        true,
      );
    }
    return tf.transpose(tf.reshape(out, [b, s, e.k]), [1, 0, 2]) as tf.Tensor3D;
  });
}

/**
 * `S` draws of `theta - theta_MAP ~ N(0, (H + delta I)^{-1})` of one block, `[S, P]` with the
 * parameters ordered `(d, k)` (`d` over the `D1` kernel rows then the bias row, `k` over the `K`
 * outputs), as {@link denseFromEigen}: `Q (lambda + delta)^{-1/2} z`, `z ~ N(0, I)`, with
 * `Q = Q_A (x) Q_G` for `kron` (`Q_A Z Q_G^T` per draw), `Q = I` for `diag`.
 */
export function posteriorDeviations(
  e: EigenCurvature,
  delta: number,
  s: number,
  seed: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const p = e.d1 * e.k;
    if (e.structure === 'full') {
      const z = tf.randomNormal([s, p], 0, 1, 'float32', seed);
      const scaled = tf.mul(z, tf.expandDims(eigScales(e, delta, -0.5), 0)) as tf.Tensor2D;
      return tf.matMul(scaled, f32(e.qa as Float64Array, [p, p]) as tf.Tensor2D, false, true);
    }
    const z = tf.randomNormal([s, e.d1, e.k], 0, 1, 'float32', seed);
    const w = tf.mul(z, tf.expandDims(eigScales(e, delta, -0.5), 0)) as tf.Tensor3D;
    if (e.structure === 'diag') return tf.reshape(w, [s, p]);
    const qa = f32(e.qa as Float64Array, [e.d1, e.d1]);
    const qg = f32(e.qg as Float64Array, [e.k, e.k]);
    const left = tf.matMul(tf.tile(tf.expandDims(qa, 0), [s, 1, 1]) as tf.Tensor3D, w);
    const out = tf.matMul(
      left,
      tf.tile(tf.expandDims(qg, 0), [s, 1, 1]) as tf.Tensor3D,
      false,
      true,
    );
    return tf.reshape(out, [s, p]);
  });
}

/** Shape of the standard normal draws {@link glmNoise} takes for `S` samples. */
export function noiseShape(e: EigenCurvature, s: number): number[] {
  return e.structure === 'full' ? [s, e.d1 * e.k] : [s, e.d1, e.k];
}

/**
 * Dense `Q diag((lambda + delta)^power) Q^T` on the host (`[P x P]`, row-major): the posterior
 * precision (`power = 1`) or covariance (`power = -1`).
 */
export function denseFromEigen(e: EigenCurvature, delta: number, power: number): Float64Array {
  const p = e.d1 * e.k;
  const out = new Float64Array(p * p);
  const s = Float64Array.from(e.lambda, (v) => Math.pow(v + delta, power));
  if (e.structure === 'diag') {
    for (let i = 0; i < p; i++) out[i * p + i] = s[i] as number;
    return out;
  }
  // Q as a dense [P x P] (columns are eigenvectors).
  let q: Float64Array;
  if (e.structure === 'full') {
    q = e.qa as Float64Array;
  } else {
    const qa = e.qa as Float64Array;
    const qg = e.qg as Float64Array;
    const { d1, k } = e;
    q = new Float64Array(p * p);
    for (let d = 0; d < d1; d++) {
      for (let kk = 0; kk < k; kk++) {
        for (let i = 0; i < d1; i++) {
          for (let j = 0; j < k; j++) {
            q[(d * k + kk) * p + (i * k + j)] =
              (qa[d * d1 + i] as number) * (qg[kk * k + j] as number);
          }
        }
      }
    }
  }
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      let v = 0;
      for (let c = 0; c < p; c++)
        v += (q[a * p + c] as number) * (s[c] as number) * (q[b * p + c] as number);
      out[a * p + b] = v;
      out[b * p + a] = v;
    }
  }
  return out;
}

/**
 * The GLM predictive factor of general per-example Jacobians (a head layer applied several times,
 * whose Jacobian is not `phi~^T (x) I`): with `Sigma = Q diag(lambda + delta)^{-1} Q^T`,
 *
 * $$F = J\,Q\,\operatorname{diag}(\lambda + \delta)^{-1/2},\qquad J\Sigma J^T = F F^T,\qquad
 *   J(\theta_s - \theta_*) = F z,\ z \sim \mathcal N(0, I),$$
 *
 * with `J Q` the product `Q_A^T J_c Q_G` per output `c` for `kron`, `J` itself for `diag` and
 * `J Q` for `full`.
 *
 * @param jac per-example Jacobians `[B, K, D1, U]` (outputs `K`, the layer's `[D1, U]` parameters).
 * @returns `F` as `[B, K, D1 * U]` (eigen coordinates ordered as `lambda`).
 */
export function jacobianFactor(e: EigenCurvature, delta: number, jac: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, k] = jac.shape;
    const p = e.d1 * e.k;
    let m: tf.Tensor;
    if (e.structure === 'diag') {
      m = tf.reshape(jac, [b, k, p]);
    } else if (e.structure === 'full') {
      const q = f32(e.qa as Float64Array, [p, p]) as tf.Tensor2D;
      m = tf.reshape(tf.matMul(tf.reshape(jac, [b * k, p]) as tf.Tensor2D, q), [b, k, p]);
    } else {
      const qa = f32(e.qa as Float64Array, [e.d1, e.d1]) as tf.Tensor2D;
      const qg = f32(e.qg as Float64Array, [e.k, e.k]) as tf.Tensor2D;
      // Q_A^T J_c on the D1 axis, then (.) Q_G on the U axis
      const jt = tf.reshape(tf.transpose(jac, [0, 1, 3, 2]), [-1, e.d1]) as tf.Tensor2D;
      const left = tf.reshape(tf.matMul(jt, qa), [b, k, e.k, e.d1]);
      const back = tf.reshape(tf.transpose(left, [0, 1, 3, 2]), [-1, e.k]) as tf.Tensor2D;
      m = tf.reshape(tf.matMul(back, qg), [b, k, p]);
    }
    const scale = tf.reshape(eigScales(e, delta, -0.5), [p]);
    return tf.mul(m, scale) as tf.Tensor3D;
  });
}

/**
 * `J_* (theta_s - theta_*) = F z` for the factor `F` `[B, K, P]` of {@link jacobianFactor} and
 * standard normal draws `z` of {@link noiseShape}: `[S, B, K]`.
 */
export function factorNoise(factor: tf.Tensor3D, z: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, k, p] = factor.shape;
    const s = z.shape[0] as number;
    const out = tf.matMul(
      tf.reshape(factor, [b * k, p]) as tf.Tensor2D,
      tf.reshape(z, [s, p]) as tf.Tensor2D,
      false,
      true,
    );
    return tf.transpose(tf.reshape(out, [b, k, s]), [2, 0, 1]) as tf.Tensor3D;
  });
}

/**
 * The posterior of one block under a per-parameter prior precision `delta` `[P]` (laplace-torch's
 * `prior_precision` of length `P`), as an eigen form to be used with prior precision `0`:
 *
 * $$H + \operatorname{diag}(\delta) = Q'\,\operatorname{diag}(\lambda')\,Q'^T,$$
 *
 * for `diag` simply `lambda'_i = lambda_i + delta_i` (`Q' = I`), for `full` the eigendecomposition
 * of the dense `H + diag(delta)` (float64). `kron` has no such form (`diag(delta)` does not factor
 * as `A (x) G`): the caller refuses it, as laplace-torch's `KronLaplace` does.
 */
export function withParamPrior(e: EigenCurvature, delta: Float64Array): EigenCurvature {
  const p = e.d1 * e.k;
  if (e.structure === 'diag') {
    return { ...e, lambda: Float64Array.from(e.lambda, (v, i) => v + (delta[i] as number)) };
  }
  if (e.structure !== 'full') {
    throw new Error(`withParamPrior: no per-parameter prior for structure '${e.structure}'`);
  }
  const h = denseFromEigen(e, 0, 1);
  for (let i = 0; i < p; i++) h[i * p + i] = (h[i * p + i] as number) + (delta[i] as number);
  const { lambda, q } = symEig(h, p);
  return { structure: 'full', d1: e.d1, k: e.k, lambda, qa: q };
}
