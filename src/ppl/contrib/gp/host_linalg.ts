/**
 * Cholesky factorization and triangular solves for the GP models as single differentiable ops,
 * computed on the host in float64 (one read of the operands, one upload of the result) with
 * their reverse-mode gradients in closed form. The tfjs-op versions of `utils/linalg.ts` cost
 * `O(n)` ops per call (and as many on the tape), which dominates a GP's step for `n` of a few
 * dozen and more; the Gram matrices here are `[n, n]` with `n` the data or inducing points.
 *
 * Gradients (Murray 2016, "Differentiation of the Cholesky decomposition"): for `A = L Lᵀ`,
 *
 * $$\bar A = \tfrac12 (S + S^\top),\qquad S = L^{-\top}\, Φ(L^\top \bar L)\, L^{-1},$$
 *
 * `Φ` the lower triangle with the diagonal halved; for `X = L⁻¹ B`: `B̄ = L⁻ᵀ X̄`,
 * `L̄ = -tril(B̄ Xᵀ)`; for `X = L⁻ᵀ B`: `B̄ = L⁻¹ X̄`, `L̄ = -tril(X B̄ᵀ)`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';

/** Lower Cholesky factor of one `n x n` block at `off` of `a` into `l` (float64). */
function cholBlock(a: ArrayLike<number>, l: Float64Array, off: number, n: number): void {
  for (let j = 0; j < n; j++) {
    let s = a[off + j * n + j] as number;
    for (let k = 0; k < j; k++) s -= (l[off + j * n + k] as number) ** 2;
    if (!(s > 0)) {
      throw new ArgumentError(
        'jitter',
        `the kernel matrix is not positive definite (pivot ${j} of ${n} is ${s}); increase jitter or the noise`,
      );
    }
    const d = Math.sqrt(s);
    l[off + j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[off + i * n + j] as number;
      for (let k = 0; k < j; k++)
        t -= (l[off + i * n + k] as number) * (l[off + j * n + k] as number);
      l[off + i * n + j] = t / d;
    }
  }
}

/**
 * Solve in place `T X = B` for the `n x m` block `x` (holding `B`), `T = L` (forward) or `Lᵀ`
 * (backward), `L` the `n x n` block at `lo` of `l`.
 */
function solveBlock(
  l: ArrayLike<number>,
  lo: number,
  x: Float64Array,
  xo: number,
  n: number,
  m: number,
  transpose: boolean,
): void {
  if (!transpose) {
    for (let i = 0; i < n; i++) {
      const d = l[lo + i * n + i] as number;
      for (let c = 0; c < m; c++) {
        let s = x[xo + i * m + c] as number;
        for (let k = 0; k < i; k++)
          s -= (l[lo + i * n + k] as number) * (x[xo + k * m + c] as number);
        x[xo + i * m + c] = s / d;
      }
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      const d = l[lo + i * n + i] as number;
      for (let c = 0; c < m; c++) {
        let s = x[xo + i * m + c] as number;
        for (let k = i + 1; k < n; k++)
          s -= (l[lo + k * n + i] as number) * (x[xo + k * m + c] as number);
        x[xo + i * m + c] = s / d;
      }
    }
  }
}

function lastSquare(a: tf.Tensor, arg: string): number {
  const n = a.shape[a.rank - 1] as number;
  if (a.rank < 2 || a.shape[a.rank - 2] !== n) {
    throw new ArgumentError(
      arg,
      `expected square matrices [..., n, n], got [${a.shape.join(',')}]`,
    );
  }
  return n;
}

/** `L⁻ᵀ P L⁻¹` symmetrized, for one block (the Cholesky gradient's last step). */
function choleskyGradBlock(
  L: Float64Array,
  Lbar: ArrayLike<number>,
  off: number,
  n: number,
  out: Float64Array,
): void {
  // P = Phi(L^T Lbar)
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++)
        s += (L[off + k * n + i] as number) * (Lbar[off + k * n + j] as number);
      P[i * n + j] = i === j ? s / 2 : s;
    }
  }
  // S = L^{-T} P L^{-1}: solve L^T Y = P, then S^T = L^{-T} Y^T
  solveBlock(L, off, P, 0, n, n, true);
  const Yt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Yt[j * n + i] = P[i * n + j] as number;
  solveBlock(L, off, Yt, 0, n, n, true); // Yt = S^T
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      out[off + i * n + j] = 0.5 * ((Yt[i * n + j] as number) + (Yt[j * n + i] as number));
    }
  }
}

/**
 * The lower Cholesky factor `L` of symmetric positive-definite `A [..., n, n]` (`A = L Lᵀ`, only
 * the lower triangle read), one differentiable op (gradient symmetrized, as torch's).
 * @throws ArgumentError naming `jitter` when a block is not positive definite.
 */
export function cholesky(a: tf.Tensor): tf.Tensor {
  const n = lastSquare(a, 'a');
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const data = x.dataSync();
    const out = new Float64Array(data.length);
    for (let off = 0; off < data.length; off += n * n) cholBlock(data, out, off, n);
    const L = tf.tensor(Float32Array.from(out), x.shape, 'float32');
    save([L]);
    return {
      value: L,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const Lh = Float64Array.from((saved[0] as tf.Tensor).dataSync());
        const dyh = dy.dataSync();
        const g = new Float64Array(Lh.length);
        for (let off = 0; off < Lh.length; off += n * n) choleskyGradBlock(Lh, dyh, off, n, g);
        return [tf.tensor(Float32Array.from(g), dy.shape, 'float32')];
      },
    };
  });
  return f(a);
}

/** Broadcast `l [n, n]` or `[..., n, n]` against `b [..., n, m]`: the batch count of each. */
function batchOf(l: tf.Tensor, b: tf.Tensor): number {
  const lb = l.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  if (lb.length > 0 && (lb.length !== bb.length || lb.some((d, i) => d !== bb[i]))) {
    throw new ArgumentError(
      'l',
      `expected [n, n] or the batch of b [${bb.join(',')}], got [${l.shape.join(',')}]`,
    );
  }
  return bb.reduce((p, d) => p * d, 1);
}

/**
 * Solve `L X = B` (or `Lᵀ X = B` with `transpose`) for lower-triangular `L [n, n]` (shared) or
 * `[..., n, n]` (the batch of `B`) and `B [..., n, m]`; one differentiable op.
 */
export function triangularSolve(l: tf.Tensor, b: tf.Tensor, transpose = false): tf.Tensor {
  const n = lastSquare(l, 'l');
  if (b.rank < 2 || b.shape[b.rank - 2] !== n) {
    throw new ArgumentError('b', `expected [..., ${n}, m], got [${b.shape.join(',')}]`);
  }
  const batches = batchOf(l, b);
  const shared = l.rank === 2;
  const m = b.shape[b.rank - 1] as number;
  const solveAll = (ld: ArrayLike<number>, rhs: Float64Array, tr: boolean): Float64Array => {
    for (let i = 0; i < batches; i++)
      solveBlock(ld, shared ? 0 : i * n * n, rhs, i * n * m, n, m, tr);
    return rhs;
  };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const lt = args[0] as tf.Tensor;
    const bt = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    const ld = lt.dataSync();
    const x = solveAll(ld, Float64Array.from(bt.dataSync()), transpose);
    const X = tf.tensor(Float32Array.from(x), bt.shape, 'float32');
    save([lt, X]);
    return {
      value: X,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const lh = (saved[0] as tf.Tensor).dataSync();
        const xh = (saved[1] as tf.Tensor).dataSync();
        const bbar = solveAll(lh, Float64Array.from(dy.dataSync()), !transpose);
        const lbar = new Float64Array(shared ? n * n : batches * n * n);
        for (let t = 0; t < batches; t++) {
          const lo = shared ? 0 : t * n * n;
          const xo = t * n * m;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j <= i; j++) {
              let s = 0;
              // X = L^{-1}B: Lbar_ij = -sum_c Bbar_ic X_jc; X = L^{-T}B: Lbar_ij = -sum_c X_ic Bbar_jc
              for (let c = 0; c < m; c++) {
                s += transpose
                  ? (xh[xo + i * m + c] as number) * (bbar[xo + j * m + c] as number)
                  : (bbar[xo + i * m + c] as number) * (xh[xo + j * m + c] as number);
              }
              lbar[lo + i * n + j] = (lbar[lo + i * n + j] as number) - s;
            }
          }
        }
        return [
          tf.tensor(Float32Array.from(lbar), (saved[0] as tf.Tensor).shape, 'float32'),
          tf.tensor(Float32Array.from(bbar), dy.shape, 'float32'),
        ];
      },
    };
  });
  return f(l, b);
}
